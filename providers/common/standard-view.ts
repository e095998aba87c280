/**
 * Reads of the DMTF standard view (PROTOCOL.md "Standard view"): the DPU OS as the DPU
 * system's `OperatingSystem`, services and service-pair sides as its `Applications`, devices as
 * `NetworkDeviceFunction`s, `Volume`s and the host's `PCIeFunction`s. A refresh reads
 * these first, so a BMC that implements the standard and nothing of ours still shows
 * drift; the `Oem/SmartFleet` collections add only what DMTF has no property for.
 * Each reader answers `undefined` when the port lacks that part of the standard view
 * (the caller then reads the OEM collection), `null` when the thing is gone.
 * Every GET here is answered from the port snapshot inside a read pass.
 */
import { asRecord, linkOf, RedfishError } from "../redfish";
import { findMember, type DpuConnection } from "./dpu";

type Body = Record<string, unknown>;

/** The DPU OS as the standard view shows it. */
export interface StandardOs {
  /** `Enabled`, `Installing` or `Absent`, in the OEM resource's terms. */
  state: "Enabled" | "Installing" | "Absent";
  /** The image name (`SoftwareId` of the OS software image), when the port says. */
  image: string | null;
  /** The installed version (the software image's `Version`). */
  version: string | null;
  /** The DPU system's `HostName`. */
  hostname: string | null;
}

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** Resource.State of the OperatingSystem → the DPU OS state. */
export function osState(status: unknown): StandardOs["state"] {
  const state = asRecord(status).State;
  if (state === "Absent") return "Absent";
  if (state === "Updating" || state === "Starting") return "Installing";
  return "Enabled";
}

/** The DPU OS from `OperatingSystem`, its `Links.SoftwareImage` and the system's `HostName`. */
export async function readStandardOs(connection: DpuConnection): Promise<StandardOs | undefined> {
  const uri = connection.where.standard.operatingSystem;
  if (!uri) return undefined;
  const { client } = connection;
  const [os, system] = await Promise.all([client.get<Body>(uri), client.get<Body>(connection.where.dpuSystem)]);
  const body = asRecord(os.body);
  const imageUri = linkOf(asRecord(body.Links).SoftwareImage);
  const image = imageUri ? asRecord((await client.get<Body>(imageUri)).body) : {};
  const state = osState(body.Status);
  const version = text(image.Version) ?? text(asRecord(body.Kernel).Release);
  return {
    state,
    image: state === "Absent" ? null : text(image.SoftwareId),
    version: state === "Absent" ? null : version,
    hostname: text(asRecord(system.body).HostName),
  };
}

/** A service, or a side of a service pair, as its Application shows it. */
export interface StandardApplication {
  /** Its `Version`. */
  version: string | null;
  /** `Deploying`, `Enabled` or `Failed`, in the OEM resource's terms. */
  state: "Deploying" | "Enabled" | "Failed";
  /** A pair side that is deployed but not serving (`StandbySpare`). */
  standby: boolean;
  /** `Health: OK` (for a pair side: the pair is protected). */
  healthy: boolean;
}

/** Resource.State of an Application → the service state. */
export function applicationState(status: unknown): StandardApplication["state"] {
  const state = asRecord(status).State;
  if (state === "Enabled" || state === "StandbySpare") return "Enabled";
  if (state === "Starting" || state === "Updating" || state === "InTest") return "Deploying";
  return "Failed";
}

/** The Application whose `Id` is the service's name; null when there is none. */
export async function readApplication(connection: DpuConnection, id: string): Promise<StandardApplication | null | undefined> {
  const collection = connection.where.standard.applications;
  if (!collection) return undefined;
  const found = await findMember(connection, collection, id);
  if (!found) return null;
  const status = asRecord(found.body.Status);
  return { version: text(found.body.Version), state: applicationState(status), standby: status.State === "StandbySpare", healthy: status.Health === "OK" };
}

/** A host device as the standard view shows it. */
export interface StandardDevice {
  /** The host BDF of its PCIeFunction (`0000:3b:00.2`), empty when the port gives none. */
  hostPciAddress: string;
  /** `pf` or `vf` from the function's `FunctionType`, when known. */
  function?: "pf" | "vf";
  /** A block device's capacity in GiB (its Volume's `CapacityBytes`); null when not reported. */
  sizeGiB: number | null;
}

const GIB = 1024 ** 3;

/**
 * The device with this `Id`: a vNIC in the adapter's NetworkDeviceFunctions, a block
 * device in a Volumes collection, an fpga device among the host's PCIeFunctions; its host
 * address from the host's PCIeFunction of that `Id`. Undefined when the port lacks the
 * collection that kind lives in.
 */
export async function readStandardDevice(connection: DpuConnection, id: string, kind: string): Promise<StandardDevice | null | undefined> {
  const { standard } = connection.where;
  let sizeGiB: number | null = null;
  if (kind === "vnic") {
    if (!standard.networkDeviceFunctions) return undefined;
    if (!(await findMember(connection, standard.networkDeviceFunctions, id))) return null;
  } else if (kind === "nvme" || kind === "virtio-blk") {
    if (standard.volumes.length === 0) return undefined;
    const volume = await firstMember(connection, standard.volumes, id);
    if (!volume) return null;
    const bytes = volume.CapacityBytes;
    sizeGiB = typeof bytes === "number" ? Math.round(bytes / GIB) : null;
  }
  const fn = await hostFunction(connection, id);
  if (fn === undefined) return kind === "fpga" ? undefined : { hostPciAddress: "", sizeGiB };
  if (fn === null) return kind === "fpga" ? null : { hostPciAddress: "", sizeGiB };
  return { hostPciAddress: bdfOf(fn), function: fn.FunctionType === "Physical" ? "pf" : fn.FunctionType === "Virtual" ? "vf" : undefined, sizeGiB };
}

async function firstMember(connection: DpuConnection, collections: string[], id: string): Promise<Body | undefined> {
  for (const collection of collections) {
    const found = await findMember(connection, collection, id);
    if (found) return found.body;
  }
  return undefined;
}

/** The host system's PCIeFunction with this `Id`; undefined when the port lists none for the host. */
async function hostFunction(connection: DpuConnection, id: string): Promise<Body | null | undefined> {
  const host = connection.where.hostSystem;
  if (!host) return undefined;
  const links = asRecord((await connection.client.get<Body>(host)).body).PCIeFunctions;
  if (!Array.isArray(links)) return undefined;
  for (const l of links) {
    const uri = linkOf(l);
    if (!uri || decodeURIComponent(uri.split("/").pop() ?? "") !== id) continue;
    try {
      return asRecord((await connection.client.get<Body>(uri)).body);
    } catch (error) {
      if (error instanceof RedfishError && error.status === 404) return null;
      throw error;
    }
  }
  return null;
}

/** `SegmentNumber` `0x0000`, `BusNumber` `0x3b`, ... as `0000:3b:00.2`; empty when any is missing. */
export function bdfOf(fn: Body): string {
  const hex = (v: unknown, width: number): string | undefined => (typeof v === "string" && /^0[xX][0-9a-fA-F]+$/.test(v) ? v.slice(2).toLowerCase().padStart(width, "0") : undefined);
  const parts = [hex(fn.SegmentNumber, 4), hex(fn.BusNumber, 2), hex(fn.DeviceNumber, 2), hex(fn.FunctionNumber, 1)];
  if (parts.some((p) => p === undefined)) return "";
  return `${parts[0]}:${parts[1]}:${parts[2]}.${parts[3]}`;
}
