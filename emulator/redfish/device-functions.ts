/**
 * The devices a DPU presents to its host as DMTF resources, each in the place a Redfish
 * client looks for it:
 * - every device is a `PCIeFunction` of the DPU as the host sees it
 *   (`Systems/Host/PCIeDevices/<adapter>`), with its host BDF (`SegmentNumber`,
 *   `BusNumber`, `DeviceNumber`, `FunctionNumber`), and is listed in the host system's
 *   `PCIeFunctions`;
 * - a vNIC is also a `NetworkDeviceFunction` of the card's NetworkAdapter, which the DPU
 *   system lists in `Links.OffloadedNetworkDeviceFunctions` (it does their offload work);
 * - an NVMe or virtio-blk device is also a `Volume` of the port's block-device storage
 *   (`/redfish/v1/Storage/BlockDevices`, linked from the service root), with its capacity.
 * What DMTF has no property for (the backing service, a share's source) stays in
 * `Oem/SmartFleet/HostDevices`. See PROTOCOL.md "Standard view".
 */
import type { HostDeviceState } from "../model";
import type { Body as Resource, ViewContext as RenderContext } from "./view";

const V1 = "/redfish/v1";
/** Id of the storage subsystem holding the block devices the DPU emulates. */
export const BLOCK_STORAGE_ID = "BlockDevices";
const GIB = 1024 ** 3;

type Link = { "@odata.id": string };
const link = (uri: string): Link => ({ "@odata.id": uri });
const seg = (id: string): string => encodeURIComponent(id);

function devices(c: RenderContext): HostDeviceState[] {
  return c.sim.docOf(c.serial).hostDevices;
}

function device(c: RenderContext, id: string, kinds: ReadonlyArray<HostDeviceState["kind"]>): HostDeviceState | undefined {
  return devices(c).find((d) => d.id === id && kinds.includes(d.kind));
}

const BLOCK = ["nvme", "virtio-blk"] as const;

// ---------------------------------------------------------------- URIs

/** The DPU as one PCIe device of the host. */
export function hostPcieDeviceUri(c: RenderContext): string {
  return `${V1}/Systems/Host/PCIeDevices/${c.ids.adapter}`;
}

/** A device's function on the host. */
export function hostPcieFunctionUri(c: RenderContext, id: string): string {
  return `${hostPcieDeviceUri(c)}/PCIeFunctions/${seg(id)}`;
}

/** The NetworkDeviceFunctions collection of the card's adapter. */
export function networkDeviceFunctionsUri(c: RenderContext): string {
  return `${V1}/Chassis/${c.ids.chassis}/NetworkAdapters/${c.ids.adapter}/NetworkDeviceFunctions`;
}

/** The block-device storage subsystem. */
export function blockStorageUri(): string {
  return `${V1}/Storage/${BLOCK_STORAGE_ID}`;
}

// ---------------------------------------------------------------- hooks for the parents

/** Links of the host system: its PCIe view of this DPU. */
export function hostSystemPcie(c: RenderContext): { PCIeDevices: Link[]; "PCIeDevices@odata.count": number; PCIeFunctions: Link[]; "PCIeFunctions@odata.count": number } {
  const functions = devices(c).map((d) => link(hostPcieFunctionUri(c, d.id)));
  return { PCIeDevices: [link(hostPcieDeviceUri(c))], "PCIeDevices@odata.count": 1, PCIeFunctions: functions, "PCIeFunctions@odata.count": functions.length };
}

/** The vNICs the DPU system offloads (for its `Links`). */
export function offloadedFunctions(c: RenderContext): { OffloadedNetworkDeviceFunctions: Link[]; "OffloadedNetworkDeviceFunctions@odata.count": number } {
  const vnics = devices(c).filter((d) => d.kind === "vnic").map((d) => link(`${networkDeviceFunctionsUri(c)}/${seg(d.id)}`));
  return { OffloadedNetworkDeviceFunctions: vnics, "OffloadedNetworkDeviceFunctions@odata.count": vnics.length };
}

// ---------------------------------------------------------------- host PCIe view

/** Host PCI identity per device kind: class and the ids a host driver binds to. */
const PCI_IDENTITY: Record<HostDeviceState["kind"], { deviceClass: string; classCode: string }> = {
  vnic: { deviceClass: "NetworkController", classCode: "0x020000" },
  nvme: { deviceClass: "MassStorageController", classCode: "0x010802" },
  "virtio-blk": { deviceClass: "MassStorageController", classCode: "0x018000" },
  fpga: { deviceClass: "ProcessingAccelerators", classCode: "0x120000" },
};

/** PCI vendor ids of the DPU makers (virtio-blk functions carry the virtio vendor id). */
const PCI_VENDOR: Record<string, string> = { Nvidia: "0x15b3", "AMD Pensando": "0x1dd8", Intel: "0x8086" };

/** `0000:3b:00.2` as the four BDF properties of PCIeFunction v1_6_0. */
export function bdfProperties(address: string): Record<string, string> | undefined {
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(address);
  if (!m) return undefined;
  return { SegmentNumber: `0x${m[1]}`, BusNumber: `0x${m[2]}`, DeviceNumber: `0x${m[3]}`, FunctionNumber: `0x${m[4]}` };
}

