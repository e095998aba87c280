/**
 * The e2e tier's harness: a copy of the Pulumi project in a sandbox (so no stack config
 * lands in the source tree), the lab inventory moved onto an address block of the test
 * file's own (so parallel files and other tiers never meet on a port), the emulated lab
 * fleet in-process or as a child process, and admin API reads of what the hardware
 * really holds.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import * as YAML from "yaml";
import type { Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type RunningEmulator } from "../../emulator";
import type { DpuState } from "../../emulator/model";
import { localStack, makeSandbox, repoRoot, type PulumiSandbox } from "../support/pulumi";

/** What the project copy needs to run the program and the policy pack. */
const PROJECT_ENTRIES = ["Pulumi.yaml", "package.json", "dist", "stacks", "examples", "schemas", "model", "policies"];

/** A sandboxed copy of the project with the lab inventory on its own addresses. */
export interface LabProject {
  /** Backend, PULUMI_HOME and passphrase. */
  sandbox: PulumiSandbox;
  /** Root of the project copy (holds Pulumi.yaml). */
  workDir: string;
  /** The copy's lab inventory (rewritten addresses). */
  inventoryFile: string;
  /** The copy's lab stack definition. */
  stackFile: string;
  /** The management password the stack claims every DPU with. */
  managementPassword: string;
  /** Serial of every DPU by `host/nic`. */
  serials: Record<string, string>;
  /** The factory password of every DPU by serial. */
  factoryPasswords: Record<string, string>;
  /** State dir for an emulator of this project. */
  emulatorDir: string;
  /** Removes the sandbox. */
  cleanup(): void;
}

/**
 * Copies the project into a fresh sandbox and moves every management address of the
 * lab inventory to `${addressBlock}.N` (N = 1, 2, ... in inventory order).
 */
export async function makeLabProject(addressBlock: string): Promise<LabProject> {
  const sandbox = await makeSandbox("smartfleet-e2e-");
  const workDir = path.join(sandbox.dir, "project");
  fs.mkdirSync(workDir);
  for (const entry of PROJECT_ENTRIES) {
    fs.cpSync(path.join(repoRoot, entry), path.join(workDir, entry), {
      recursive: true,
      // Stack settings of the source tree (Pulumi.<stack>.yaml) stay behind.
      filter: (src) => !/^Pulumi\.[^/]+\.yaml$/.test(path.basename(src)) || path.basename(src) === "Pulumi.yaml",
    });
  }
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"), "dir");
  const inventoryFile = path.join(workDir, "examples", "lab", "fleet.yaml");
  const { serials, factoryPasswords } = relocateInventory(inventoryFile, addressBlock);
  return {
    sandbox,
    workDir,
    inventoryFile,
    stackFile: path.join(workDir, "stacks", "lab.yaml"),
    managementPassword: `Sf-${randomBytes(12).toString("base64url")}`,
    serials,
    factoryPasswords,
    emulatorDir: path.join(sandbox.dir, "emulator"),
    cleanup: () => sandbox.cleanup(),
  };
}

interface InventoryNic {
  name: string;
  serial: string;
  management: { address: string; port?: number };
  factoryCredentials: { username: string; password: string };
}

/** Rewrites the inventory's management addresses in place; returns serials and factory passwords. */
function relocateInventory(file: string, addressBlock: string): { serials: Record<string, string>; factoryPasswords: Record<string, string> } {
  const doc = YAML.parseDocument(fs.readFileSync(file, "utf8"));
  const inventory = doc.toJS() as { hosts: Array<{ name: string; smartnics: InventoryNic[] }> };
  const serials: Record<string, string> = {};
  const factoryPasswords: Record<string, string> = {};
  let n = 0;
  inventory.hosts.forEach((host, h) =>
    host.smartnics.forEach((nic, i) => {
      n += 1;
      doc.setIn(["hosts", h, "smartnics", i, "management", "address"], `${addressBlock}.${n}`);
      serials[`${host.name}/${nic.name}`] = nic.serial;
      factoryPasswords[nic.serial] = nic.factoryCredentials.password;
    }),
  );
  fs.writeFileSync(file, doc.toString());
  return { serials, factoryPasswords };
}

/** Optional provider time budgets (seconds). */
export interface StackTimeouts {
  /** `smartfleet:callTimeoutSeconds`: longest wait for one HTTP request. */
  callTimeoutSeconds?: number;
  /** `smartfleet:operationTimeoutSeconds`: longest wait for one whole operation. */
  operationTimeoutSeconds?: number;
}

