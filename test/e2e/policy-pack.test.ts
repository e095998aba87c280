import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import { countFleet, editStackFile, endpointsFileOf, fleetState, labStack, makeLabProject, startLabEmulator, type LabProject } from "./lab";

/**
 * The CrossGuard pack (`policies/`) through `pulumi preview --policy-pack`: the lab stack
 * passes; a stack that breaks a rule (a waiver in the stack file lets the program itself
 * declare it, but CrossGuard does not see stack files) is rejected naming the rule, and
 * nothing is touched.
 */
describe("pulumi preview --policy-pack policies", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  let policyPack: string;

  beforeAll(async () => {
    project = await makeLabProject("127.203.0");
    policyPack = path.join(project.workDir, "policies");
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "policy", endpointsFileOf(project));
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("passes the lab stack", async () => {
    const result = await stack.preview({ policyPacks: [policyPack], parallel: 32 });
    expect(result.stdout).toMatch(/Policies:\s+✅ smartfleet@v0\.1\.0/);
    expect(result.changeSummary).toMatchObject({ create: expect.any(Number) });
    expect(result.stdout).not.toMatch(/mandatory/);
  });

  it("fails if a firewall runs on a privileged DPU (SF004), even when the stack file waives the rule", async () => {
    editStackFile(project, (doc) => {
      doc.setIn(["hosts", "esx-04", "smartnics", "nic1", "hostPrivilege"], "privileged");
      doc.set("policy", doc.createNode({ disable: [{ rule: "SF004", reason: "the program's own check is waived here on purpose" }] }));
    });
    // Without the pack the program accepts the waiver and would declare the stack.
    const plain = await stack.preview({ parallel: 32 });
    expect(plain.changeSummary).toMatchObject({ create: expect.any(Number) });

    const rejected = stack.preview({ policyPacks: [policyPack], parallel: 32 });
    await expect(rejected).rejects.toThrow(/SF004/);
    await expect(rejected).rejects.toThrow(/mandatory/);
    await expect(rejected).rejects.toThrow(/esx-04-nic1-ids/);
    expect(countFleet(await fleetState(emulator)).services).toBe(0);
  });
});
