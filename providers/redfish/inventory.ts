/**
 * Reads what a DPU is and how it is set, normalised across vendors and real-BMC quirks:
 * serials padded with spaces are trimmed, an empty `Mode` means "unknown" (null), and
 * model/manufacturer come from the card chassis when the system does not carry them.
 */

import { type RedfishClient } from "./client";
import { asRecord } from "./odata";
import { locate, type Locations } from "./navigate";

/** DPU operating mode. */
export type DpuMode = "dpu" | "nic";
/** Host privilege level of the DPU. */
export type HostPrivilege = "privileged" | "restricted";

/** The host OS the port reports as installed (`Oem.SmartFleet.OperatingSystem`). */
export interface InstalledOs {
  /** Image name. */
  image: string;
  /** Version string. */
  version: string;
}

/** What a DPU is and how it is set, as read from its management port. */
export interface DpuFacts {
  /** Serial number, trimmed. */
  serial: string;
  /** Model (system `Model`, else the card chassis `Model`), trimmed; null when unknown. */
  model: string | null;
  /** Manufacturer, trimmed; null when unknown. */
  manufacturer: string | null;
  /** Current mode; null when the port does not say (e.g. an empty `Mode`). */
  mode: DpuMode | null;
  /** Mode waiting for the next DPU reboot; null when nothing is pending. */
  pendingMode: DpuMode | null;
  /** Current host privilege; null when the port does not say. */
  hostPrivilege: HostPrivilege | null;
  /** Host privilege waiting for the next DPU reboot; null when nothing is pending. */
  pendingHostPrivilege: HostPrivilege | null;
  /** Firmware versions by role; null where the item is absent. */
  firmware: { os: string | null; nic: string | null; bmc: string | null };
  /** The DPU system's `PowerState`; null when not reported. */
  dpuPowerState: string | null;
  /** The host server's `PowerState`; null when the port does not expose the host. */
  hostPowerState: string | null;
  /** The host OS installed through the DPU; null when none or not reported. */
  hostOs: InstalledOs | null;
  /** The ETag of the Bios settings object as read, so a PATCH right after needs no read first. */
  biosSettingsEtag?: string;
}

type Body = Record<string, unknown>;

/**
 * Reads a DPU's facts. On a port that supports `$expand` (and with locations cached by
 * the pooled client) this costs four requests: systems, Bios, Bios settings, firmware.
 */
export async function readDpu(client: RedfishClient): Promise<DpuFacts> {
  const where = await locate(client);
  const [systems, bios, settingsRead, firmware] = await Promise.all([
    readSystems(client, where),
    readBody(client, where.bios),
    where.biosSettings ? client.get<Body>(where.biosSettings) : undefined,
    readFirmwareVersions(client, where),
  ]);
  const settings = settingsRead ? asRecord(settingsRead.body) : undefined;
  const dpu = systems.dpu;
  const attributes = asRecord(bios?.Attributes);
  const pending = asRecord(settings?.Attributes);
  const card = needsCard(dpu) ? await readBody(client, where.cardChassis) : undefined;
  const mode = toMode(attributes.NicMode) ?? (await nvidiaMode(client, dpu, where));
  const hostPrivilege = toPrivilege(attributes.HostPrivilegeLevel);
  return {
    serial: trimmed(dpu.SerialNumber) ?? trimmed(card?.SerialNumber) ?? "",
    model: trimmed(dpu.Model) ?? trimmed(card?.Model),
    manufacturer: trimmed(dpu.Manufacturer) ?? trimmed(card?.Manufacturer),
    mode,
    pendingMode: differs(toMode(pending.NicMode), mode),
    hostPrivilege,
    pendingHostPrivilege: differs(toPrivilege(pending.HostPrivilegeLevel), hostPrivilege),
    firmware,
    dpuPowerState: trimmed(dpu.PowerState),
    hostPowerState: systems.host ? trimmed(systems.host.PowerState) : null,
    hostOs: systems.host ? installedOs(systems.host) : null,
    biosSettingsEtag: settingsRead?.etag,
  };
}

