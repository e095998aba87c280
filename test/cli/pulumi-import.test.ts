/**
 * `npm run pulumi -- import ...` (scripts/pulumi.js inside the toolchain) explains that
 * adoption is `up` instead of dying with the dynamic-provider shim's Node stack trace;
 * every other command reaches pulumi unchanged, with its exit code.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const bin = fs.mkdtempSync(path.join(os.tmpdir(), "sf-fake-pulumi-"));
afterAll(() => fs.rmSync(bin, { recursive: true, force: true }));
// A stand-in pulumi that reports its arguments, so the test needs no toolchain.
fs.writeFileSync(path.join(bin, "pulumi"), '#!/bin/sh\necho "pulumi got: $*"\nexit 7\n', { mode: 0o755 });

const run = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, "scripts", "pulumi.js"), ...args], { encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });

describe("npm run pulumi", () => {
  it.each([
    ["import", "pulumi-nodejs:dynamic:Resource", "esx-01-nic1", "MT0000000001", "--yes"],
    ["--stack", "lab", "import", "pulumi-nodejs:dynamic:Resource", "x", "y"],
  ])("answers import with 'adoption is up' and no stack trace: %s", (...args) => {
    const out = run(...args);
    expect(out.status).toBe(2);
    expect(out.stdout).not.toContain("pulumi got");
    expect(out.stderr).toContain("`pulumi import` cannot adopt smartfleet resources");
    expect(out.stderr).toContain("Adoption is `up`");
    expect(out.stderr).toContain("npx smartfleet plan --stack NAME");
    expect(out.stderr).not.toMatch(/^\s+at /m);
  });

  it("passes every other command to pulumi as it is, with its exit code", () => {
    const out = run("--stack", "lab", "config", "get", "import");
    expect(out.stdout).toBe("pulumi got: --stack lab config get import\n");
    expect(out.status).toBe(7);
  });
});
