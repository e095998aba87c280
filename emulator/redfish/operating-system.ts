/**
 * The DPU OS and the services offloaded onto it as DMTF resources: the DPU system's
 * `OperatingSystem` (OperatingSystem v1_0_2) and its `Applications` (Application v1_0_1),
 * one per service and one per side of each service pair this DPU runs (the active side
 * `Enabled`, the standby `StandbySpare`, `Health: Warning` while the pair is unprotected).
 * What the OEM tree adds (`Oem/SmartFleet/DpuOs`, `.../Services`, `.../ServicePairs`) is
 * only what DMTF has no property for: NTP servers, cluster, cores, memory and config, the
 * pair's peer, and the writes (PATCH, POST) themselves. See PROTOCOL.md "Standard view".
 */
import type { ServicePairState, ServiceState } from "../model";
import type { Body as Resource, ViewContext as RenderContext } from "./view";

const V1 = "/redfish/v1";

/** URI of the DPU system's OperatingSystem. */
export function operatingSystemUri(c: RenderContext): string {
  return `${V1}/Systems/${c.ids.system}/OperatingSystem`;
}

/** URI of the Applications collection. */
export function applicationsUri(c: RenderContext): string {
  return `${operatingSystemUri(c)}/Applications`;
}

/** The DPU OS state as a Resource.Status State. */
const OS_STATE = { Enabled: "Enabled", Installing: "Updating", Absent: "Absent" } as const;

/** ESXi images run VMware's hypervisor on the Arm cores; anything else is taken for a Linux. */
function isEsxi(image: string | null): boolean {
  return image !== null && /^esx/i.test(image);
}

/** `Systems/<dpu>/OperatingSystem`: type, kernel and hypervisor engine of the installed DPU OS. */
export function operatingSystem(c: RenderContext): Resource {
  const os = c.sim.docOf(c.serial).dpuOs;
  const body: Resource = {
    "@odata.id": operatingSystemUri(c),
    "@odata.type": "#OperatingSystem.v1_0_2.OperatingSystem",
    Id: "OperatingSystem",
    Name: "DPU operating system",
    Status: { State: OS_STATE[os.state], Health: "OK" },
    Applications: { "@odata.id": applicationsUri(c) },
    // The installed image is the OS firmware item: its Version (and SoftwareId, the image name) say what runs.
    Links: { SoftwareImage: { "@odata.id": `${V1}/UpdateService/FirmwareInventory/${c.ids.firmware.os}` } },
  };
  if (os.image === null || os.version === null) return body;
  const esxi = isEsxi(os.image);
  body.Type = esxi ? "Hypervisor" : "Linux";
  body.Kernel = { Name: esxi ? "VMkernel" : "Linux", Release: os.version, Machine: "aarch64" };
  if (esxi) body.VirtualMachineEngines = [{ Type: "VMwareESX", Version: os.version }];
  return body;
}

/** `SoftwareId` of the OS firmware item: the installed image's name (null when none). */
export function osSoftwareId(c: RenderContext): string | null {
  return c.sim.docOf(c.serial).dpuOs.image;
}

/** The services of the DPU, in document order. */
function services(c: RenderContext): ServiceState[] {
  return c.sim.docOf(c.serial).services;
}

/** A side of a service pair this DPU runs: the pair (as its primary stores it) and which side this DPU is. */
interface PairSide {
  pair: ServicePairState;
  side: "primary" | "secondary";
  primarySerial: string;
}

/** The pair sides of the DPU: pairs it is the primary of, then those it is the secondary of. */
function pairSides(c: RenderContext): PairSide[] {
  const d = c.sim.docOf(c.serial);
  const sides: PairSide[] = d.servicePairs.map((pair) => ({ pair, side: "primary", primarySerial: c.serial }));
  for (const m of d.pairMemberships) {
    const pair = c.sim.has(m.primarySerial) ? c.sim.docOf(m.primarySerial).servicePairs.find((p) => p.id === m.pairId) : undefined;
    if (pair) sides.push({ pair, side: "secondary", primarySerial: m.primarySerial });
  }
  return sides;
}

/** The Applications collection: services, then pair sides. */
export function applications(c: RenderContext): Resource {
  const ids = [...services(c).map((s) => s.id), ...pairSides(c).map((p) => p.pair.id)];
  const members = ids.map((id) => ({ "@odata.id": `${applicationsUri(c)}/${encodeURIComponent(id)}` }));
  return {
    "@odata.id": applicationsUri(c),
    "@odata.type": "#ApplicationCollection.ApplicationCollection",
    Name: "Applications",
    "Members@odata.count": members.length,
    Members: members,
  };
}

const SERVICE_STATUS: Record<ServiceState["state"], { State: string; Health: string }> = {
  Deploying: { State: "Starting", Health: "OK" },
  Enabled: { State: "Enabled", Health: "OK" },
  Failed: { State: "UnavailableOffline", Health: "Critical" },
};

/** Who makes the software of each service type (DMTF `Vendor`). */
const VENDORS: Record<string, string> = {
  "nsx-controller": "VMware",
  "nsx-dfw": "VMware",
  "vsan-storage": "VMware",
  "vsan-witness": "VMware",
};

/** One service or pair side as an Application, undefined when the DPU runs none of that id. */
export function application(c: RenderContext, id: string): Resource | undefined {
  const s = services(c).find((x) => x.id === id);
  if (!s) return pairApplication(c, id);
  const body: Resource = {
    "@odata.id": `${applicationsUri(c)}/${encodeURIComponent(s.id)}`,
    "@odata.type": "#Application.v1_0_1.Application",
    Id: s.id,
    Name: s.name,
    Description: s.serviceType,
    Version: s.version,
    Status: SERVICE_STATUS[s.state],
  };
  const vendor = VENDORS[s.serviceType];
  if (vendor) body.Vendor = vendor;
  return body;
}

/**
 * A side of a service pair as an Application: `Enabled` on the active side and
 * `StandbySpare` on the other once deployed, `Health: Warning` on both while the pair is
 * not protected. The peer DPU is named in `Description` (a link cannot reach another port).
 */
function pairApplication(c: RenderContext, id: string): Resource | undefined {
  const found = pairSides(c).find((p) => p.pair.id === id);
  if (!found) return undefined;
  const { pair, side, primarySerial } = found;
  const protectedNow = c.sim.offloads.pairProtected(primarySerial, pair.id);
  const state = pair.state === "Enabled" ? (pair.activeSide === side ? "Enabled" : "StandbySpare") : SERVICE_STATUS[pair.state].State;
  const peer = side === "primary" ? `secondary DPU ${pair.secondarySerial}` : `primary DPU ${primarySerial}`;
  const body: Resource = {
    "@odata.id": `${applicationsUri(c)}/${encodeURIComponent(pair.id)}`,
    "@odata.type": "#Application.v1_0_1.Application",
    Id: pair.id,
    Name: pair.name,
    Description: `${pair.serviceType}, ${side} side of a service pair with ${peer}`,
    Version: pair.version,
    Status: { State: state, Health: pair.state === "Failed" ? "Critical" : protectedNow ? "OK" : "Warning" },
  };
  const vendor = VENDORS[pair.serviceType];
  if (vendor) body.Vendor = vendor;
  return body;
}
