import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import { admin, drift, editStackFile, endpointsFileOf, fleetState, labStack, makeLabProject, startLabEmulator, type LabProject } from "./lab";

type Counters = Record<string, { requests: number; byStatus: Record<string, number> }>;

/**
 * A fleet whose management ports show only the DMTF standard view (the emulator's switch
 * that hides `Oem/SmartFleet` from reads, as a BMC that implements the standard and none
 * of our OEM would): `pulumi refresh` through the real CLI still sees the DPU OS version,
 * a deleted service and a deleted device, reads nothing of the hidden tree, and takes one
 * read per DPU; with the OEM view back, `up` repairs all three. The lab's nvme device gets
 * a size and its vSAN service storage, so the device's capacity goes through the stack,
 * the provider and the port (its Volume) too.
 */
describe("refresh through the standard Redfish view alone", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  const serial = (ref: string): string => project.serials[ref] ?? (() => { throw new Error(`no DPU ${ref}`); })();
  const hideOem = (hidden: boolean): Promise<unknown> => admin(emulator, "PUT", "/admin/v1/oem-view", { hidden });
  /** The outputs of the one resource of `type` whose name ends with `suffix`. */
  const outputsOf = async (type: string, suffix: string): Promise<Record<string, unknown> | undefined> => {
    const { deployment } = await stack.exportStack();
    const found = (deployment.resources as Array<{ type: string; urn: string; outputs?: Record<string, unknown> }>).filter((r) => r.type === type && r.urn.endsWith(suffix));
    return found[0]?.outputs;
  };

  beforeAll(async () => {
    project = await makeLabProject("127.210.0");
    editStackFile(project, (doc) => {
      doc.setIn(["hosts", "esx-01", "smartnics", "nic2", "services", "vsan", "storageGiB"], 100);
      doc.setIn(["hosts", "esx-01", "smartnics", "nic2", "devices", "nvme0", "sizeGiB"], 64);
    });
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "standard", endpointsFileOf(project));
    await stack.up({ parallel: 32 });
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("presents the nvme device with its declared size out of its service's storage", async () => {
    const hw = (await fleetState(emulator))[serial("esx-01/nic2")];
    expect(hw.services).toMatchObject([{ id: "vsan", storageGiB: 100 }]);
    expect(hw.hostDevices).toMatchObject([{ id: "nvme0", kind: "nvme", sizeGiB: 64, backingService: "vsan" }]);
  });

  it("refreshes an unchanged fleet as unchanged with the OEM view shown and hidden", async () => {
    const shown = await stack.refresh({ parallel: 32 });
    expect(Object.keys(shown.summary.resourceChanges ?? {})).toEqual(["same"]);
    await hideOem(true);
    try {
      const hidden = await stack.refresh({ parallel: 32 });
      // Shares, NTP, cluster and the host OS are not in the standard view: kept as last known, not called deleted.
      expect(Object.keys(hidden.summary.resourceChanges ?? {})).toEqual(["same"]);
    } finally {
      await hideOem(false);
    }
  });

  it("detects a DPU OS version, a deleted service and a deleted device from standard resources, one read per DPU", async () => {
    const before = await fleetState(emulator);
    const firewall = before[serial("esx-03/nic1")].services[0];
    const nvme = before[serial("esx-01/nic2")].hostDevices.find((d) => d.kind === "nvme")!;
    await hideOem(true);
    try {
      await drift(emulator, serial("esx-04/nic1"), { kind: "osVersion", value: "8.0.2" });
      await drift(emulator, serial("esx-03/nic1"), { kind: "deleteService", id: firewall.id });
      await drift(emulator, serial("esx-01/nic2"), { kind: "deleteDevice", id: nvme.id });
      await admin(emulator, "DELETE", "/admin/v1/counters");

      const refresh = await stack.refresh({ parallel: 32 });
      expect(refresh.summary.resourceChanges).toMatchObject({ update: 1, delete: 2 });
      expect(await outputsOf("pulumi-nodejs:dynamic/smartfleet:DpuOs", "esx-04-nic1-os")).toMatchObject({ image: "esxi-arm", version: "8.0.2", state: "Enabled" });
      expect(await outputsOf("pulumi-nodejs:dynamic/smartfleet:DpuService", "esx-03-nic1-fw")).toBeUndefined();
      expect(await outputsOf("pulumi-nodejs:dynamic/smartfleet:HostDevice", "esx-01-nic2-nvme0")).toBeUndefined();

      const counters = await admin<Counters>(emulator, "GET", "/admin/v1/counters");
      for (const [port, c] of Object.entries(counters)) {
        // Nothing asked for the hidden tree, and each DPU was read once (the expanded snapshot).
        expect(c.byStatus["404"] ?? 0, port).toBe(0);
        expect(c.byStatus["200"] ?? 0, port).toBeLessThanOrEqual(1);
      }
    } finally {
      await hideOem(false);
    }

    const up = await stack.up({ parallel: 32 });
    expect(up.summary.resourceChanges).toMatchObject({ update: 1, create: 2 });
    const after = await fleetState(emulator);
    expect(after[serial("esx-04/nic1")].dpuOs).toMatchObject({ image: "esxi-arm", version: "8.0.3", state: "Enabled" });
    expect(after[serial("esx-03/nic1")].services.map((s) => s.id)).toEqual([firewall.id]);
    expect(after[serial("esx-01/nic2")].hostDevices).toMatchObject([{ id: nvme.id, sizeGiB: 64 }]);
  });
});
