import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/commands/render";
import { capture } from "./capture";

const stack = path.resolve(__dirname, "..", "..", "examples", "stacks", "lab-east.yaml");

describe("smartfleet render arguments", () => {
  it.each([["--help"], ["-h"]])("prints the usage on stdout and exits 0 for %s", async (...args) => {
    const out = await capture(run, args);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage: smartfleet render [options] STACK");
    expect(out.stdout).toContain("--format yaml|json");
  });

  it.each(["--format", "-f"])("fails if %s has no value: exit 2, stderr names the option", async (option) => {
    const out = await capture(run, [stack, option]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`option ${option}`);
    expect(out.stderr).toContain("needs a value");
  });

  it("fails if an option is unknown: exit 2 naming it", async () => {
    const out = await capture(run, [stack, "--bogus"]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain("unknown option '--bogus'");
  });

  it("fails if the format is neither yaml nor json", async () => {
    const out = await capture(run, [stack, "--format", "toml"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown format 'toml'");
  });

  it("fails if there is not exactly one stack file", async () => {
    expect((await capture(run, [])).stderr).toContain("missing STACK");
    const two = await capture(run, [stack, stack]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("unexpected argument");
  });

  it("renders JSON with --format json", async () => {
    const out = await capture(run, [stack, "--format", "json"]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toHaveProperty("hosts");
  });
});
