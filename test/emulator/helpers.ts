/** Shared helpers for emulator tests: a small inventory, HTTPS requests trusting the emulator CA, admin calls. */
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll } from "vitest";
import { servedSha256 } from "../../emulator/images";
import type { FleetInventory } from "../../model/inventory";

/** A random 127.x.y block per inventory so parallel test files rarely meet; startTestFleet retries if they do. */
function addressBlock(): string {
  return `127.${20 + Math.floor(Math.random() * 200)}.${1 + Math.floor(Math.random() * 250)}`;
}

/** Images: a good DPU OS (two versions), a host OS, NIC firmware, and one with a wrong checksum. */
export function testImages(): FleetInventory["images"] {
  const img = (name: string, version: string, ext: string, good = true) => {
    const uri = `http://images.test/${name}-${version}.${ext}`;
    return { name, version, uri, sha256: good ? servedSha256(uri) : "0".repeat(64) };
  };
  return [img("esxi-arm", "8.0.3", "bfb"), img("esxi-arm", "8.0.2", "bfb"), img("esxi-x86", "8.0.3", "iso"), img("bf-nic-fw", "32.43.1014", "bin"), img("esxi-arm", "9.9.9", "bfb", false)];
}

/** Four hosts: h1 (nvidia, with an FPGA), h2 (amd), h3 (nvidia, NIC mode, small), h4 (intel). */
export function testInventory(): FleetInventory {
  const block = addressBlock();
  return {
    apiVersion: "smartfleet.dev/v1",
    kind: "Fleet",
    metadata: { name: "test" },
    images: testImages(),
    hosts: [
      {
        name: "h1", serial: "H1", vendor: "dell", model: "PowerEdge R760", cpus: 64, memoryGiB: 512,
        accelerators: [{ name: "fpga0", model: "alveo-u55c", slot: 3 }],
        smartnics: [{ name: "nic1", serial: "NV1", slot: 1, vendor: "nvidia", model: "bluefield-3", armCores: 16, memoryGiB: 32, management: { address: `${block}.1`, port: 8443 }, factoryCredentials: { username: "root", password: "0penBmc" } }],
      },
      {
        name: "h2", serial: "H2", vendor: "hpe", model: "ProLiant DL380", cpus: 32, memoryGiB: 256,
        smartnics: [{ name: "nic1", serial: "AMD1", slot: 2, vendor: "amd", model: "pensando-dsc2", armCores: 16, memoryGiB: 32, management: { address: `${block}.2`, port: 8443 }, factoryCredentials: { username: "admin", password: "N0tSecret" } }],
      },
      {
        name: "h3", serial: "H3", vendor: "lenovo", model: "SR650", cpus: 32, memoryGiB: 256,
        smartnics: [{ name: "nic1", serial: "NV2", slot: 1, vendor: "nvidia", model: "bluefield-2", armCores: 8, memoryGiB: 16, management: { address: `${block}.3`, port: 8443 }, factoryCredentials: { username: "root", password: "0penBmc" }, factoryState: { mode: "nic" } }],
      },
      {
        name: "h4", serial: "H4", vendor: "other", model: "Whitebox", cpus: 16, memoryGiB: 64,
        smartnics: [{ name: "nic1", serial: "IPU1", slot: 1, vendor: "intel", model: "ipu-e2000", armCores: 16, memoryGiB: 48, management: { address: `${block}.4`, port: 8443 }, factoryCredentials: { username: "admin", password: "1ntelIpu" } }],
      },
    ],
  };
}

const tempDirs: string[] = [];
// Registered while the importing test file is collected: runs after all of its tests.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary state dir, removed when the test process exits. */
export function tempStateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-emu-"));
  tempDirs.push(dir);
  return dir;
}

/** An HTTP answer. */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  text: string;
}

