/**
 * README "Everyday use", run as written: the first `sh` block under that heading is read
 * from README.md (so the test breaks when the README drifts) and each line runs in bash, in
 * order, in a copy of the repository (tracked and new files, node_modules linked, dist
 * copied) with the lab inventory moved onto this file's address block, 127.212.0.x. Only
 * what a person brings is supplied: the management password typed at the prompt of
 * `config set --secret` (on stdin) and the "yes" of `pulumi up` (PULUMI_SKIP_CONFIRMATIONS).
 * `npx smartfleet` resolves to the copy's own bin (npx would first install the checkout into
 * its cache, which is npm's business, not ours). The environment carries none of the test
 * run's Pulumi settings, so the copy's toolchain makes its own backend and passphrase.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/pulumi";

const ADDRESS_BLOCK = "127.212.0";

/** The commands of the README's "Everyday use" block, comments removed. */
export function everydayCommands(readme: string): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Everyday use"));
  if (!section) throw new Error("README.md has no '## Everyday use' section");
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error("README.md's Everyday use has no sh block");
  return block[1]
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

function copyRepository(into: string): void {
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: repoRoot, encoding: "utf8" });
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = path.join(repoRoot, file);
    if (!fs.existsSync(from) || fs.statSync(from).isDirectory()) continue;
    fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    fs.copyFileSync(from, path.join(into, file));
  }
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(into, "node_modules"), "dir");
  fs.cpSync(path.join(repoRoot, "dist"), path.join(into, "dist"), { recursive: true });
}

function relocate(inventory: string): void {
  const doc = YAML.parseDocument(fs.readFileSync(inventory, "utf8"));
  const hosts = doc.toJS().hosts as Array<{ smartnics: unknown[] }>;
  let n = 0;
  hosts.forEach((host, h) => host.smartnics.forEach((_nic, i) => doc.setIn(["hosts", h, "smartnics", i, "management", "address"], `${ADDRESS_BLOCK}.${++n}`)));
  fs.writeFileSync(inventory, doc.toString());
}

/** The environment of a person's shell: no Pulumi or smartfleet settings of the test run, `npx smartfleet` on the copy. */
function shellEnv(root: string, work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PULUMI_|SMARTFLEET_|npm_|VITEST|NODE_OPTIONS)/.test(k)) env[k] = v;
  const shim = path.join(root, "shim");
  fs.mkdirSync(shim);
  fs.writeFileSync(
    path.join(shim, "npx"),
    `#!/bin/sh\n[ "$1" = smartfleet ] || { echo "this test runs only npx smartfleet, not npx $1" >&2; exit 127; }\nshift\nexec node ${JSON.stringify(path.join(work, "cli", "bin", "smartfleet.js"))} "$@"\n`,
    { mode: 0o755 },
  );
  return { ...env, PATH: `${shim}:${env.PATH}`, PULUMI_SKIP_CONFIRMATIONS: "true", NO_COLOR: "1" };
}

describe("README Everyday use", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-everyday-"));
  const work = path.join(root, "repo");
  afterAll(() => {
    // Whatever happened, no emulator stays behind.
    spawnSync(process.execPath, [path.join(work, "cli", "bin", "smartfleet.js"), "emulator", "stop", "--state", ".smartfleet/emulator/lab"], { cwd: work, env: shellEnv(fs.mkdtempSync(path.join(root, "x")), work) });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("runs every step as written, in a copy of the repository", () => {
    const commands = everydayCommands(fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"));
    expect(commands.length).toBeGreaterThan(5);
    copyRepository(work);
    relocate(path.join(work, "examples", "lab", "fleet.yaml"));
    const env = shellEnv(root, work);
    const password = "Everyday-use-1";
    const outputs: string[] = [];
    for (const command of commands) {
      const started = Date.now();
      const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", command], {
        cwd: work,
        env,
        input: command.includes("config set --secret") ? `${password}\n` : "",
        encoding: "utf8",
        timeout: 240_000,
      });
      outputs.push(`$ ${command}  (${Date.now() - started} ms)\n${result.stdout}${result.stderr}`);
      expect(result.status, outputs.join("\n")).toBe(0);
    }
    const all = outputs.join("\n");
    expect(all).toMatch(/1 stack checked: 0 errors/);
    expect(all).toContain("skipped stacks/Pulumi.lab.yaml");
    // The stack settings committed in the repository name the folder the emulator wrote into.
    const named = (YAML.parse(fs.readFileSync(path.join(work, "stacks", "Pulumi.lab.yaml"), "utf8")) as { config: Record<string, string> }).config["smartfleet:endpoints"];
    expect(fs.existsSync(path.join(work, named))).toBe(true);
    expect(all).toMatch(/Resources:\s*\n\s*\+ \d+ created/);
    // The secret typed at the prompt is stored as ciphertext, never in the clear.
    const settings = fs.readFileSync(path.join(work, "stacks", "Pulumi.lab.yaml"), "utf8");
    expect(settings).toContain("secure:");
    expect(settings).not.toContain(password);
  }, 600_000);
});