/** Creates the stack `stackName` in the project copy, configured for the emulator whose endpoints file is given. */
export async function labStack(project: LabProject, stackName: string, endpointsFile: string, timeouts: StackTimeouts = {}): Promise<Stack> {
  const stack = await localStack(project.sandbox, project.workDir, stackName);
  await stack.setAllConfig({
    "smartfleet:stackFile": { value: path.relative(project.workDir, project.stackFile) },
    "smartfleet:endpoints": { value: endpointsFile },
    "smartfleet:managementPassword": { value: project.managementPassword, secret: true },
    ...(timeouts.callTimeoutSeconds ? { "smartfleet:callTimeoutSeconds": { value: String(timeouts.callTimeoutSeconds) } } : {}),
    ...(timeouts.operationTimeoutSeconds ? { "smartfleet:operationTimeoutSeconds": { value: String(timeouts.operationTimeoutSeconds) } } : {}),
  });
  return stack;
}

/** Edits the project copy's lab stack definition (comments and layout kept). */
export function editStackFile(project: LabProject, edit: (doc: YAML.Document) => void): void {
  const doc = YAML.parseDocument(fs.readFileSync(project.stackFile, "utf8"));
  edit(doc);
  fs.writeFileSync(project.stackFile, doc.toString());
}

/** The in-process emulated fleet of a project, at time scale 0. */
export async function startLabEmulator(project: LabProject, timeScale = 0): Promise<RunningEmulator> {
  return startEmulator({ inventory: project.inventoryFile, stateDir: project.emulatorDir, timeScale });
}

/** Where an emulator's admin API is. */
export interface AdminAccess {
  /** Base URL of the admin API. */
  adminUrl: string;
  /** Its bearer token. */
  adminToken: string;
}

/** The admin API's state dump of one DPU. */
export interface DpuDump {
  serial: string;
  state: DpuState;
  healthy: boolean;
  tasks: Array<{ id: string; state: string; name: string }>;
}

