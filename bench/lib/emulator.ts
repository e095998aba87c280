// Runs the emulated fleet as its own process (as `smartfleet emulator start` does) from
// the benchmark's build, and reads and zeroes its per-port request counters.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EndpointsFile } from "../../schemas/generated/endpoints";

/** An emulator process started by `startEmulator`. */
export interface BenchEmulator {
  endpoints: EndpointsFile;
  endpointsFile: string;
  adminUrl: string | undefined;
  token: string;
  pid: number;
  stop(): Promise<void>;
}

/** The parts of the admin API's state dump of one DPU the benchmark checks. */
export interface DpuStateDump {
  state: {
    bios: { hostPrivilege: string };
    dpuOs?: { state: string };
    services?: Array<{ state: string }>;
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Starts `cli/main.js emulator start` from `buildDir` on `inventory` with state in
 * `stateDir` and waits until it has written endpoints.json. Returns
 * `{ endpoints, endpointsFile, adminUrl, token, pid, stop() }`.
 */
export async function startEmulator(buildDir: string, inventory: string, stateDir: string, timeScale: number, log: (line: string) => void): Promise<BenchEmulator> {
  fs.mkdirSync(stateDir, { recursive: true });
  const endpointsFile = path.join(stateDir, "endpoints.json");
  fs.rmSync(endpointsFile, { force: true });
  const logFile = fs.openSync(path.join(stateDir, "emulator.log"), "a");
  const child = spawn(process.execPath, [path.join(buildDir, "cli", "main.js"), "emulator", "start", "--inventory", inventory, "--state", stateDir, "--time-scale", String(timeScale)], {
    stdio: ["ignore", logFile, logFile],
  });
  fs.closeSync(logFile);
  // Set by the exit handler (the cast keeps TypeScript from narrowing it to null for good).
  let exited = null as { code: number | null; signal: NodeJS.Signals | null } | null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const started = Date.now();
  while (!fs.existsSync(endpointsFile)) {
    if (exited) throw new Error(`the emulator exited (${exited.code ?? exited.signal}) before it was ready; see ${path.join(stateDir, "emulator.log")}`);
    if (Date.now() - started > 120_000) {
      child.kill("SIGTERM");
      throw new Error(`the emulator was not ready after 120 s; see ${path.join(stateDir, "emulator.log")}`);
    }
    await sleep(100);
  }
  await sleep(50); // endpoints.json is written in one call; give the write a moment to land
  const endpoints = JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as EndpointsFile;
  const token = fs.readFileSync(path.join(stateDir, "admin-token"), "utf8").trim();
  log(`emulator pid ${child.pid}: ${endpoints.dpus.length} ports, time scale ${timeScale}`);
  return {
    endpoints,
    endpointsFile,
    adminUrl: endpoints.adminUrl,
    token,
    pid: child.pid as number,
    async stop() {
      if (exited) return;
      const done = new Promise<void>((resolve) => child.on("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await done;
      clearTimeout(timer);
    },
  };
}

async function admin(emulator: BenchEmulator, method: string, route: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${emulator.adminUrl}${route}`, {
    method,
    headers: { Authorization: `Bearer ${emulator.token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`admin API ${method} ${route} answered ${res.status}: ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

/** Zeroes every port's request counter. */
export async function resetCounters(emulator: BenchEmulator): Promise<void> {
  await admin(emulator, "DELETE", "/admin/v1/counters");
}

/** Requests answered by all management ports since the last reset, and by status. */
export async function totalRequests(emulator: BenchEmulator): Promise<{ requests: number; byStatus: Record<string, number> }> {
  const counters = (await admin(emulator, "GET", "/admin/v1/counters")) as Record<string, { requests: number; byStatus?: Record<string, number> }>;
  let requests = 0;
  const byStatus: Record<string, number> = {};
  for (const port of Object.values(counters)) {
    requests += port.requests;
    for (const [status, n] of Object.entries(port.byStatus ?? {})) byStatus[status] = (byStatus[status] ?? 0) + n;
  }
  return { requests, byStatus };
}

/** The persisted state of one DPU (bios, accounts, services...). */
export async function dpuState(emulator: BenchEmulator, serial: string): Promise<DpuStateDump> {
  return (await admin(emulator, "GET", `/admin/v1/dpus/${encodeURIComponent(serial)}/state`)) as DpuStateDump;
}

/** The emulator's disruption log (DPU reboots, power cycles... with start and end in clock ms). */
export async function disruptions(emulator: BenchEmulator): Promise<Array<{ kind: string; host: string; dpu?: string; start: number; end: number | null }>> {
  return (await admin(emulator, "GET", "/admin/v1/disruptions")) as Array<{ kind: string; host: string; dpu?: string; start: number; end: number | null }>;
}

/** Empties the disruption log. */
export async function clearDisruptions(emulator: BenchEmulator): Promise<void> {
  await admin(emulator, "DELETE", "/admin/v1/disruptions");
}
