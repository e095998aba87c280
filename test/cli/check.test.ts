import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/commands/check";
import { capture } from "./capture";

const stack = path.resolve(__dirname, "..", "..", "examples", "stacks", "lab-east.yaml");

describe("smartfleet check arguments", () => {
  it.each([["--help"], ["-h"], [stack, "--bogus", "--help"]])("prints the usage on stdout and exits 0 for %s", async (...args) => {
    const out = await capture(run, args);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage: smartfleet check");
    expect(out.stdout).toContain("--format");
    expect(out.stdout).toContain("--output FILE");
  });

  it.each(["--format", "-f", "--output", "-o"])("fails if %s has no value: exit 2, stderr names the option", async (option) => {
    const out = await capture(run, [stack, option]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`option ${option}`);
    expect(out.stderr).toContain("needs a value");
    expect(out.stderr).toContain("smartfleet check --help");
  });

  it("fails if --output would take the next --flag as its file name", async () => {
    const out = await capture(run, [stack, "--output", "--format", "json"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("option --output needs a value (FILE)");
  });

  it("fails if an option is unknown: exit 2 naming it", async () => {
    const out = await capture(run, [stack, "--bogus"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown option '--bogus'");
  });

  it("fails if the format is not one of the four: exit 2 naming the format", async () => {
    const out = await capture(run, [stack, "--format=xml"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown format 'xml' (--format takes text, json, sarif, markdown)");
  });

  it("fails if no stack file is given: exit 2", async () => {
    const out = await capture(run, ["--format", "json"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("missing STACK");
  });

  it("accepts -f and -o as the short forms of --format and --output", async () => {
    const out = await capture(run, [stack, "-f", "json"]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toHaveProperty("summary");
  });
});
