import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { run } from "../../cli/commands/plan";
import { capture } from "./capture";

const bin = path.resolve(__dirname, "..", "..", "cli", "bin", "smartfleet.js");
/** The built command, as a user runs it (`npm test` builds first). */
function smartfleet(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sf-plan-cli-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("smartfleet plan: arguments", () => {
  it("is a command of smartfleet, with a help that names the exit codes and --fail-on kinds", () => {
    const help = smartfleet("help", "plan");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: smartfleet plan [options] [STACKFILE]");
    expect(help.stdout).toMatch(/--shard S,\.\.\. +a sharded STACKFILE: plan these parts only/);
    expect(help.stdout).toMatch(/1: a policy error \(e\.g\. SF008, SF011\) or a kind named in --fail-on/);
    expect(help.stdout).toContain("host-power-cycle, host-os-install, pair-unprotected, workload-outage, maintenance");
    const list = smartfleet("--help");
    expect(list.stdout).toMatch(/\n {2}plan +show what an up would do/);
  });

  it("exits 2 without a stack file or --stack, with an unknown format or an unknown --fail-on kind, with --shard of a file without shards", async () => {
    const nothing = await capture(run, []);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain("smartfleet plan: name the stack: a STACKFILE or --stack NAME");
    const unsharded = await capture(run, [path.resolve(__dirname, "..", "..", "stacks", "lab.yaml"), "--shard", "r1"]);
    expect(unsharded.code).toBe(2);
    expect(unsharded.stderr).toMatch(/--shard: .*lab\.yaml declares no shards/);
    const missing = await capture(run, ["stacks/no-such.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("smartfleet plan: no stack file stacks/no-such.yaml");
    expect((await capture(run, ["--stack", "lab", "--format", "html"])).code).toBe(2);
    const bad = await capture(run, ["--stack", "lab", "--fail-on", "dpu-reboot,reboot"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown --fail-on kind 'reboot'");
  });

  it("exits 2 outside a Pulumi project", async () => {
    const out = await capture(run, ["--stack", "lab", "--cwd", tmp]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain(`no Pulumi.yaml in ${tmp} or above`);
  });
});
