// Wall time of `pulumi up` from nothing and of a no-change `pulumi preview` with the real
// CLI against the emulated fleet at --time-scale 0, for the lab fleet (stacks/lab.yaml) or
// for a generated fleet (model/fleet-generator.ts, the inventory `smartfleet generate-fleet`
// writes) with a generated stack:
//
//   scripts/with-toolchain.sh node bench/e2e-timing.js --lab
//   scripts/with-toolchain.sh node bench/e2e-timing.js --hosts 50 --nics-per-host 2
//
// (bench/e2e-timing.js runs this module compiled: dist/bench/e2e-timing.js.)
// Options: --runs N (default 1), --parallel P (default 32), --skip-checkpoints, --keep.
// Everything happens in a temp dir: a copy of the project (needs a current `npm run build`),
// its own file backend, PULUMI_HOME and passphrase, and an emulator child process on
// 127.206.x.y (generated) or 127.207.0.x (lab). After `up` the admin API must show every
// declared DPU with its OS and services Enabled, else the run fails.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { managementAddress, writeFleetFiles } from "../model/fleet-generator";
import { packageRoot } from "../schemas/paths";

const root = packageRoot();
const smartfleetBin = path.join(root, "cli", "bin", "smartfleet.js");
const PROJECT_ENTRIES = ["Pulumi.yaml", "package.json", "dist", "stacks", "examples", "schemas", "policies"];

/** The options of a timing run. */
interface TimingOptions {
  lab: boolean;
  hosts: number;
  nicsPerHost: number;
  runs: number;
  parallel: number;
  skipCheckpoints: boolean;
  keep: boolean;
}

/** node:util parseArgs values. */
type ParsedValues = Record<string, string | boolean | undefined>;

