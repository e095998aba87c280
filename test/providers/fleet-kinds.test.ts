import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as acceleratorShare, type AcceleratorShareOutputs } from "../../providers/accelerator-share";
import { implementation as dpuOs } from "../../providers/dpu-os";
import { implementation as dpuService } from "../../providers/dpu-service";
import { implementation as host, type HostOutputs } from "../../providers/host";
import { implementation as hostDevice, type HostDeviceOutputs } from "../../providers/host-device";
import { implementation as hostOsInstall, type HostOsInstallArgs, type HostOsInstallOutputs } from "../../providers/host-os-install";
import { implementation as servicePair, type ServicePairArgs, type ServicePairOutputs } from "../../providers/service-pair";
import { implementation as smartNic } from "../../providers/smart-nic";
import { UNKNOWN_VALUE } from "../../providers/common/kind";
import { KINDS } from "../../providers/kinds";
import { admin, credentials, dump, image, smartNicArgs, startFleet, target, type Fleet } from "./harness";

/** Host, HostDevice, ServicePair, HostOsInstall and AcceleratorShare on h1 (nvidia, FPGA) and h2 (amd). */
describe("the host-level and cross-DPU kinds against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startFleet();
    for (const h of ["h1", "h2"]) {
      await smartNic.create(smartNicArgs(fleet.inventory, h));
      await dpuOs.create({ target: target(fleet.inventory, h), image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...credentials(fleet.inventory, h) });
    }
    await dpuService.create({ target: target(fleet.inventory, "h1"), name: "dfw", service: { type: "nsx-dfw", version: "4.2.1", cores: 2, memoryGiB: 4, config: {} }, ...h1() });
  });
  afterAll(() => fleet?.stop());

  it("registers all eight kinds in one list", () => {
    expect(KINDS.map((k) => k.kind)).toEqual(["SmartNic", "Host", "DpuOs", "DpuService", "HostDevice", "ServicePair", "HostOsInstall", "AcceleratorShare"]);
  });

  it("Host: claims the host by serial through its DPU and fails if the serial differs", async () => {
    const args = { name: "h1", serial: "H1", vendor: "dell" as const, model: "PowerEdge R760", cpus: 64, memoryGiB: 512, via: target(fleet.inventory, "h1"), ...h1() };
    const outs = (await host.create(args)).outs as HostOutputs;
    expect(outs.powerState).toBe("On");
    expect((await host.read("H1", outs)).props).toMatchObject({ serial: "H1" });
    await expect(host.create({ ...args, serial: "H9" })).rejects.toThrow(/sits in host serial 'H1', not 'H9'/);
  });

  it("HostDevice: presents a vnic backed by a service, outputs its host PCI address, and removes it on delete", async () => {
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

  it("ServicePair: deploys across two DPUs, shows a failover as drift, and restores protection on update", async () => {
    const args: ServicePairArgs = {
      name: "witness",
      service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4, config: {} },
      primary: target(fleet.inventory, "h1"),
      secondary: target(fleet.inventory, "h2"),
      ...h1(),
    };
    let outs = (await servicePair.create(args)).outs as ServicePairOutputs;
    expect(outs).toMatchObject({ activeSide: "primary", protected: true });
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/crash");
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/recover");
    outs = (await servicePair.read("x", outs)).props as ServicePairOutputs;
    expect(outs.activeSide).toBe("secondary");
    expect((await servicePair.diff("x", outs, args)).changes).toBe(true);
    outs = (await servicePair.update("x", outs, args)).outs as ServicePairOutputs;
    expect(outs).toMatchObject({ activeSide: "primary", protected: true });
    expect((await servicePair.diff("x", outs, args)).changes).toBe(false);
    await servicePair.delete("x", outs);
    expect((await dump(fleet, "NV1")).servicePairs).toHaveLength(0);
  });

  it("HostOsInstall: fails if the stack does not allow the host reset, installs when it does", async () => {
    const args: HostOsInstallArgs = {
      host: "h2",
      hostSerial: "H2",
      via: target(fleet.inventory, "h2"),
      image: "esxi-x86",
      version: "8.0.3",
      ...image(fleet.inventory, "esxi-x86", "8.0.3"),
      allowHostPowerCycle: false,
      ...credentials(fleet.inventory, "h2"),
    };
    await expect(hostOsInstall.create(args)).rejects.toThrow(/installing resets the host; set maintenance.allowHostPowerCycle: true/);
    const outs = (await hostOsInstall.create({ ...args, allowHostPowerCycle: true })).outs as HostOsInstallOutputs;
    expect(outs.version).toBe("8.0.3");
    const state = await dump(fleet, "AMD1");
    expect(state.host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    expect(state.virtualMedia.inserted).toBe(false);
    expect(state.host.bootOverride.enabled).toBe("Disabled");
  });

  it("AcceleratorShare: shares h1's FPGA with h2, which presents an fpga device; a second consumer is refused", async () => {
    const args = { name: "fpga-share", sourceHost: "h1", accelerator: "fpga0", source: target(fleet.inventory, "h1"), consumer: target(fleet.inventory, "h2"), ...h1() };
    const outs = (await acceleratorShare.create(args)).outs as AcceleratorShareOutputs;
    const device = (await hostDevice.create({
      target: target(fleet.inventory, "h2"), name: "fpga0", kind: "fpga", function: "pf", backingAccelerator: "fpga-share", ...credentials(fleet.inventory, "h2"),
    })).outs as HostDeviceOutputs;
    expect(device.hostPciAddress).toBe(outs.hostPciAddress);
    await expect(acceleratorShare.create({ ...args, name: "second" })).rejects.toThrow(/AcceleratorShare second .*create failed: .*(ResourceInUse|already shared)/);
    expect(await acceleratorShare.diff("x", outs, { ...args, consumer: target(fleet.inventory, "h3") })).toMatchObject({ replaces: ["consumer"], deleteBeforeReplace: true });
    await hostDevice.delete("x", device);
    await acceleratorShare.delete("x", outs);
    expect((await dump(fleet, "AMD1")).hostDevices).toHaveLength(0);
    expect((await dump(fleet, "NV1")).acceleratorShares).toHaveLength(0);
  });
});
