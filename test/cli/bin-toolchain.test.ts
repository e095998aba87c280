/**
 * Which commands the `smartfleet` bin runs without the toolchain: check, render, graph and
 * help read files only and run on the node that started the bin (the oldest >= 20 on this
 * machine), with no Pulumi CLI or Go on PATH and an empty toolchain cache, which stays
 * empty; the others (emulator, plan, graph --live) still go to scripts/toolchain.sh, which
 * here finds nothing to use and says so.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = path.resolve(__dirname, "..", "..");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-bin-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The oldest node >= 20 on this machine. */
function olderNode(): string {
  const major = (p: string) => Number(spawnSync(p, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" }).stdout.trim());
  return ["/usr/bin/node", "/usr/local/bin/node", process.execPath].filter((p) => fs.existsSync(p) && major(p) >= 20).sort((a, b) => major(a) - major(b))[0];
}

/** A PATH with node and the tools toolchain.sh uses, but no pulumi, go or npm. */
function bareBin(): string {
  const dir = path.join(root, "bin");
  fs.mkdirSync(dir);
  fs.symlinkSync(olderNode(), path.join(dir, "node"));
  for (const tool of ["bash", "sh", "sort", "head", "dirname", "mkdir", "mktemp", "flock", "cat", "sed", "tar", "rm", "mv", "cp", "cmp", "chmod", "base64", "printf", "env", "gzip"]) {
    const found = spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
    if (found.startsWith("/")) fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}

const bin = bareBin();
const cache = path.join(root, "toolchain-cache");
const smartfleet = (...args: string[]) =>
  spawnSync(path.join(bin, "node"), [path.join(repo, "cli", "bin", "smartfleet.js"), ...args], {
    cwd: repo,
    encoding: "utf8",
    env: { PATH: bin, HOME: path.join(root, "home"), SMARTFLEET_TOOLCHAIN_DIR: cache },
    timeout: 60_000,
  });

describe("the smartfleet bin without the toolchain", () => {
  it.each([
    [["check", "stacks"], "1 stack checked: 0 errors"],
    [["render", "stacks/lab.yaml"], "kind: Stack"],
    [["help"], "usage: smartfleet <command>"],
    [["--version"], "."],
  ])("runs %j on the older node", (args, expected) => {
    const out = smartfleet(...args);
    expect(out.status, out.stderr).toBe(0);
    expect(out.stdout).toContain(expected);
    expect(fs.existsSync(cache)).toBe(false);
  });

  it.each([[["emulator", "status"]], [["plan", "--stack", "lab"]], [["graph", "stacks/lab.yaml", "--live", "--stack", "lab"]]])(
    "sends %j to the toolchain, which says what is missing",
    (args) => {
      const out = smartfleet(...args);
      expect(out.status).not.toBe(0);
      expect(out.stderr).toMatch(/Node\.js >= 22 is needed|no Pulumi CLI/);
    },
  );
});