/** One admin API call; throws with the answer on a non-2xx status. */
export async function admin<T = unknown>(access: AdminAccess, method: string, route: string, body?: unknown): Promise<T> {
  const res = await fetch(new URL(route, access.adminUrl), {
    method,
    headers: { Authorization: `Bearer ${access.adminToken}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`admin ${method} ${route} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** What the hardware holds for one DPU (the admin state dump). */
export async function dpuState(access: AdminAccess, serial: string): Promise<DpuState> {
  return (await admin<DpuDump>(access, "GET", `/admin/v1/dpus/${encodeURIComponent(serial)}/state`)).state;
}

/** Every DPU's state by serial. */
export async function fleetState(access: AdminAccess): Promise<Record<string, DpuState>> {
  const dpus = await admin<Array<{ serial: string }>>(access, "GET", "/admin/v1/dpus");
  const states = await Promise.all(dpus.map((d) => dpuState(access, d.serial)));
  return Object.fromEntries(states.map((s) => [s.serial, s]));
}

/** An out-of-band change on one DPU, as an operator at its console would make it. */
export async function drift(access: AdminAccess, serial: string, change: Record<string, unknown>): Promise<void> {
  await admin(access, "POST", `/admin/v1/dpus/${encodeURIComponent(serial)}/drift`, change);
}

/** Sets (merges) faults on one DPU's management port. */
export async function setFaults(access: AdminAccess, serial: string, faults: { portDown?: boolean; latencyMs?: number; errorRate?: number }): Promise<void> {
  await admin(access, "PATCH", `/admin/v1/dpus/${encodeURIComponent(serial)}/faults`, faults);
}

/** Clears every fault of one DPU's management port. */
export async function clearFaults(access: AdminAccess, serial: string): Promise<void> {
  await admin(access, "DELETE", `/admin/v1/dpus/${encodeURIComponent(serial)}/faults`);
}

/** Totals over the fleet: what a leak or a duplicate would show in. */
export interface FleetCounts {
  services: number;
  hostDevices: number;
  servicePairs: number;
  pairMemberships: number;
  acceleratorShares: number;
  insertedMedia: number;
  bootOverrides: number;
}

/** Counts what the whole fleet holds. */
export function countFleet(states: Record<string, DpuState>): FleetCounts {
  const all = Object.values(states);
  const sum = (f: (s: DpuState) => number) => all.reduce((total, s) => total + f(s), 0);
  return {
    services: sum((s) => s.services.length),
    hostDevices: sum((s) => s.hostDevices.length),
    servicePairs: sum((s) => s.servicePairs.length),
    pairMemberships: sum((s) => s.pairMemberships.length),
    acceleratorShares: sum((s) => s.acceleratorShares.length),
    insertedMedia: sum((s) => (s.virtualMedia.inserted ? 1 : 0)),
    bootOverrides: sum((s) => (s.host.bootOverride.enabled !== "Disabled" ? 1 : 0)),
  };
}

/** What the lab stack (stacks/lab.yaml) holds once `up` has run: the same totals. */
export const LAB_COUNTS: FleetCounts = {
  services: 5,
  hostDevices: 3,
  servicePairs: 1,
  pairMemberships: 1,
  acceleratorShares: 1,
  insertedMedia: 0,
  bootOverrides: 0,
};

/** An emulator running as a child process (`smartfleet emulator start`), to be killed for real. */
export interface EmulatorProcess extends AdminAccess {
  /** The child. */
  child: ChildProcess;
  /** The endpoints file it wrote. */
  endpointsFile: string;
  /** Kills it with `signal` and waits until it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts `smartfleet emulator start` on the project's inventory and state dir; resolves once the admin API answers. */
export async function spawnEmulator(project: LabProject, timeScale: number): Promise<EmulatorProcess> {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, "cli", "bin", "smartfleet.js"), "emulator", "start", "--inventory", project.inventoryFile, "--state", project.emulatorDir, "--time-scale", String(timeScale)],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, SMARTFLEET_ROOT: repoRoot } },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  const adminUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the emulator did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const found = /admin URL: (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the emulator exited (${code}) before it was up:\n${output}`));
    });
  });
  return {
    child,
    adminUrl,
    adminToken: fs.readFileSync(path.join(project.emulatorDir, "admin-token"), "utf8").trim(),
    endpointsFile: path.join(project.emulatorDir, "endpoints.json"),
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** The endpoints file an emulator of the project writes. */
export function endpointsFileOf(project: LabProject): string {
  return path.join(project.emulatorDir, "endpoints.json");
}

/** An answer of a management port. */
export interface RedfishAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Redfish bodies are read loosely in assertions
  body: any;
}

/** One Redfish GET on a DPU's management port (Basic auth, TLS verified against the emulator's CA). */
export async function redfishGet(emulator: RunningEmulator, serial: string, route: string, password: string): Promise<RedfishAnswer> {
  const dpu = emulator.endpoints.dpus.find((d) => d.serial === serial);
  if (!dpu) throw new Error(`no DPU ${serial} in the emulator's endpoints`);
  const url = new URL(route, dpu.url);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { ca: emulator.caPem, agent: false, headers: { Authorization: `Basic ${Buffer.from(`${dpu.factoryUsername}:${password}`).toString("base64")}` } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * Runs `work` while collecting the fingerprint (SHA-256 hex of the token: the emulator
 * stores and shows no token) of every management session the fleet opens (polling the
 * state dumps), so a test can prove with `findSessionToken` that none reached Pulumi's state.
 */
export async function watchSessionTokens<T>(access: AdminAccess, tokens: Set<string>, work: () => Promise<T>): Promise<T> {
  let running = true;
  const poll = (async () => {
    while (running) {
      for (const state of Object.values(await fleetState(access))) {
        for (const s of state.sessions as unknown as Array<{ fingerprint?: string }>) if (s.fingerprint) tokens.add(s.fingerprint);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  try {
    return await work();
  } finally {
    running = false;
    await poll;
  }
}

/** A token-shaped string in `text` whose SHA-256 is one of `fingerprints` (a session token that leaked), else undefined. */
export function findSessionToken(text: string, fingerprints: ReadonlySet<string>): string | undefined {
  for (const [candidate] of text.matchAll(/[A-Za-z0-9+/=_-]{16,}/g)) {
    if (fingerprints.has(createHash("sha256").update(candidate).digest("hex"))) return candidate;
  }
  return undefined;
}

/** Runs the sandbox's `pulumi` CLI in the project copy; resolves to stdout, rejects with stderr on a non-zero exit. */
export function pulumiCli(project: LabProject, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      project.sandbox.command.command,
      args,
      { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => (error ? reject(Object.assign(new Error(`pulumi ${args.join(" ")}: ${stderr}${stdout}`), { cause: error, stdout, stderr })) : resolve(stdout)),
    );
  });
}

/** Every file of the sandbox's state backend: checkpoints, backups, history. */
export function backendFiles(project: LabProject): string[] {
  return (fs.readdirSync(project.sandbox.backendDir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}
