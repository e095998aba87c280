import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

// The plain-JS scripts parse with node:util parseArgs. Every command line below asks for
// help or is wrong, so no script gets past its argument parsing (nothing is built or started).
const root = path.resolve(__dirname, "..", "..");
const script = (file: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(root, file), ...args], { cwd: root, encoding: "utf8", timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

const scripts: Array<{ file: string; valued: string[] }> = [
  { file: "scripts/demo.js", valued: ["--time-scale", "--stack"] },
  {
    file: "scripts/bench.js",
    valued: ["--dpus", "--scenario", "--runs", "--tools", "--time-scale", "--parallel", "--order", "--commit", "--deadline", "--ansible-max-dpus", "--ansible-runs", "--out"],
  },
  { file: "bench/e2e-timing.js", valued: ["--hosts", "--nics-per-host", "--runs", "--parallel"] },
  { file: "scripts/codegen.js", valued: [] },
];

describe.each(scripts)("$file arguments", ({ file, valued }) => {
  it.each(["--help", "-h"])("prints the usage on stdout and exits 0 for %s", (arg) => {
    const out = script(file, arg);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage");
  });

  it("fails if an option is unknown: exit 2 naming it", () => {
    const out = script(file, "--bogus");
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain("'--bogus'");
  });

  if (valued.length === 0) return; // codegen takes only --check

  it.each(valued)("fails if %s has no value: exit 2 naming it", (option) => {
    const out = script(file, option);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`'${option} <value>' argument missing`);
  });

  it("fails if an option would take the next --flag as its value: exit 2 naming it", () => {
    const out = script(file, valued[0], "--help");
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`Option '${valued[0]}' argument is ambiguous`);
  });
});