async function readSystems(client: RedfishClient, where: Locations): Promise<{ dpu: Body; host?: Body }> {
  if (where.systems && where.hostSystem && (await client.supportsExpand())) {
    // Both systems in one request.
    const all = await client.getCollection<Body>(where.systems, [where.dpuSystem, where.hostSystem]);
    const dpu = all.find((m) => m.uri === where.dpuSystem)?.body;
    const host = all.find((m) => m.uri === where.hostSystem)?.body;
    if (dpu) return { dpu: asRecord(dpu), host: host ? asRecord(host) : undefined };
  }
  const [dpu, host] = await Promise.all([readBody(client, where.dpuSystem), readBody(client, where.hostSystem)]);
  return { dpu: dpu ?? {}, host };
}

async function readFirmwareVersions(client: RedfishClient, where: Locations): Promise<DpuFacts["firmware"]> {
  const { os, nic, bmc } = where.firmware;
  const wanted = [os, nic, bmc].filter((u): u is string => u !== undefined);
  const versions = new Map<string, string | null>();
  const inventory = where.firmwareInventory;
  if (wanted.length > 1 && inventory && (await client.supportsExpand())) {
    for (const item of await client.getCollection<Body>(inventory, wanted)) versions.set(item.uri, trimmed(asRecord(item.body).Version));
  }
  await Promise.all(
    wanted
      .filter((uri) => !versions.has(uri))
      .map(async (uri) => versions.set(uri, trimmed((await readBody(client, uri))?.Version))),
  );
  const versionOf = (uri: string | undefined): string | null => (uri ? (versions.get(uri) ?? null) : null);
  return { os: versionOf(os), nic: versionOf(nic), bmc: versionOf(bmc) };
}

/** NVIDIA mirrors the mode in `Oem/Nvidia.Mode`, inline or behind a link; "" means unknown. */
async function nvidiaMode(client: RedfishClient, dpu: Body, where: Locations): Promise<DpuMode | null> {
  const inline = asRecord(asRecord(dpu.Oem).Nvidia);
  if (typeof inline.Mode === "string") return toMode(inline.Mode);
  if (!where.nvidiaOem) return null;
  return toMode((await readBody(client, where.nvidiaOem))?.Mode);
}

function installedOs(host: Body): InstalledOs | null {
  const os = asRecord(asRecord(asRecord(host.Oem).SmartFleet).OperatingSystem);
  const image = trimmed(os.Image);
  const version = trimmed(os.Version);
  return image && version ? { image, version } : null;
}

function needsCard(dpu: Body): boolean {
  return !trimmed(dpu.Model) || !trimmed(dpu.Manufacturer) || !trimmed(dpu.SerialNumber);
}

/** Maps the Bios `NicMode` (or NVIDIA `Mode`) value; anything else is unknown. */
export function toMode(value: unknown): DpuMode | null {
  if (value === "DpuMode") return "dpu";
  if (value === "NicMode") return "nic";
  return null;
}

/** Maps the Bios `HostPrivilegeLevel` value; anything else is unknown. */
export function toPrivilege(value: unknown): HostPrivilege | null {
  if (value === "Privileged") return "privileged";
  if (value === "Restricted") return "restricted";
  return null;
}

/** The Bios `NicMode` value for a mode. */
export function fromMode(mode: DpuMode): "DpuMode" | "NicMode" {
  return mode === "dpu" ? "DpuMode" : "NicMode";
}

/** The Bios `HostPrivilegeLevel` value for a privilege. */
export function fromPrivilege(privilege: HostPrivilege): "Privileged" | "Restricted" {
  return privilege === "privileged" ? "Privileged" : "Restricted";
}

function differs<T>(pending: T | null, current: T | null): T | null {
  return pending !== null && pending !== current ? pending : null;
}

function trimmed(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

async function readBody(client: RedfishClient, uri: string | undefined): Promise<Body | undefined> {
  if (!uri) return undefined;
  return asRecord((await client.get<Body>(uri)).body);
}
