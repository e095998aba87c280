import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import { readCheckpoint } from "../support/pulumi";
import { admin, backendFiles, dpuState, endpointsFileOf, labStack, makeLabProject, redfishGet, startLabEmulator, type LabProject } from "./lab";

/**
 * A deployed lab stack living on: a DPU crash fails the service pair it is primary of over
 * to the secondary, Pulumi sees that as drift, and once the DPU is back the next
 * `up --refresh` restores protection; a new management password is rotated onto every
 * claimed DPU. Read from the emulated hardware, not from outputs.
 */
describe("a deployed lab stack: DPU crash and failover, password rotation", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  let primary: string;
  let secondary: string;

  /** The witness pair as the primary's management port serves it over Redfish. */
  const pairOverRedfish = async (): Promise<{ ActiveSide: string; Protected: boolean }> => {
    const pairs = await redfishGet(emulator, primary, "/redfish/v1/Oem/SmartFleet/ServicePairs?$expand=.($levels=1)", project.managementPassword);
    expect(pairs.status).toBe(200);
    expect(pairs.body.Members).toHaveLength(1);
    return pairs.body.Members[0];
  };

  beforeAll(async () => {
    project = await makeLabProject("127.202.0");
    primary = project.serials["esx-01/nic1"];
    secondary = project.serials["esx-02/nic1"];
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "failover", endpointsFileOf(project));
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.result).toBe("succeeded");
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("starts protected: the primary serves, the secondary holds the other side", async () => {
    expect(await pairOverRedfish()).toMatchObject({ ActiveSide: "primary", Protected: true });
    expect((await dpuState(emulator, secondary)).pairMemberships).toMatchObject([{ primarySerial: primary }]);
  });

  it("fails the pair over when the primary DPU crashes, and refresh reports it", async () => {
    await admin(emulator, "POST", `/admin/v1/dpus/${primary}/crash`);
    expect(await pairOverRedfish()).toMatchObject({ ActiveSide: "secondary", Protected: false });
    expect((await dpuState(emulator, primary)).services.map((s) => s.state)).toEqual(["Failed"]);

    const refresh = await stack.refresh({ parallel: 32 });
    expect(refresh.summary.result).toBe("succeeded");
    expect(refresh.summary.resourceChanges?.update ?? 0).toBeGreaterThanOrEqual(1);
    // Refresh records the live side in the pair's state (stack outputs wait for the next up).
    const pair = readCheckpoint(project.sandbox, "smartfleet", "failover").checkpoint.latest?.resources?.find((r) => r.type.endsWith("smartfleet:ServicePair"));
    expect(pair?.outputs).toMatchObject({ activeSide: "secondary", protected: false });
  });

  it("fails if the primary DPU is still down: the pair cannot be restored, and the error says why", async () => {
    const error = await stack.up({ parallel: 32 }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(error).toMatch(new RegExp(`ServicePair witness \\(esx-01/nic1 \\(${primary}\\) \\+ esx-02/nic1 \\(${secondary}\\)\\): update failed: .*OperationNotAllowed.*: the primary DPU ${primary} is not running`));
    expect(await pairOverRedfish()).toMatchObject({ ActiveSide: "secondary", Protected: false });
  });

  it("restores protection with up --refresh once the DPU is back", async () => {
    await admin(emulator, "POST", `/admin/v1/dpus/${primary}/recover`);
    // Recovery alone leaves the pair on the secondary: restoring it is the stack's job.
    expect(await pairOverRedfish()).toMatchObject({ ActiveSide: "secondary", Protected: false });

    const up = await stack.up({ parallel: 32, refresh: true });
    expect(up.summary.result).toBe("succeeded");
    expect(await pairOverRedfish()).toMatchObject({ ActiveSide: "primary", Protected: true });
    const state = await dpuState(emulator, primary);
    expect(state.services.map((s) => s.state)).toEqual(["Enabled"]);
    expect(state.servicePairs).toMatchObject([{ activeSide: "primary", state: "Enabled" }]);

    expect((await stack.outputs()).servicePairs.value).toEqual({ witness: { activeSide: "primary", protected: true } });
    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  });

  it("rotates the management password on every claimed DPU when the secret changes", async () => {
    const rotated = "Rotated-Pa55word-2026";
    await stack.setConfig("smartfleet:managementPassword", { value: rotated, secret: true });
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.create ?? 0).toBe(0);
    expect(up.summary.resourceChanges?.replace ?? 0).toBe(0);
    for (const ref of ["esx-01/nic1", "esx-01/nic2", "esx-02/nic1", "esx-03/nic1", "esx-04/nic1"]) {
      const serial = project.serials[ref];
      expect((await redfishGet(emulator, serial, "/redfish/v1/Systems", rotated)).status, ref).toBe(200);
      expect((await redfishGet(emulator, serial, "/redfish/v1/Systems", project.managementPassword)).status, ref).toBe(401);
    }
    // Neither password reached the state, nor any backup or history file of it.
    const state = backendFiles(project).map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(state).toContain("pulumi-nodejs:dynamic/smartfleet:SmartNic");
    expect(state.includes(rotated)).toBe(false);
    expect(state.includes(project.managementPassword)).toBe(false);
    // The unmanaged DPU keeps its factory account.
    expect((await dpuState(emulator, project.serials["esx-04/nic2"])).accounts).toMatchObject([{ passwordChangeRequired: true }]);
    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  });
});
