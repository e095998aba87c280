/**
 * Runs the shipped CI workflow (`examples/ci/smartfleet-check.yml`) the way GitHub Actions
 * would on a push, on a copy of this repository: every `run:` step in bash `-eo pipefail`
 * with `$GITHUB_OUTPUT`, each step's `if:` evaluated, on a PATH that holds an older Node
 * (Node 20 where the machine has one), npm and basic tools but no Go and no Pulumi CLI, and
 * an empty toolchain cache. The GitHub-only steps stand in as follows: checkout is the copy,
 * setup-node is that PATH, `npm ci` links the project's node_modules and dist (built by
 * `npm test` before the tests), the SARIF upload reads the file it would upload.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { expandGlob } from "../../cli/stack-files";

const repo = path.resolve(__dirname, "..", "..");
const workflowFile = path.join(repo, "examples", "ci", "smartfleet-check.yml");

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string>;
}

/** Tools the workflow's shell lines use besides node and npm. */
const TOOLS = ["bash", "sh", "env", "cat", "echo", "mkdir", "rm", "cp", "ln", "dirname", "sed", "grep", "head", "sort", "mktemp", "uname"];

function which(tool: string): string | undefined {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim() || undefined;
}

/** The oldest usable node on this machine (>= 20): the CI job's Node, not the toolchain's. */
function olderNode(): string {
  const candidates = ["/usr/bin/node", "/usr/local/bin/node", process.execPath].filter((p) => fs.existsSync(p));
  const major = (p: string) => Number(spawnSync(p, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" }).stdout.trim());
  return candidates.filter((p) => major(p) >= 20).sort((a, b) => major(a) - major(b))[0];
}

/** A bin folder with node, npm, npx and basic tools, and nothing else: no go, no pulumi. */
function ciPath(dir: string): string {
  fs.mkdirSync(dir);
  const node = olderNode();
  fs.symlinkSync(node, path.join(dir, "node"));
  const npmCli = path.join(path.dirname(fs.realpathSync(which("npm") ?? "/usr/bin/npm")));
  fs.symlinkSync(path.join(npmCli, "npm-cli.js"), path.join(dir, "npm"));
  fs.symlinkSync(path.join(npmCli, "npx-cli.js"), path.join(dir, "npx"));
  for (const tool of TOOLS) {
    const found = which(tool);
    if (found?.startsWith("/")) fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

/** Copies the repository's files (tracked and new, not ignored) as a checkout would. */
function checkout(into: string): void {
  const listed = spawnSync("git", ["ls-files", "-co", "--exclude-standard", "-z"], { cwd: repo, encoding: "utf8" });
  expect(listed.status).toBe(0);
  for (const file of listed.stdout.split("\0").filter(Boolean)) {
    const from = path.join(repo, file);
    if (!fs.existsSync(from)) continue; // deleted in the working tree
    fs.mkdirSync(path.dirname(path.join(into, file)), { recursive: true });
    fs.copyFileSync(from, path.join(into, file));
  }
}

/** Files a hashFiles() pattern of the workflow matches in this repository (`dir/**` is everything below dir). */
function expandGlobAll(pattern: string): string[] {
  return pattern.endsWith("/**") ? expandGlob(path.join(repo, pattern, "*")) : expandGlob(path.join(repo, pattern));
}

/** Evaluates the `if:` expressions the workflow uses, for a push event. */
function condition(expr: string | undefined, outputs: Record<string, Record<string, string>>): boolean {
  if (!expr) return true;
  const compare = /^steps\.([\w-]+)\.outputs\.([\w-]+) (!=|==) '([^']*)'$/.exec(expr.trim());
  if (compare) {
    const value = outputs[compare[1]]?.[compare[2]] ?? "";
    return compare[3] === "==" ? value === compare[4] : value !== compare[4];
  }
  if (expr.trim() === "always()") return true;
  if (expr.includes("github.event_name == 'pull_request'")) return false;
  throw new Error(`the test cannot evaluate the workflow condition '${expr}'; teach it`);
}

function readOutputs(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  return Object.fromEntries(
    fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("the CI workflow example", () => {
  const made: string[] = [];
  afterAll(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it("passes on this repository with Node >= 20 and no Go or Pulumi on PATH, running each step as Actions would", () => {
    const workflow = parse(fs.readFileSync(workflowFile, "utf8")) as { jobs: Record<string, { steps: Step[] }> };
    const steps = workflow.jobs.check.steps;
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-ci-"));
    made.push(root);
    const work = path.join(root, "repo");
    const bin = ciPath(path.join(root, "bin"));
    const env: NodeJS.ProcessEnv = {
      PATH: bin,
      HOME: path.join(root, "home"),
      SMARTFLEET_TOOLCHAIN_DIR: path.join(root, "toolchain-cache"),
      npm_config_cache: path.join(root, "npm-cache"),
      npm_config_update_notifier: "false",
      CI: "true",
    };
    fs.mkdirSync(env.HOME!);
    const outputs: Record<string, Record<string, string>> = {};
    const ran: string[] = [];
    for (const step of steps) {
      if (!condition(step.if, outputs)) continue;
      const label = step.name ?? step.uses ?? step.run ?? "";
      if (step.uses?.startsWith("actions/checkout")) checkout(work);
      else if (step.uses?.startsWith("actions/setup-node")) expect(Number(step.with?.["node-version"])).toBeGreaterThanOrEqual(20);
      else if (step.uses?.startsWith("github/codeql-action/upload-sarif")) {
        const sarif = JSON.parse(fs.readFileSync(path.join(work, step.with!.sarif_file), "utf8"));
        expect(sarif.runs[0].results).toEqual([]);
      } else if (step.run?.trim() === "npm ci") {
        fs.symlinkSync(path.join(repo, "node_modules"), path.join(work, "node_modules"));
        fs.cpSync(path.join(repo, "dist"), path.join(work, "dist"), { recursive: true });
      } else if (step.run) {
        const outputFile = path.join(root, `output-${ran.length}`);
        const result = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run], {
          cwd: work,
          env: { ...env, GITHUB_OUTPUT: outputFile },
          encoding: "utf8",
          timeout: 120_000,
        });
        expect(result.status, `step '${label}' failed:\n${result.stdout}\n${result.stderr}`).toBe(0);
        if (step.id) outputs[step.id] = readOutputs(outputFile);
      } else throw new Error(`the test does not know the action '${step.uses}'; teach it`);
      ran.push(label);
    }
    expect(outputs.sarif?.exit).toBe("0");
    expect(ran).toContain("Check stacks (SARIF)");
    expect(ran).not.toContain("Fail on policy errors or invalid stacks");
    expect(fs.readFileSync(path.join(work, "smartfleet.md"), "utf8")).toContain("smartfleet check: passed");
    // Nothing of the toolchain was fetched or built.
    expect(fs.existsSync(env.SMARTFLEET_TOOLCHAIN_DIR!)).toBe(false);
  }, 240_000);

  it("caches the toolchain in the job that needs Pulumi (plan), keyed on the files that define it, before anything builds it", () => {
    const workflow = parse(fs.readFileSync(workflowFile, "utf8")) as { jobs: Record<string, { if?: string; steps: Step[] }> };
    expect(workflow.jobs.check.steps.some((s) => s.uses?.startsWith("actions/cache"))).toBe(false); // check needs no toolchain
    const steps = workflow.jobs.plan.steps;
    const cache = steps.findIndex((s) => s.uses?.startsWith("actions/cache"));
    expect(cache).toBeGreaterThan(0);
    // The folder scripts/toolchain.sh keeps the toolchain in when neither SMARTFLEET_TOOLCHAIN_DIR nor XDG_CACHE_HOME is set (as on a runner).
    const toolchainScript = fs.readFileSync(path.join(repo, "scripts", "toolchain.sh"), "utf8");
    expect(toolchainScript).toContain("${SMARTFLEET_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smartfleet/toolchain}");
    expect(steps[cache].with?.path).toBe("~/.cache/smartfleet/toolchain");
    const hashed = [...(steps[cache].with?.key ?? "").matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(hashed.length).toBeGreaterThan(0);
    for (const pattern of hashed) expect(expandGlobAll(pattern), `${pattern} matches nothing`).not.toHaveLength(0);
    const firstUse = steps.findIndex((s) => /npm run toolchain|smartfleet(\.js)? plan|npm run pulumi/.test(s.run ?? ""));
    expect(firstUse).toBeGreaterThan(cache);
    const goMod = steps.find((s) => s.uses?.startsWith("actions/setup-go"))?.with?.["go-version-file"];
    expect(fs.existsSync(path.join(repo, goMod ?? "missing"))).toBe(true);
  });
});
