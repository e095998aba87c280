import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as dpuOs, type DpuOsOutputs } from "../../providers/dpu-os";
import { implementation as dpuService, type DpuServiceOutputs } from "../../providers/dpu-service";
import { implementation as hostDevice, type HostDeviceOutputs } from "../../providers/host-device";
import { implementation as servicePair, type ServicePairArgs, type ServicePairOutputs } from "../../providers/service-pair";
import { RedfishClient } from "../../providers/redfish";
import { endpointUrl } from "../../providers/common/dpu";
import { bdfOf } from "../../providers/common/standard-view";
import { noteWrite } from "../../providers/redfish/snapshot";
import { admin, credentials, dump, image, startClaimedFleet, target, type Fleet } from "../support/provider-harness";

/**
 * The providers' refresh reads through the standard view: with the emulator's OEM tree
 * hidden from reads (a BMC with only DMTF resources) DpuOs, DpuService and HostDevice
 * still read what they manage, and block-device sizes and service storage go both ways.
 */
describe("provider reads through the standard Redfish view", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });
  let os: DpuOsOutputs;
  let vsan: DpuServiceOutputs;
  let disk: HostDeviceOutputs;
  const hideOem = (hidden: boolean) => admin(fleet, "PUT", "/admin/v1/oem-view", { hidden });
  /** Drift through the admin API; the refresh snapshot this process holds is then stale, as after a write of its own. */
  const driftNv1 = async (change: Record<string, unknown>) => {
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/drift", change);
    noteWrite(endpointUrl(target(fleet.inventory, "h1")));
  };
  const read = async <T,>(kind: { read(id: string, props: T): Promise<{ props?: unknown }> }, olds: T) => (await kind.read("x", olds)).props;

  beforeAll(async () => {
    fleet = await startClaimedFleet(["h1", "h2"]);
    const t = target(fleet.inventory, "h1");
    os = (await dpuOs.create({ target: t, image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: ["ntp.lab"], cluster: "east", ...h1() })).outs as DpuOsOutputs;
    vsan = (await dpuService.create({ target: t, name: "vsan", service: { type: "vsan-storage", version: "8.0.3", cores: 2, memoryGiB: 4, storageGiB: 100, config: {} }, ...h1() })).outs as DpuServiceOutputs;
    disk = (await hostDevice.create({ target: t, name: "disk0", kind: "nvme", function: "vf", sizeGiB: 64, backingService: "vsan", ...h1() })).outs as HostDeviceOutputs;
  });
  afterAll(async () => {
    await hideOem(false).catch(() => undefined);
    await fleet?.stop();
  });

  it("presents a block device of the declared size out of the storage its service offers", async () => {
    expect(vsan.service.storageGiB).toBe(100);
    expect(disk.sizeGiB).toBe(64);
    const hw = await dump(fleet, "NV1");
    expect(hw.hostDevices).toMatchObject([{ id: "disk0", kind: "nvme", backingService: "vsan", sizeGiB: 64 }]);
    expect(hw.services).toMatchObject([{ id: "vsan", storageGiB: 100 }]);
    // Another size is another device; the refused fit is the port's.
    expect(await hostDevice.diff("x", disk, { ...disk, sizeGiB: 128 })).toMatchObject({ replaces: ["sizeGiB"] });
    await expect(hostDevice.create({ target: target(fleet.inventory, "h1"), name: "disk1", kind: "nvme", function: "vf", sizeGiB: 64, backingService: "vsan", ...h1() })).rejects.toThrow(/has 36 GiB of its 100 GiB free/);
    expect((await hostDevice.check({}, { target: target(fleet.inventory, "h1"), name: "vnic9", kind: "vnic", function: "vf", sizeGiB: 8, ...h1() })).failures).toEqual(expect.arrayContaining([expect.objectContaining({ property: "sizeGiB" })]));
  });

  it("reads the DPU OS, the service and the device with the OEM tree hidden", async () => {
    await hideOem(true);
    try {
      expect(await read(dpuOs, os)).toMatchObject({ image: "esxi-arm", version: "8.0.3", state: "Enabled", ntp: ["ntp.lab"], cluster: "east" });
      expect(await read(dpuService, vsan)).toMatchObject({ state: "Enabled", service: { type: "vsan-storage", version: "8.0.3", storageGiB: 100 } });
      expect(await read(hostDevice, disk)).toMatchObject({ hostPciAddress: disk.hostPciAddress, sizeGiB: 64, backingService: "vsan" });

      await driftNv1({ kind: "osVersion", value: "8.0.2" });
      await driftNv1({ kind: "changeService", id: "vsan", version: "8.0.2", state: "Failed" });
      expect(await read(dpuOs, os)).toMatchObject({ version: "8.0.2" });
      expect(await read(dpuService, vsan)).toMatchObject({ state: "Failed", service: { version: "8.0.2" } });
      await driftNv1({ kind: "deleteDevice", id: "disk0" });
      expect(await read(hostDevice, disk)).toBeUndefined();
      await driftNv1({ kind: "deleteService", id: "vsan" });
      expect(await read(dpuService, vsan)).toBeUndefined();
    } finally {
      await hideOem(false);
    }
  });

  it("shows each side of a service pair as an Application, and reads active side and protection from the primary's", async () => {
    const args: ServicePairArgs = {
      name: "witness",
      service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4, config: {} },
      primary: target(fleet.inventory, "h1"),
      secondary: target(fleet.inventory, "h2"),
      ...h1(),
      peerUsername: credentials(fleet.inventory, "h2").username,
    };
    const pair = (await servicePair.create(args)).outs as ServicePairOutputs;
    const secondary = target(fleet.inventory, "h2");
    const client = RedfishClient.open({ url: endpointUrl(secondary), caPem: fleet.emulator.caPem, ...credentials(fleet.inventory, "h2") });
    const app = async () => (await client.get<Record<string, unknown>>("/redfish/v1/Systems/Card1-SoC/OperatingSystem/Applications/witness")).body;
    expect(await app()).toMatchObject({ Version: "8.0.3", Status: { State: "StandbySpare", Health: "OK" }, Description: "vsan-witness, secondary side of a service pair with primary DPU NV1" });
    await hideOem(true);
    try {
      expect(await read(servicePair, pair)).toMatchObject({ activeSide: "primary", protected: true, state: "Enabled" });
      await driftNv1({ kind: "failover", id: "witness" });
      expect(await read(servicePair, pair)).toMatchObject({ activeSide: "secondary", protected: false, state: "Enabled", secondary: { serial: "AMD1" } });
      expect(await app()).toMatchObject({ Status: { State: "Enabled", Health: "Warning" } });
    } finally {
      await hideOem(false);
    }
    // A service may not take the Id a pair side shows as an Application.
    await expect(dpuService.create({ target: secondary, name: "witness", service: { type: "firewall", version: "2.1.0", cores: 1, memoryGiB: 1, config: {} }, ...credentials(fleet.inventory, "h2") })).rejects.toThrow(/pair side 'witness'|service pair 'witness'/);
  });

  it("turns a PCIeFunction's BDF properties into a host PCI address", () => {
    expect(bdfOf({ SegmentNumber: "0x0000", BusNumber: "0x3B", DeviceNumber: "0x00", FunctionNumber: "0x2" })).toBe("0000:3b:00.2");
    expect(bdfOf({ SegmentNumber: "0x0000", BusNumber: "0x3b" })).toBe("");
  });
});
