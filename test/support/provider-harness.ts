/**
 * The provider tier's harness: an in-process emulated fleet at time scale 0 in a temp
 * state dir, provider settings pointing at its CA, input builders from the inventory,
 * and admin calls to look at (and tamper with) the hardware behind the providers' back.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { startEmulator, type Clock, type FleetInventory, type RunningEmulator } from "../../emulator";
import type { DpuTarget } from "../../schemas/generated/common";
import type { HostRollout } from "../../model/rollout";
import { rolloutOrLegacy } from "../../providers/rollout/hold";
import { closeAllClients } from "../../providers/redfish";
import { setProviderSettings } from "../../providers/common/settings";
import { closeRolloutStores } from "../../providers/rollout/run";
import { implementation as dpuOs } from "../../providers/dpu-os";
import { implementation as smartNic, type SmartNicArgs } from "../../providers/smart-nic";
import { tempStateDir, testInventory } from "../emulator/helpers";

/** The management password the tests claim every DPU with. */
export const MANAGED_PASSWORD = "Managed-Pa55word!";

/** A running test fleet. */
export interface Fleet {
  /** The inventory the emulator runs. */
  inventory: FleetInventory;
  /** The emulator. */
  emulator: RunningEmulator;
  /** Its state dir. */
  stateDir: string;
  /** Stops the emulator, logs every pooled client out and removes the state dir. */
  stop(): Promise<void>;
}

/** Starts a fleet from `testInventory()` (optionally changed by `edit`) and configures the providers for it. */
export async function startFleet(
  edit?: (inventory: FleetInventory) => void,
  opts: { operationTimeoutMs?: number; clock?: Clock; timeScale?: number } = {},
): Promise<Fleet> {
  const inventory = testInventory();
  edit?.(inventory);
  const stateDir = tempStateDir();
  const emulator = await startEmulator({ inventory, stateDir, timeScale: opts.timeScale ?? 0, clock: opts.clock });
  // Rollout leases of this fleet's disruptions live beside it, never in the project's .smartfleet/.
  process.env.SMARTFLEET_ROLLOUT_DIR = path.join(stateDir, "rollout");
  setProviderSettings({ caPem: emulator.caPem, callTimeoutMs: 5_000, operationTimeoutMs: opts.operationTimeoutMs ?? 20_000, retries: 1 });
  return {
    inventory,
    emulator,
    stateDir,
    async stop() {
      await closeAllClients();
      closeRolloutStores();
      await emulator.stop();
      fs.rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function nicOf(inventory: FleetInventory, host: string, nic: string) {
  const h = inventory.hosts.find((x) => x.name === host);
  const n = h?.smartnics.find((x) => x.name === nic);
  if (!h || !n) throw new Error(`no ${host}/${nic} in the test inventory`);
  return { host: h, nic: n };
}

/** The target block of `host/nic`. */
export function target(inventory: FleetInventory, host: string, nic = "nic1"): DpuTarget {
  const { nic: n } = nicOf(inventory, host, nic);
  return { host, smartnic: nic, serial: n.serial, address: n.management.address, port: n.management.port ?? 8443 };
}

/** Credentials of the managed account on `host/nic`. */
export function credentials(inventory: FleetInventory, host: string, nic = "nic1"): { username: string; password: string } {
  return { username: nicOf(inventory, host, nic).nic.factoryCredentials.username, password: MANAGED_PASSWORD };
}

/** SmartNic inputs for `host/nic` in DPU mode. */
export function smartNicArgs(inventory: FleetInventory, host: string, nic = "nic1", overrides: Partial<SmartNicArgs> = {}): SmartNicArgs {
  const { host: h, nic: n } = nicOf(inventory, host, nic);
  return {
    target: target(inventory, host, nic),
    vendor: n.vendor,
    model: n.model,
    slot: n.slot,
    armCores: n.armCores,
    memoryGiB: n.memoryGiB,
    hostVendor: h.vendor,
    mode: "dpu",
    hostPrivilege: "restricted",
    factoryMode: n.factoryState?.mode ?? "dpu",
    ...credentials(inventory, host, nic),
    factoryPassword: n.factoryCredentials.password,
    ...overrides,
  };
}

/** The image of that name and version from the inventory. */
export function image(inventory: FleetInventory, name: string, version: string): { uri: string; sha256: string } {
  const found = (inventory.images ?? []).find((i) => i.name === name && i.version === version);
  if (!found) throw new Error(`no image ${name} ${version} in the test inventory`);
  return { uri: found.uri, sha256: found.sha256 };
}

/** One admin API call; resolves to the parsed body (throws on a non-2xx answer). */
export function admin<T = Record<string, unknown>>(fleet: Fleet, method: string, path: string, body?: unknown): Promise<T> {
  const url = new URL(path, fleet.emulator.adminUrl);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method, headers: { Authorization: `Bearer ${fleet.emulator.adminToken}`, ...(payload ? { "Content-Type": "application/json" } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 500) >= 300) reject(new Error(`admin ${method} ${path} answered ${res.statusCode}: ${text}`));
          else resolve((text ? JSON.parse(text) : undefined) as T);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** The emulator's state dump of one DPU. */
export interface DpuDump {
  bios: { mode: string; hostPrivilege: string };
  accounts: Array<{ userName: string; password: string; passwordChangeRequired: boolean }>;
  dpuOs: { image: string | null; version: string | null; hostname: string | null; ntpServers: string[]; cluster: string | null; state: string };
  host: { powerState: string; bootOverride: { enabled: string; target: string }; os: { image: string; version: string } | null };
  virtualMedia: { inserted: boolean };
  services: Array<{ id: string; serviceType: string; version: string; cores: number; memoryGiB: number; config: Record<string, unknown>; state: string }>;
  hostDevices: Array<{ id: string; kind: string; function: string; backingService: string | null; hostPciAddress: string }>;
  servicePairs: Array<{ id: string; activeSide: string; version: string }>;
  acceleratorShares: Array<{ id: string; accelerator: string; consumerSerial: string; hostPciAddress: string }>;
}

/** Reads a DPU's state through the admin API (the hardware's truth, not the provider's outputs). */
export async function dump(fleet: Fleet, serial: string): Promise<DpuDump> {
  return (await admin<{ state: DpuDump }>(fleet, "GET", `/admin/v1/dpus/${encodeURIComponent(serial)}/state`)).state;
}

/** A fleet whose DPUs on `hosts` are claimed and run ESXi on Arm 8.0.3: where the host-level and cross-DPU kinds start. */
export async function startClaimedFleet(hosts: string[] = ["h1", "h2"]): Promise<Fleet> {
  const fleet = await startFleet();
  for (const h of hosts) {
    await smartNic.create(smartNicArgs(fleet.inventory, h));
    await dpuOs.create({ target: target(fleet.inventory, h), image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...credentials(fleet.inventory, h) });
  }
  return fleet;
}

/** The rollout context of a host on its own (its own group, one at a time, no settle wait), as declarations give it. */
export function rolloutOf(host: string, overrides: Partial<HostRollout> = {}): HostRollout {
  const alone = rolloutOrLegacy(undefined, host, host.toUpperCase());
  return { ...alone, stack: "test", onFailure: "halt", healthGate: { settleSeconds: 0, timeoutSeconds: 60 }, ...overrides };
}
