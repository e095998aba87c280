import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/pulumi";

/** Tools toolchain.sh itself needs; a PATH of only these has no node, npm, go or pulumi. */
const basicTools = ["bash", "sh", "sort", "head", "dirname", "mkdir", "mktemp", "flock", "cat", "sed",
  "tar", "rm", "mv", "cp", "cmp", "chmod", "base64", "printf", "env", "gzip"];

function isolatedBin(extra: Record<string, string> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-bin-"));
  for (const tool of basicTools) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (found) fs.symlinkSync(found, path.join(dir, tool));
  }
  for (const [name, target] of Object.entries(extra)) fs.symlinkSync(target, path.join(dir, name));
  return dir;
}

function runToolchain(binDir: string, cacheDir: string) {
  return spawnSync(path.join(repoRoot, "scripts/toolchain.sh"), ["check"], {
    encoding: "utf8",
    env: { PATH: binDir, HOME: cacheDir, SMARTFLEET_TOOLCHAIN_DIR: cacheDir },
  });
}

describe("toolchain bootstrap", () => {
  const made: string[] = [];
  const temp = (p: string) => (made.push(p), p);
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("reports the node and pulumi it uses", () => {
    const result = spawnSync(path.join(repoRoot, "scripts/toolchain.sh"), ["check"], { encoding: "utf8" });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/node\s+v(2[2-9]|[3-9]\d)\./);
    expect(result.stderr).toMatch(/pulumi\s+v3\.\d+\.\d+/);
  });

  it("fails if there is neither a Node.js >= 22 nor npm to fetch one, saying what to install", () => {
    const result = runToolchain(temp(isolatedBin()), temp(fs.mkdtempSync(path.join(os.tmpdir(), "sf-cache-"))));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Node.js >= 22 is needed and npm is missing to fetch it");
    expect(result.stderr).toContain("install Node.js 22 or newer");
  });

  it("fails if there is neither a Pulumi CLI nor Go to build one, saying what to install", () => {
    const node = spawnSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).stdout.trim();
    const result = runToolchain(temp(isolatedBin({ node })), temp(fs.mkdtempSync(path.join(os.tmpdir(), "sf-cache-"))));
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("no Pulumi CLI >= 3.274.1 on PATH and no Go to build one");
    expect(result.stderr).toContain("install the Pulumi CLI");
  });

  it("runs the smartfleet bin under Node >= 22 even when started by an older node", () => {
    const older = ["/usr/local/bin/node", "/usr/bin/node"].find((p) => fs.existsSync(p));
    const launcher = older ?? process.execPath;
    const env = { ...process.env };
    delete env.SMARTFLEET_ROOT; // as if started outside the toolchain, e.g. by `npx smartfleet`
    // emulator needs node:sqlite (Node >= 22); check, render, graph and help run on the older node as they are.
    const result = spawnSync(launcher, [path.join(repoRoot, "cli/bin/smartfleet.js"), "emulator", "--help"], { encoding: "utf8", env });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("usage: smartfleet emulator <command>");
  });
});
