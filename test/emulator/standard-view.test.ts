import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import { admin, monitorOf, startTestFleet, testImages, type TestFleet } from "./helpers";

const OEM = "/redfish/v1/Oem/SmartFleet";
const osUri = (testImages() ?? []).find((i) => i.name === "esxi-arm" && i.version === "8.0.3")!.uri;
/** Each vendor identity's DPU system, adapter path and OS item (PROTOCOL.md "Identity per vendor"). */
const IDS = {
  NV1: { system: "Bluefield", adapter: "/redfish/v1/Chassis/Card1/NetworkAdapters/NvidiaNetworkAdapter", pcie: "NvidiaNetworkAdapter", os: "DPU_OS" },
  AMD1: { system: "Card1-SoC", adapter: "/redfish/v1/Chassis/Card1/NetworkAdapters/DSC", pcie: "DSC", os: "DPU_Image" },
  IPU1: { system: "IPU", adapter: "/redfish/v1/Chassis/IPU_Card/NetworkAdapters/IPU", pcie: "IPU", os: "IPU_OS" },
} as const;
type Dpu = keyof typeof IDS;
const DPUS = Object.keys(IDS) as Dpu[];
const GIB = 1024 ** 3;

/**
 * The standard view of everything the OEM tree manages, on all three vendor identities:
 * the DPU OS as OperatingSystem, services as Applications, devices as
 * NetworkDeviceFunction / Volume and host PCIeFunctions; the one-request snapshot reaches
 * all of it; and the admin switch that hides the OEM tree leaves exactly this view.
 */
