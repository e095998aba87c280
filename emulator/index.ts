/**
 * The emulated fleet: `startEmulator` loads an inventory, opens the SQLite state,
 * ensures the PKI, binds one HTTPS management port per DPU and the admin API, and
 * writes `DIR/endpoints.json`, `DIR/ca.pem` and `DIR/admin-token`.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { startAdminServer } from "./admin";
import { ensurePki } from "./certs";
import { SystemClock, type Clock } from "./clock";
import type { EndpointsFile } from "../schemas/generated/endpoints";
import { loadInventory, placedDpus, validateInventory, type FleetInventory } from "../model/inventory";
import { ManagementPorts, type PortLimits } from "./port-server";
import { Simulation } from "./simulation";
import { StateStore } from "./store";

export { ManualClock, SystemClock, type Clock } from "./clock";
export type { EndpointsFile, DpuEndpoint } from "../schemas/generated/endpoints";
export type { FleetInventory } from "../model/inventory";
export { DEFAULT_PORT_LIMITS, type PortLimits } from "./port-server";

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** The inventory, or the path of its YAML file. */
  inventory: FleetInventory | string;
  /** State dir (SQLite, CA, endpoints.json, admin-token). */
  stateDir: string;
  /** Multiplier for operation durations (1 = hardware speed, 0 = instant). Default 1. */
  timeScale?: number;
  /** Seed of the fault-injection PRNG. Default 1. */
  seed?: number;
  /** Source of time. Default: the system clock. */
  clock?: Clock;
  /** Admin API port on 127.0.0.1 (0 or absent picks a free one). */
  adminPort?: number;
  /** Connection limits of the management ports (timeouts, connections per port); unset ones keep `DEFAULT_PORT_LIMITS`. */
  limits?: Partial<PortLimits>;
}

/** A running emulator. */
export interface RunningEmulator {
  /** What `DIR/endpoints.json` holds. */
  endpoints: EndpointsFile;
  /** Admin API base URL. */
  adminUrl: string;
  /** Admin API bearer token. */
  adminToken: string;
  /** CA certificate (PEM) of every management port. */
  caPem: string;
  /** Stops listeners and timers and closes the database. */
  stop(): Promise<void>;
}

function adminToken(stateDir: string): string {
  const file = path.join(stateDir, "admin-token");
  if (fs.existsSync(file)) {
    fs.chmodSync(file, 0o600);
    return fs.readFileSync(file, "utf8").trim();
  }
  const token = randomBytes(24).toString("hex");
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Starts an emulated fleet. */
export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  // Emulated ports listen on this machine: every management address must be a loopback one.
  const inventory = typeof opts.inventory === "string" ? loadInventory(opts.inventory, { loopbackOnly: true }) : validateInventory(opts.inventory, { loopbackOnly: true });
  const stateDir = path.resolve(opts.stateDir);
  fs.mkdirSync(stateDir, { recursive: true });
  const dpus = placedDpus(inventory);
  const pki = await ensurePki(stateDir, dpus.map((d) => d.nic.management.address));
  const store = new StateStore(stateDir);
  const sim = new Simulation({ inventory, store, clock: opts.clock ?? new SystemClock(), timeScale: opts.timeScale ?? 1 });
  let ports: ManagementPorts | undefined;
  try {
    sim.start();
    ports = new ManagementPorts(sim, pki, opts.seed ?? 1, opts.limits);
    await ports.start();
  } catch (err) {
    sim.stop();
    store.close();
    throw err;
  }
  const token = adminToken(stateDir);
  let admin;
  try {
    admin = await startAdminServer(sim, ports, token, opts.adminPort ?? 0);
  } catch (err) {
    await ports.stop();
    sim.stop();
    store.close();
    throw err;
  }
  const endpoints: EndpointsFile = {
    fleet: inventory.metadata.name,
    caFile: pki.caFile,
    adminUrl: admin.url,
    dpus: dpus.map(({ host, nic }) => ({
      host: host.name,
      nic: nic.name,
      serial: nic.serial,
      vendor: nic.vendor,
      model: nic.model,
      url: `https://${nic.management.address}:${nic.management.port ?? 8443}`,
      factoryUsername: nic.factoryCredentials.username,
    })),
  };
  fs.writeFileSync(path.join(stateDir, "endpoints.json"), JSON.stringify(endpoints, null, 2) + "\n");
  let stopped = false;
  const runningPorts = ports;
  const runningAdmin = admin;
  return {
    endpoints,
    adminUrl: admin.url,
    adminToken: token,
    caPem: pki.caPem,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([runningPorts.stop(), runningAdmin.close()]);
      sim.stop();
      store.close();
    },
  };
}