/** Parses the options; exits 0 after --help and 2 on a usage error (naming the option). */
function parseArgs(argv: string[]): TimingOptions {
  const usage = `usage: node bench/e2e-timing.js [--lab | --hosts N --nics-per-host M] [--runs N] [--parallel P] [--skip-checkpoints] [--keep]
  --lab               time the lab fleet (stacks/lab.yaml) instead of a generated one
  --hosts N           hosts of the generated fleet (default 50)
  --nics-per-host M   DPUs per host of the generated fleet (default 2)
  --runs N            repetitions (default 1)
  --parallel P        pulumi --parallel (default 32)
  --skip-checkpoints  run pulumi with PULUMI_SKIP_CHECKPOINTS
  --keep              keep the temp dir of every run
  -h, --help          show this help`;
  const fail = (message: string): never => {
    console.error(`e2e-timing: ${message}\n${usage}`);
    process.exit(2);
  };
  const int = { type: "string" } as const;
  const flag = { type: "boolean", default: false } as const;
  let v: ParsedValues = {};
  try {
    ({ values: v } = require("node:util").parseArgs({
      args: argv,
      options: { lab: flag, hosts: int, "nics-per-host": int, runs: int, parallel: int, "skip-checkpoints": flag, keep: flag, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (v.help) {
    console.log(usage);
    process.exit(0);
  }
  const positive = (name: string, fallback: number): number => {
    if (v[name] === undefined) return fallback;
    const n = Number(v[name]);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} needs a positive integer, got '${v[name]}'`);
    return n;
  };
  return { lab: v.lab === true, hosts: positive("hosts", 50), nicsPerHost: positive("nics-per-host", 2), runs: positive("runs", 1), parallel: positive("parallel", 32), skipCheckpoints: v["skip-checkpoints"] === true, keep: v.keep === true };
}

/** A copy of the project in `dir`, linked to the repository's node_modules; stack settings stay behind. */
function copyProject(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of PROJECT_ENTRIES) {
    fs.cpSync(path.join(root, entry), path.join(dir, entry), {
      recursive: true,
      filter: (src) => !/^Pulumi\.[^/]+\.yaml$/.test(path.basename(src)) || path.basename(src) === "Pulumi.yaml",
    });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
}

/** An inventory document as far as this reads it. */
interface InventoryDoc {
  hosts: Array<{ name: string; smartnics: Array<{ name: string; serial: string; management: { address: string } }> }>;
}

/** Moves every management address of an inventory document onto block `127.B` (the generator's allocator). */
function relocate(doc: InventoryDoc, block: number): InventoryDoc {
  let index = 0;
  for (const host of doc.hosts) for (const nic of host.smartnics) nic.management.address = managementAddress(index++, block);
  return doc;
}

/** What a run times: the inventory, the stack (relative to the project), the DPUs it declares. */
interface TimingFiles {
  fleetFile: string;
  stackFile: string;
  serials: string[];
  /** Services every DPU must end up with, or null when they differ per DPU. */
  servicesPerDpu: number | null;
}

/** The lab fleet and stack in the project copy, relocated; returns the stack file and its DPU serials. */
function labFiles(projectDir: string): TimingFiles {
  const fleetFile = path.join(projectDir, "examples", "lab", "fleet.yaml");
  const fleet = relocate(YAML.parse(fs.readFileSync(fleetFile, "utf8")), 207);
  fs.writeFileSync(fleetFile, YAML.stringify(fleet));
  const stack = YAML.parse(fs.readFileSync(path.join(projectDir, "stacks", "lab.yaml"), "utf8")) as { hosts: Record<string, { smartnics?: Record<string, unknown> } | undefined> };
  const serials: string[] = [];
  for (const host of fleet.hosts) for (const nic of host.smartnics) if (stack.hosts[host.name]?.smartnics?.[nic.name]) serials.push(nic.serial);
  return { fleetFile, stackFile: "stacks/lab.yaml", serials, servicesPerDpu: null };
}

/**
 * A generated fleet (the inventory `smartfleet generate-fleet` writes, on 127.206.x.y) and
 * a stack over all of it: ESXi on every host (through nic1) and DPU, every DPU in DPU
 * mode, restricted, with a firewall service and a vNIC backed by it.
 */
function generatedFiles(projectDir: string, opts: TimingOptions): TimingFiles {
  const files = writeFleetFiles(path.join(projectDir, "stacks", "generated"), {
    name: "generated",
    owner: "bench",
    dpus: opts.hosts * opts.nicsPerHost,
    nicsPerHost: opts.nicsPerHost,
    addressBlock: 206,
    hostPrivilege: "restricted",
    hostOs: true,
    clusterHosts: 0,
    services: { fw: { type: "firewall", version: "2.1.0", cores: 2, memoryGiB: 4 } },
    devices: { vnic0: { kind: "vnic", function: "vf", backing: { service: "fw" } } },
    pairEvery: 0,
    allowHostPowerCycle: true,
  });
  const fleet = YAML.parse(fs.readFileSync(files.fleetFile, "utf8")) as InventoryDoc;
  const serials = fleet.hosts.flatMap((host) => host.smartnics.map((nic) => nic.serial));
  return { fleetFile: files.fleetFile, stackFile: "stacks/generated/stack.yaml", serials, servicesPerDpu: 1 };
}

/** An emulator child process and its admin access. */
interface TimingEmulator {
  child: ChildProcess;
  adminUrl: string;
  adminToken: string;
}

/** Starts `smartfleet emulator start` at time scale 0; resolves with the child and its admin access once it is up. */
function startEmulator(fleetFile: string, stateDir: string): Promise<TimingEmulator> {
  const child = spawn(process.execPath, [smartfleetBin, "emulator", "start", "--inventory", fleetFile, "--state", stateDir, "--time-scale", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const found = /admin URL: (http:\/\/\S+)/.exec(output);
      if (found) resolve({ child, adminUrl: found[1], adminToken: fs.readFileSync(path.join(stateDir, "admin-token"), "utf8").trim() });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}):\n${output}`)));
  });
}

