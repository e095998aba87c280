import { describe, expect, it } from "vitest";
import { run } from "../../cli/commands/emulator";
import { capture } from "./capture";

// Argument handling only: every command line here fails or asks for help, so no emulator starts.
describe("smartfleet emulator arguments", () => {
  it.each([["--help"], ["-h"]])("prints the sub-commands on stdout and exits 0 for %s", async (...args) => {
    const out = await capture(run, args);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage: smartfleet emulator <command>");
    for (const sub of ["start", "stop", "status"]) expect(out.stdout).toMatch(new RegExp(`^  ${sub} `, "m"));
  });

  it.each(["start", "stop", "status"])("prints the usage of %s on stdout and exits 0 for --help", async (sub) => {
    const out = await capture(run, [sub, "--help"]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain(`usage: smartfleet emulator ${sub}`);
    expect(out.stdout).toContain("--state DIR");
  });

  it("fails if no sub-command is given: usage on stderr, exit 2", async () => {
    const out = await capture(run, []);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain("usage: smartfleet emulator <command>");
  });

  it("fails if the sub-command is unknown: exit 2 naming it", async () => {
    const out = await capture(run, ["restart"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown command 'restart'");
  });

  it.each([
    ["start", "--inventory", []],
    ["start", "--state", ["--inventory", "fleet.yaml"]],
    ["start", "--time-scale", ["--inventory", "fleet.yaml"]],
    ["start", "--seed", ["--inventory", "fleet.yaml"]],
    ["start", "--admin-port", ["--inventory", "fleet.yaml"]],
    ["stop", "--state", []],
    ["status", "--state", []],
  ])("fails if %s %s has no value: exit 2, stderr names the option", async (sub, option, before) => {
    const out = await capture(run, [sub, ...before, option]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`option ${option} needs a value`);
  });

  it("fails if --state would take the next --flag as its directory", async () => {
    const out = await capture(run, ["start", "--state", "--inventory", "fleet.yaml"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("option --state needs a value (DIR)");
  });

  it.each([
    ["start", "--inventory", "fleet.yaml"],
    ["stop"],
    ["status"],
  ])("fails if %s gets an unknown option: exit 2 naming it", async (...args) => {
    const out = await capture(run, [...args, "--bogus"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown option '--bogus'");
  });

  it("fails if a number option is not a number >= 0, naming it", async () => {
    for (const [option, value] of [["--time-scale", "fast"], ["--seed", "abc"], ["--admin-port=-1", undefined]] as const) {
      const out = await capture(run, ["start", "--inventory", "fleet.yaml", option, ...(value === undefined ? [] : [value])]);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain(`option ${option.split("=")[0]} needs a number >= 0`);
    }
  });

  it("fails if start has no --inventory, naming it", async () => {
    const out = await capture(run, ["start", "--detach"]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("missing option --inventory FILE");
  });
});
