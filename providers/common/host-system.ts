/**
 * The host server as a DPU's management port exposes it (`SystemType: Physical`):
 * its serial, power state, boot override and the OS installed through the DPU.
 */
import { asRecord } from "../redfish";
import { followTask, type DpuConnection, type Resumable } from "./dpu";

/** What the port says about its host. */
export interface HostSystemFacts {
  /** The host system's URI. */
  uri: string;
  /** The host's serial number, trimmed. */
  serial: string;
  /** `On` or `Off`. */
  powerState: string;
  /** The boot override. */
  boot: { enabled: string; target: string };
  /** The installed OS, or null. */
  os: { image: string; version: string } | null;
  /**
   * False when the port does not say which OS the host runs (no `Oem.SmartFleet` on the
   * host system: a BMC without our OEM view, or the OEM view hidden); `os` is then null.
   */
  osReported: boolean;
}

/** Reads the host system; fails clearly when the port exposes none. */
export async function readHostSystem(connection: DpuConnection): Promise<HostSystemFacts> {
  const uri = connection.where.hostSystem;
  if (!uri) throw new Error(`the management port of ${connection.label} does not expose the host it sits in`);
  const body = asRecord((await connection.client.get<Record<string, unknown>>(uri)).body);
  const boot = asRecord(body.Boot);
  const os = asRecord(asRecord(asRecord(body.Oem).SmartFleet).OperatingSystem);
  return {
    uri,
    serial: typeof body.SerialNumber === "string" ? body.SerialNumber.trim() : "",
    powerState: String(body.PowerState ?? ""),
    boot: { enabled: String(boot.BootSourceOverrideEnabled ?? "Disabled"), target: String(boot.BootSourceOverrideTarget ?? "None") },
    os: typeof os.Image === "string" && typeof os.Version === "string" ? { image: os.Image, version: os.Version } : null,
    osReported: asRecord(body.Oem).SmartFleet !== undefined,
  };
}

/** Fails unless the port's host has the serial the stack names. */
export function requireHostSerial(connection: DpuConnection, facts: HostSystemFacts, serial: string): void {
  if (facts.serial !== serial) {
    throw new Error(`the DPU ${connection.label} sits in host serial '${facts.serial}', not '${serial}'; fix the inventory`);
  }
}

/** Runs a host power action (`On`, `PowerCycle`, `ForceRestart`...) to its end. */
export async function resetHost(connection: DpuConnection, resetType: string, what: string, resumable?: Resumable): Promise<void> {
  const target = connection.where.hostReset;
  if (!target) throw new Error(`the management port of ${connection.label} offers no host reset action`);
  const started = await connection.client.post(target, { ResetType: resetType });
  await followTask(connection, started.location, what, resumable);
}
