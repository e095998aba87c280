import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import { localStack, makeSandbox, readCheckpoint, repoRoot, type PulumiSandbox } from "../support/pulumi";

/**
 * The toolchain smoke test: the real Pulumi CLI and engine run a dynamic provider shaped
 * like smartfleet's (one module-level provider, implementation required at call time)
 * through create, in-place update, no-change preview and destroy.
 */
describe("toolchain smoke: a dynamic resource through the real Pulumi CLI", () => {
  let sandbox: PulumiSandbox;
  let stack: Stack;
  let workDir: string;
  let labelDir: string;

  beforeAll(async () => {
    sandbox = await makeSandbox("smartfleet-smoke-");
    // A copy of the fixture project, linked to the repo's node_modules, so the test never
    // writes stack config into the source tree.
    workDir = path.join(sandbox.dir, "project");
    fs.cpSync(path.join(repoRoot, "test/e2e/fixtures/smoke"), workDir, { recursive: true });
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"), "dir");
    labelDir = path.join(sandbox.dir, "labels");
    fs.mkdirSync(labelDir);
    sandbox.envVars.LABEL_DIR = labelDir;
    stack = await localStack(sandbox, workDir, "smoke");
    await stack.setConfig("text", { value: "first" });
  });

  afterAll(() => sandbox?.cleanup());

  it("creates the resource with pulumi up", async () => {
    const result = await stack.up();
    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toMatchObject({ create: 2 });
    expect(result.outputs.rendered.value).toBe("[first]");
    const files = fs.readdirSync(labelDir);
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(labelDir, files[0]), "utf8")).toBe("first");
  });

  it("keeps the serialized provider under 2 KB per resource", () => {
    const resources = readCheckpoint(sandbox, "smartfleet-smoke", "smoke").checkpoint.latest?.resources ?? [];
    const dynamic = resources.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource");
    expect(dynamic).toHaveLength(1);
    for (const r of dynamic) {
      const provider = String(r.outputs?.__provider ?? r.inputs?.__provider ?? "");
      expect(provider.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(provider)).toBeLessThan(2048);
    }
  });

  it("updates in place on a changed input, without a replace", async () => {
    await stack.setConfig("text", { value: "second" });
    const result = await stack.up();
    expect(result.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(result.summary.resourceChanges?.replace ?? 0).toBe(0);
    expect(result.summary.resourceChanges?.create ?? 0).toBe(0);
    expect(result.outputs.rendered.value).toBe("[second]");
    const files = fs.readdirSync(labelDir);
    expect(files).toHaveLength(1);
    expect(fs.readFileSync(path.join(labelDir, files[0]), "utf8")).toBe("second");
  });

  it("shows no changes in preview when nothing changed", async () => {
    const result = await stack.preview();
    expect(result.changeSummary).toEqual({ same: 2 });
  });

  it("fails if an input breaks the provider's check, naming the property", async () => {
    await stack.setConfig("text", { value: "" });
    await expect(stack.preview()).rejects.toThrow(/text must be a non-empty string/);
    await stack.setConfig("text", { value: "second" });
  });

  it("removes the resource with pulumi destroy", async () => {
    const result = await stack.destroy();
    expect(result.summary.resourceChanges).toMatchObject({ delete: 2 });
    expect(fs.readdirSync(labelDir)).toHaveLength(0);
  });
});
