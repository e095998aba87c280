import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

// Runs the installed entry point as a user would; it needs the compiled dist/ (npm run build).
const root = path.resolve(__dirname, "..", "..");
const bin = path.join(root, "cli", "bin", "smartfleet.js");
const smartfleet = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(() => {
  if (!fs.existsSync(path.join(root, "dist", "cli", "args.js"))) throw new Error("dist/cli/args.js is missing: run `npm run build` first");
});

describe("smartfleet (the bin)", () => {
  it.each([["--help"], ["-h"], ["help"]])("prints the usage with every command on stdout and exits 0 for %s", (arg) => {
    const out = smartfleet(arg);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage: smartfleet <command> [options]");
    for (const command of ["emulator", "check", "render", "generate-fleet"]) expect(out.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it.each(["check", "render", "emulator", "generate-fleet"])("prints the usage of %s on stdout and exits 0, with --help and with help <command>", (command) => {
    for (const out of [smartfleet(command, "--help"), smartfleet("help", command)]) {
      expect(out).toMatchObject({ code: 0, stderr: "" });
      expect(out.stdout).toContain(`usage: smartfleet ${command}`);
    }
  });

  it.each(["--version", "-V"])("prints the package version and exits 0 for %s", (arg) => {
    const { version } = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { version: string };
    expect(smartfleet(arg)).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("fails if no command is given: usage on stderr, exit 2", () => {
    const out = smartfleet();
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain("usage: smartfleet <command> [options]");
  });

  it("fails if the command is unknown: exit 2 naming it, with a pointer to --help", () => {
    for (const args of [["deploy"], ["help", "deploy"]]) {
      const out = smartfleet(...args);
      expect(out).toMatchObject({ code: 2, stdout: "" });
      expect(out.stderr).toContain("unknown command 'deploy'");
      expect(out.stderr).toContain("run 'smartfleet --help'");
    }
  });

  it("fails if an option before the command is unknown: exit 2 naming it", () => {
    const out = smartfleet("--bogus", "check");
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown option '--bogus'");
  });

  it("fails if a command's option has no value: exit 2 naming it, nothing on stdout", () => {
    const out = smartfleet("check", "examples/stacks/lab-east.yaml", "--output");
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain("smartfleet check: option --output needs a value (FILE)");
  });

  it("fails if a command's option is unknown: exit 2 naming it", () => {
    const out = smartfleet("generate-fleet", "--hosts", "1", "--nics-per-host", "1", "--bogus");
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("unknown option '--bogus'");
  });
});