async function adminGet(emulator: TimingEmulator, route: string): Promise<unknown> {
  const res = await fetch(new URL(route, emulator.adminUrl), { headers: { Authorization: `Bearer ${emulator.adminToken}` } });
  if (!res.ok) throw new Error(`admin GET ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Fails unless every declared DPU has its OS and all its services Enabled (and the expected count of them). */
async function verifyConverged(emulator: TimingEmulator, serials: string[], servicesPerDpu: number | null): Promise<void> {
  for (const serial of serials) {
    const { state } = (await adminGet(emulator, `/admin/v1/dpus/${encodeURIComponent(serial)}/state`)) as { state: { dpuOs: { state: string }; services: Array<{ state: string }> } };
    if (state.dpuOs.state !== "Enabled") throw new Error(`${serial}: DPU OS is ${state.dpuOs.state}`);
    if (state.services.some((s) => s.state !== "Enabled")) throw new Error(`${serial}: a service is not Enabled`);
    if (servicesPerDpu !== null && state.services.length !== servicesPerDpu) throw new Error(`${serial}: ${state.services.length} services, expected ${servicesPerDpu}`);
  }
}

/** Runs `pulumi ARGS` in the project; returns the wall time in ms; throws with the output on failure. */
function pulumi(projectDir: string, env: NodeJS.ProcessEnv, args: string[], input?: string): { ms: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const result = spawnSync("pulumi", args, { cwd: projectDir, env, input, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${result.status}:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  return { ms, stdout: result.stdout };
}

/** One run's figures. */
interface TimingRow {
  run: number;
  dpus: number;
  resources: number;
  upMs: number;
  previewMs: number;
}

async function oneRun(opts: TimingOptions, run: number): Promise<TimingRow> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-timing-"));
  const projectDir = path.join(work, "project");
  copyProject(projectDir);
  const files = opts.lab ? labFiles(projectDir) : generatedFiles(projectDir, opts);
  const stateDir = path.join(work, "emulator");
  const emulator = await startEmulator(files.fleetFile, stateDir);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PULUMI_BACKEND_URL: `file://${path.join(work, "backend")}`,
    PULUMI_HOME: path.join(work, "home"),
    PULUMI_CONFIG_PASSPHRASE: "timing",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    ...(opts.skipCheckpoints ? { PULUMI_SKIP_CHECKPOINTS: "true" } : {}),
  };
  delete env.PULUMI_CONFIG_PASSPHRASE_FILE;
  fs.mkdirSync(path.join(work, "backend"));
  try {
    pulumi(projectDir, env, ["stack", "init", "timing", "--non-interactive"]);
    pulumi(projectDir, env, ["config", "set", "smartfleet:stackFile", files.stackFile]);
    pulumi(projectDir, env, ["config", "set", "smartfleet:endpoints", path.join(stateDir, "endpoints.json")]);
    pulumi(projectDir, env, ["config", "set", "--secret", "smartfleet:managementPassword"], `Sf-${crypto.randomBytes(12).toString("base64url")}`);
    const parallel = ["--parallel", String(opts.parallel)];
    const up = pulumi(projectDir, env, ["up", "--yes", "--skip-preview", "--non-interactive", ...parallel]);
    await verifyConverged(emulator, files.serials, files.servicesPerDpu);
    const preview = pulumi(projectDir, env, ["preview", "--expect-no-changes", "--non-interactive", ...parallel]);
    const resources = Number(/(\d+) unchanged/.exec(preview.stdout)?.[1] ?? NaN);
    const row = { run, dpus: files.serials.length, resources, upMs: Math.round(up.ms), previewMs: Math.round(preview.ms) };
    console.log(JSON.stringify(row));
    return row;
  } finally {
    emulator.child.kill("SIGTERM");
    await new Promise((resolve) => emulator.child.once("exit", resolve));
    if (!opts.keep) fs.rmSync(work, { recursive: true, force: true });
    else console.error(`kept ${work}`);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const what = opts.lab ? "lab fleet (stacks/lab.yaml)" : `generated fleet --hosts ${opts.hosts} --nics-per-host ${opts.nicsPerHost}`;
  console.error(`timing ${what}: ${opts.runs} run(s), --parallel ${opts.parallel}, time scale 0${opts.skipCheckpoints ? ", PULUMI_SKIP_CHECKPOINTS" : ""}`);
  const rows: TimingRow[] = [];
  for (let run = 1; run <= opts.runs; run++) rows.push(await oneRun(opts, run));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${what}: ${rows[0].dpus} DPUs, ${rows[0].resources} resources; up from nothing median ${median(rows.map((r) => r.upMs))} ms, no-change preview median ${median(rows.map((r) => r.previewMs))} ms`);
}

main().catch((err: Error) => {
  console.error(`e2e-timing: ${err.message}`);
  process.exitCode = 1;
});