/** One HTTPS request trusting `ca`. */
export function request(ca: string, url: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown; rawBody?: string | Buffer; auth?: [string, string] } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.auth) headers.Authorization = `Basic ${Buffer.from(`${opts.auth[0]}:${opts.auth[1]}`).toString("base64")}`;
  let payload: string | Buffer | undefined = opts.rawBody;
  if (opts.body !== undefined) payload = JSON.stringify(opts.body);
  if (payload !== undefined) headers["Content-Type"] = "application/json";
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? "GET", headers, ca, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** One admin API call. */
export async function admin(emu: { adminUrl: string; adminToken: string }, method: string, p: string, body?: unknown): Promise<{ status: number; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const res = await fetch(`${emu.adminUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${emu.adminToken}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The password tests give claimed accounts. */
export const NEW_PASSWORD = "Sm4rtFleet-pass";

/** A started test fleet with helpers bound to it. */
export interface TestFleet {
  /** The emulator. */
  emu: import("../../emulator/index").RunningEmulator;
  /** Its clock. */
  clock: import("../../emulator/clock").ManualClock;
  /** Its state dir. */
  stateDir: string;
  /** Base URL of a DPU's port by serial. */
  url(serial: string): string;
  /** GET/POST/PATCH/DELETE on a DPU with claimed credentials. */
  call(serial: string, method: string, p: string, body?: unknown, headers?: Record<string, string>): Promise<Answer>;
  /** Rotates the factory password of a DPU (as the provider's claim does). */
  claim(serial: string): Promise<void>;
  /** Advances simulated time and lets the event loop settle. */
  advance(ms: number): Promise<void>;
}

/** Starts the test inventory on a ManualClock (hardware durations, timeScale 1). */
export async function startTestFleet(opts: { stateDir?: string; clock?: import("../../emulator/clock").ManualClock; inventory?: FleetInventory } = {}): Promise<TestFleet> {
  const { startEmulator, ManualClock } = await import("../../emulator/index");
  const clock = opts.clock ?? new ManualClock();
  const stateDir = opts.stateDir ?? tempStateDir();
  let inventory = opts.inventory ?? testInventory();
  let emu: import("../../emulator/index").RunningEmulator | undefined;
  for (let attempt = 0; !emu; attempt++) {
    try {
      emu = await startEmulator({ inventory, stateDir, clock, timeScale: 1 });
    } catch (err) {
      // Another test file holds this address block: take another (fresh inventories only).
      if (opts.inventory || attempt >= 5 || !/EADDRINUSE/.test(String((err as Error).message))) throw err;
      inventory = testInventory();
    }
  }
  const factory = new Map(inventory.hosts.flatMap((h) => h.smartnics.map((n) => [n.serial, n.factoryCredentials] as const)));
  const url = (serial: string): string => {
    const d = emu.endpoints.dpus.find((x) => x.serial === serial);
    if (!d) throw new Error(`no DPU ${serial}`);
    return d.url;
  };
  const user = (serial: string): string => factory.get(serial)?.username ?? "root";
  return {
    emu,
    clock,
    stateDir,
    url,
    call: (serial, method, p, body, headers) => request(emu.caPem, `${url(serial)}${p}`, { method, body, headers, auth: [user(serial), NEW_PASSWORD] }),
    async claim(serial) {
      const f = factory.get(serial);
      if (!f) throw new Error(`no DPU ${serial}`);
      const r = await request(emu.caPem, `${url(serial)}/redfish/v1/AccountService/Accounts/${f.username}`, { method: "PATCH", body: { Password: NEW_PASSWORD }, auth: [f.username, f.password] });
      if (r.status !== 200) throw new Error(`claim of ${serial} failed: ${r.status} ${r.text}`);
    },
    async advance(ms) {
      clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** The task id in a 202 answer's Location. */
export function monitorOf(a: Answer): string {
  const loc = String(a.headers.location ?? "");
  if (a.status !== 202 || !loc.includes("/TaskMonitors/")) throw new Error(`expected 202 with a task monitor, got ${a.status} ${a.text}`);
  return loc;
}
