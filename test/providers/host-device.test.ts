import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as dpuService } from "../../providers/dpu-service";
import { implementation as hostDevice, type HostDeviceOutputs } from "../../providers/host-device";
import { UNKNOWN_VALUE } from "../../providers/common/kind";
import { type Fleet, credentials, dump, startClaimedFleet, target } from "../support/provider-harness";

describe("HostDevice provider against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startClaimedFleet();
    await dpuService.create({ target: target(fleet.inventory, "h1"), name: "dfw", service: { type: "nsx-dfw", version: "4.2.1", cores: 2, memoryGiB: 4, config: {} }, ...h1() });
  });
  afterAll(() => fleet?.stop());

  it("presents a vnic backed by a service, outputs its host PCI address, and removes it on delete", async () => {
    const args = { target: target(fleet.inventory, "h1"), name: "vnic0", kind: "vnic" as const, function: "vf" as const, backingService: "dfw", ...h1() };
    const outs = (await hostDevice.create(args)).outs as HostDeviceOutputs;
    expect(outs.hostPciAddress).toMatch(/^0000:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/);
    expect(await hostDevice.diff("x", outs, { ...args, kind: "nvme" })).toMatchObject({ replaces: ["kind"], deleteBeforeReplace: true });
    // Another backing service is an in-place PATCH; an unknown one (its service replaced
    // delete-before-replace) replaces the device, which the port would not let outlive it.
    expect(await hostDevice.diff("x", outs, { ...args, backingService: "ids" })).toMatchObject({ changes: true, replaces: [] });
    expect(await hostDevice.diff("x", outs, { ...args, backingService: UNKNOWN_VALUE })).toMatchObject({ replaces: ["backingService"], deleteBeforeReplace: true });
    await hostDevice.delete("x", outs);
    expect((await dump(fleet, "NV1")).hostDevices).toHaveLength(0);
  });

  it("adopts a device presented under that name by an earlier run, and refuses one of another kind", async () => {
    const args = { target: target(fleet.inventory, "h1"), name: "vnic1", kind: "vnic" as const, function: "vf" as const, backingService: "dfw", ...h1() };
    const first = (await hostDevice.create(args)).outs as HostDeviceOutputs;
    // The state write of that create was lost: the next run creates again.
    const again = (await hostDevice.create(args)).outs as HostDeviceOutputs;
    expect(again.hostPciAddress).toBe(first.hostPciAddress);
    expect((await dump(fleet, "NV1")).hostDevices).toHaveLength(1);
    await expect(hostDevice.create({ ...args, function: "pf" })).rejects.toThrow(/already presents a device 'vnic1' as vnic\/vf; remove it or rename this one/);
    expect((await dump(fleet, "NV1")).hostDevices).toHaveLength(1);
    await hostDevice.delete("x", first);
  });
});