/** The DPU as the host's PCIe device. */
export function hostPcieDevice(c: RenderContext): Resource {
  const { nic } = c.sim.placement(c.serial);
  return {
    "@odata.id": hostPcieDeviceUri(c),
    "@odata.type": "#PCIeDevice.v1_21_0.PCIeDevice",
    Id: c.ids.adapter,
    Name: `DPU ${nic.serial} as the host sees it`,
    Manufacturer: c.ids.manufacturer,
    SerialNumber: nic.serial,
    DeviceType: "MultiFunction",
    Status: { State: "Enabled", Health: "OK" },
    PCIeFunctions: link(`${hostPcieDeviceUri(c)}/PCIeFunctions`),
  };
}

/** The host-side functions collection. */
export function hostPcieFunctions(c: RenderContext): Resource {
  return collection(`${hostPcieDeviceUri(c)}/PCIeFunctions`, "PCIeFunctionCollection", "PCIe functions", devices(c).map((d) => hostPcieFunctionUri(c, d.id)));
}

/** One device as a function on the host. */
export function hostPcieFunction(c: RenderContext, id: string): Resource | undefined {
  const d = devices(c).find((x) => x.id === id);
  if (!d) return undefined;
  const identity = PCI_IDENTITY[d.kind];
  const bdf = bdfProperties(d.hostPciAddress) ?? {};
  const links: Resource = { PCIeDevice: link(hostPcieDeviceUri(c)) };
  if (d.kind === "vnic") links.NetworkDeviceFunctions = [link(`${networkDeviceFunctionsUri(c)}/${seg(d.id)}`)];
  return {
    "@odata.id": hostPcieFunctionUri(c, d.id),
    "@odata.type": "#PCIeFunction.v1_7_0.PCIeFunction",
    Id: d.id,
    Name: d.name,
    FunctionId: Number.parseInt(bdf.FunctionNumber ?? "0x0", 16),
    FunctionType: d.function === "pf" ? "Physical" : "Virtual",
    DeviceClass: identity.deviceClass,
    ClassCode: identity.classCode,
    VendorId: d.kind === "virtio-blk" ? "0x1af4" : (PCI_VENDOR[c.ids.manufacturer] ?? "0xffff"),
    ...bdf,
    Status: { State: "Enabled", Health: "OK" },
    Links: links,
  };
}

// ---------------------------------------------------------------- network device functions

/** The adapter's NetworkDeviceFunctions (its vNICs). */
export function networkDeviceFunctions(c: RenderContext): Resource {
  const uri = networkDeviceFunctionsUri(c);
  return collection(uri, "NetworkDeviceFunctionCollection", "Network device functions", devices(c).filter((d) => d.kind === "vnic").map((d) => `${uri}/${seg(d.id)}`));
}

/** One vNIC. */
export function networkDeviceFunction(c: RenderContext, id: string): Resource | undefined {
  const d = device(c, id, ["vnic"]);
  if (!d) return undefined;
  return {
    "@odata.id": `${networkDeviceFunctionsUri(c)}/${seg(d.id)}`,
    "@odata.type": "#NetworkDeviceFunction.v1_11_1.NetworkDeviceFunction",
    Id: d.id,
    Name: d.name,
    NetDevFuncType: "Ethernet",
    NetDevFuncCapabilities: ["Ethernet"],
    DeviceEnabled: true,
    Status: { State: "Enabled", Health: "OK" },
    Links: { PCIeFunction: link(hostPcieFunctionUri(c, d.id)), OffloadSystem: link(`${V1}/Systems/${c.ids.system}`) },
  };
}

// ---------------------------------------------------------------- block devices

/** The root Storage collection: the one storage subsystem of emulated block devices. */
export function storageCollection(): Resource {
  return collection(`${V1}/Storage`, "StorageCollection", "Storage", [blockStorageUri()]);
}

/** The storage subsystem whose volumes are the block devices the DPU presents. */
export function blockStorage(c: RenderContext): Resource {
  return {
    "@odata.id": blockStorageUri(),
    "@odata.type": "#Storage.v1_21_0.Storage",
    Id: BLOCK_STORAGE_ID,
    Name: `Block devices DPU ${c.serial} presents to its host`,
    Status: { State: "Enabled", Health: "OK" },
    Volumes: link(`${blockStorageUri()}/Volumes`),
  };
}

/** Its volumes. */
export function volumes(c: RenderContext): Resource {
  const uri = `${blockStorageUri()}/Volumes`;
  return collection(uri, "VolumeCollection", "Volumes", devices(c).filter((d) => (BLOCK as readonly string[]).includes(d.kind)).map((d) => `${uri}/${seg(d.id)}`));
}

/** One block device as a Volume; `CapacityBytes` is null for a device created without a size. */
export function volume(c: RenderContext, id: string): Resource | undefined {
  const d = device(c, id, BLOCK);
  if (!d) return undefined;
  const size = d.sizeGiB ?? null;
  return {
    "@odata.id": `${blockStorageUri()}/Volumes/${seg(d.id)}`,
    "@odata.type": "#Volume.v1_10_2.Volume",
    Id: d.id,
    Name: d.name,
    CapacityBytes: size === null ? null : size * GIB,
    Status: { State: "Enabled", Health: "OK" },
  };
}

function collection(uri: string, type: string, name: string, members: string[]): Resource {
  return { "@odata.id": uri, "@odata.type": `#${type}.${type}`, Name: name, "Members@odata.count": members.length, Members: members.map(link) };
}