describe("the standard Redfish view of the DPU OS, services and host devices", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of DPUS) {
      await f.claim(s);
      monitorOf(await f.call(s, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: osUri, Targets: [`/redfish/v1/UpdateService/FirmwareInventory/${IDS[s].os}`] }));
    }
    await f.advance(DURATIONS_MS.dpuOsInstall);
    for (const s of DPUS) {
      monitorOf(await f.call(s, "POST", `${OEM}/Services`, { Id: "vsan", ServiceType: "vsan-storage", Version: "8.0.3", Cores: 2, MemoryGiB: 4, StorageGiB: 100 }));
      await f.advance(DURATIONS_MS.serviceDeploy);
      for (const [Id, Kind, extra] of [["vnic0", "vnic", {}], ["disk0", "nvme", { SizeGiB: 64 }], ["blk0", "virtio-blk", { SizeGiB: 8 }]] as const) {
        const r = await f.call(s, "POST", `${OEM}/HostDevices`, { Id, Kind, Function: "vf", BackingService: "vsan", ...extra });
        expect(r.status, r.text).toBe(201);
      }
    }
  });
  afterAll(() => f.emu.stop());

  it.each(DPUS)("shows the DPU OS of %s as the system's OperatingSystem: ESXi as a hypervisor with a VMwareESX engine", async (s) => {
    const system = (await f.call(s, "GET", `/redfish/v1/Systems/${IDS[s].system}`)).body;
    const uri = system.OperatingSystem["@odata.id"];
    expect(uri).toBe(`/redfish/v1/Systems/${IDS[s].system}/OperatingSystem`);
    const os = (await f.call(s, "GET", uri)).body;
    expect(os).toMatchObject({
      "@odata.type": "#OperatingSystem.v1_0_2.OperatingSystem",
      Type: "Hypervisor",
      Status: { State: "Enabled" },
      Kernel: { Name: "VMkernel", Release: "8.0.3", Machine: "aarch64" },
      VirtualMachineEngines: [{ Type: "VMwareESX", Version: "8.0.3" }],
      Links: { SoftwareImage: { "@odata.id": `/redfish/v1/UpdateService/FirmwareInventory/${IDS[s].os}` } },
    });
    const image = (await f.call(s, "GET", os.Links.SoftwareImage["@odata.id"])).body;
    expect(image).toMatchObject({ Version: "8.0.3", SoftwareId: "esxi-arm" });
  });

  it.each(DPUS)("shows each service of %s as an Application with its version and status", async (s) => {
    const apps = (await f.call(s, "GET", `/redfish/v1/Systems/${IDS[s].system}/OperatingSystem/Applications`)).body;
    expect(apps.Members).toEqual([{ "@odata.id": `/redfish/v1/Systems/${IDS[s].system}/OperatingSystem/Applications/vsan` }]);
    const app = (await f.call(s, "GET", apps.Members[0]["@odata.id"])).body;
    expect(app).toMatchObject({ "@odata.type": "#Application.v1_0_1.Application", Id: "vsan", Version: "8.0.3", Vendor: "VMware", Status: { State: "Enabled", Health: "OK" } });
  });

  it.each(DPUS)("shows the vNIC of %s as a NetworkDeviceFunction the DPU system offloads, and as a host PCIeFunction with its BDF", async (s) => {
    const dev = (await f.call(s, "GET", `${OEM}/HostDevices/vnic0`)).body;
    const adapter = (await f.call(s, "GET", IDS[s].adapter)).body;
    const functions = (await f.call(s, "GET", adapter.NetworkDeviceFunctions["@odata.id"])).body;
    expect(functions.Members).toEqual([{ "@odata.id": `${IDS[s].adapter}/NetworkDeviceFunctions/vnic0` }]);
    const ndf = (await f.call(s, "GET", functions.Members[0]["@odata.id"])).body;
    expect(ndf).toMatchObject({ NetDevFuncType: "Ethernet", Links: { OffloadSystem: { "@odata.id": `/redfish/v1/Systems/${IDS[s].system}` } } });
    const system = (await f.call(s, "GET", `/redfish/v1/Systems/${IDS[s].system}`)).body;
    expect(system.Links.OffloadedNetworkDeviceFunctions).toEqual([{ "@odata.id": ndf["@odata.id"] }]);
    const fn = (await f.call(s, "GET", ndf.Links.PCIeFunction["@odata.id"])).body;
    const [, seg, bus, devNo, fnNo] = /^(\w{4}):(\w{2}):(\w{2})\.(\d)$/.exec(dev.HostPciAddress)!;
    expect(fn).toMatchObject({ Id: "vnic0", DeviceClass: "NetworkController", FunctionType: "Virtual", SegmentNumber: `0x${seg}`, BusNumber: `0x${bus}`, DeviceNumber: `0x${devNo}`, FunctionNumber: `0x${fnNo}` });
    expect(fn.Links.NetworkDeviceFunctions).toEqual([{ "@odata.id": ndf["@odata.id"] }]);
  });

  it.each(DPUS)("shows the block devices of %s as Volumes with their capacity and as mass-storage PCIeFunctions on the host", async (s) => {
    const root = (await f.call(s, "GET", "/redfish/v1")).body;
    const storage = (await f.call(s, "GET", root.Storage["@odata.id"])).body;
    const subsystem = (await f.call(s, "GET", storage.Members[0]["@odata.id"])).body;
    const vols = (await f.call(s, "GET", subsystem.Volumes["@odata.id"])).body;
    expect(vols.Members.map((m: { "@odata.id": string }) => m["@odata.id"].split("/").pop())).toEqual(["disk0", "blk0"]);
    expect((await f.call(s, "GET", vols.Members[0]["@odata.id"])).body).toMatchObject({ Id: "disk0", CapacityBytes: 64 * GIB });
    expect((await f.call(s, "GET", vols.Members[1]["@odata.id"])).body).toMatchObject({ Id: "blk0", CapacityBytes: 8 * GIB });
    const host = (await f.call(s, "GET", "/redfish/v1/Systems/Host")).body;
    expect(host.PCIeDevices).toEqual([{ "@odata.id": `/redfish/v1/Systems/Host/PCIeDevices/${IDS[s].pcie}` }]);
    expect(host.PCIeFunctions.map((l: { "@odata.id": string }) => l["@odata.id"].split("/").pop())).toEqual(["vnic0", "disk0", "blk0"]);
    const nvme = (await f.call(s, "GET", host.PCIeFunctions[1]["@odata.id"])).body;
    expect(nvme).toMatchObject({ DeviceClass: "MassStorageController", ClassCode: "0x010802" });
    const device = (await f.call(s, "GET", host.PCIeDevices[0]["@odata.id"])).body;
    expect((await f.call(s, "GET", device.PCIeFunctions["@odata.id"])).body["Members@odata.count"]).toBe(3);
    expect((await f.call(s, "GET", `${OEM}/HostDevices/disk0`)).body.SizeGiB).toBe(64);
  });

  it("refuses a size on a device that is not a block device, and a size that is not a whole positive number of GiB", async () => {
    expect((await f.call("NV1", "POST", `${OEM}/HostDevices`, { Id: "vnic9", Kind: "vnic", SizeGiB: 4 })).status).toBe(400);
    const bad = await f.call("NV1", "POST", `${OEM}/HostDevices`, { Id: "disk9", Kind: "nvme", SizeGiB: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/SizeGiB/);
  });

  it("keeps block devices within the storage their backing service offers: 409 naming what is free", async () => {
    const tooBig = await f.call("AMD1", "POST", `${OEM}/HostDevices`, { Id: "disk2", Kind: "nvme", BackingService: "vsan", SizeGiB: 29 });
    expect(tooBig.status).toBe(409);
    expect(tooBig.body.error.message).toBe("service 'vsan' has 28 GiB of its 100 GiB free; the device needs 29 GiB");
    expect((await f.call("AMD1", "POST", `${OEM}/HostDevices`, { Id: "disk2", Kind: "nvme", BackingService: "vsan", SizeGiB: 28 })).status).toBe(201);
    const shrink = await f.call("AMD1", "PATCH", `${OEM}/Services/vsan`, { StorageGiB: 50 });
    expect(shrink.status).toBe(409);
    expect(shrink.body.error.message).toMatch(/backs 100 GiB of block devices/);
    expect((await f.call("AMD1", "DELETE", `${OEM}/HostDevices/disk2`)).status).toBe(204);
    const grown = await f.call("AMD1", "PATCH", `${OEM}/Services/vsan`, { StorageGiB: 200 });
    expect(grown.status).toBe(200);
    expect(grown.body).toMatchObject({ StorageGiB: 200, State: "Enabled" });
    const fw = await f.call("AMD1", "POST", `${OEM}/Services`, { Id: "fw", ServiceType: "firewall", Version: "2.1.0", Cores: 1, MemoryGiB: 1, StorageGiB: 10 });
    expect(fw.status).toBe(400);
    expect(fw.body.error.message).toMatch(/StorageGiB is for vsan-storage/);
  });

  it("answers 404 for standard resources that do not exist", async () => {
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Host/OperatingSystem")).status).toBe(404);
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/OperatingSystem/Applications/nope")).status).toBe(404);
    expect((await f.call("NV1", "GET", "/redfish/v1/Storage/BlockDevices/Volumes/vnic0")).status).toBe(404);
    expect((await f.call("NV1", "GET", `${IDS.NV1.adapter}/NetworkDeviceFunctions/disk0`)).status).toBe(404);
  });

  it("puts the whole standard view in the one-request snapshot ($expand=*($levels=5))", async () => {
    const all = JSON.stringify((await f.call("AMD1", "GET", "/redfish/v1?$expand=*($levels=5)")).body);
    for (const typed of ["#OperatingSystem.v1_0_2", "#Application.v1_0_1", "#NetworkDeviceFunction.v1_11_1", "#Volume.v1_10_2", "#PCIeFunction.v1_7_0", "#PCIeDevice.v1_21_0"]) {
      expect(all).toContain(`"@odata.type":"${typed}`);
    }
  });

  it("hides the OEM tree from reads on the admin switch, and writes still work", async () => {
    expect((await admin(f.emu, "PUT", "/admin/v1/oem-view", { hidden: "yes" })).status).toBe(400);
    expect((await admin(f.emu, "PUT", "/admin/v1/oem-view", { hidden: true })).body).toEqual({ hidden: true });
    try {
      expect((await f.call("NV1", "GET", `${OEM}/Services`)).status).toBe(404);
      expect((await f.call("NV1", "GET", `${OEM}/DpuOs`)).status).toBe(404);
      const all = JSON.stringify((await f.call("NV1", "GET", "/redfish/v1?$expand=*($levels=5)")).body);
      expect(all).not.toContain('"SmartFleet"');
      expect(all).not.toContain("Oem/SmartFleet");
      expect(all).not.toContain("#SmartFleetComputerSystem");
      expect(all).toContain("#Application.v1_0_1");
      // The vendor's own OEM part stays.
      expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield")).body.Oem).toEqual({ Nvidia: { "@odata.id": "/redfish/v1/Systems/Bluefield/Oem/Nvidia" } });
      expect((await f.call("NV1", "PATCH", `${OEM}/DpuOs`, { Hostname: "nv1-hidden" })).status).toBe(200);
      expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield")).body.HostName).toBe("nv1-hidden");
    } finally {
      await admin(f.emu, "PUT", "/admin/v1/oem-view", { hidden: false });
    }
    expect((await f.call("NV1", "GET", `${OEM}/Services`)).status).toBe(200);
  });

  it("drifts the DPU OS version and deletes a device out of band through the admin API", async () => {
    await admin(f.emu, "POST", "/admin/v1/dpus/IPU1/drift", { kind: "osVersion", value: "8.0.2" });
    await admin(f.emu, "POST", "/admin/v1/dpus/IPU1/drift", { kind: "deleteDevice", id: "blk0" });
    expect((await f.call("IPU1", "GET", "/redfish/v1/Systems/IPU/OperatingSystem")).body.Kernel.Release).toBe("8.0.2");
    expect((await f.call("IPU1", "GET", "/redfish/v1/Storage/BlockDevices/Volumes/blk0")).status).toBe(404);
    expect((await admin(f.emu, "POST", "/admin/v1/dpus/IPU1/drift", { kind: "deleteDevice", id: "blk0" })).status).toBe(404);
  });
});
