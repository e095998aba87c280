#!/usr/bin/env node
// Wall time of `pulumi up` from nothing and of a no-change `pulumi preview` with the real
// CLI against the emulated fleet at --time-scale 0, for the lab fleet (stacks/lab.yaml) or
// for a fleet from `smartfleet generate-fleet` with a generated stack:
//
//   scripts/with-toolchain.sh node bench/e2e-timing.js --lab
//   scripts/with-toolchain.sh node bench/e2e-timing.js --hosts 50 --nics-per-host 2
//
// Options: --runs N (default 1), --parallel P (default 32), --skip-checkpoints, --keep.
// Everything happens in a temp dir: a copy of the project (needs a current `npm run build`),
// its own file backend, PULUMI_HOME and passphrase, and an emulator child process on
// 127.206.x.y (generated) or 127.207.0.x (lab). After `up` the admin API must show every
// declared DPU with its OS and services Enabled, else the run fails.
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const YAML = require("yaml");

const root = path.resolve(__dirname, "..");
const smartfleetBin = path.join(root, "cli", "bin", "smartfleet.js");
const PROJECT_ENTRIES = ["Pulumi.yaml", "package.json", "dist", "stacks", "examples", "schemas", "policies"];

/** Parses the options; exits 0 after --help and 2 on a usage error (naming the option). */
function parseArgs(argv) {
  const usage = `usage: node bench/e2e-timing.js [--lab | --hosts N --nics-per-host M] [--runs N] [--parallel P] [--skip-checkpoints] [--keep]
  --lab               time the lab fleet (stacks/lab.yaml) instead of a generated one
  --hosts N           hosts of the generated fleet (default 50)
  --nics-per-host M   DPUs per host of the generated fleet (default 2)
  --runs N            repetitions (default 1)
  --parallel P        pulumi --parallel (default 32)
  --skip-checkpoints  run pulumi with PULUMI_SKIP_CHECKPOINTS
  --keep              keep the temp dir of every run
  -h, --help          show this help`;
  const fail = (message) => {
    console.error(`e2e-timing: ${message}\n${usage}`);
    process.exit(2);
  };
  const int = { type: "string" };
  const flag = { type: "boolean", default: false };
  let v;
  try {
    ({ values: v } = require("node:util").parseArgs({
      args: argv,
      options: { lab: flag, hosts: int, "nics-per-host": int, runs: int, parallel: int, "skip-checkpoints": flag, keep: flag, help: { type: "boolean", short: "h" } },
    }));
  } catch (err) {
    fail(err.message);
  }
  if (v.help) {
    console.log(usage);
    process.exit(0);
  }
  const positive = (name, fallback) => {
    if (v[name] === undefined) return fallback;
    const n = Number(v[name]);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} needs a positive integer, got '${v[name]}'`);
    return n;
  };
  return { lab: v.lab, hosts: positive("hosts", 50), nicsPerHost: positive("nics-per-host", 2), runs: positive("runs", 1), parallel: positive("parallel", 32), skipCheckpoints: v["skip-checkpoints"], keep: v.keep };
}

/** A copy of the project in `dir`, linked to the repository's node_modules; stack settings stay behind. */
function copyProject(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const entry of PROJECT_ENTRIES) {
    fs.cpSync(path.join(root, entry), path.join(dir, entry), {
      recursive: true,
      filter: (src) => !/^Pulumi\.[^/]+\.yaml$/.test(path.basename(src)) || path.basename(src) === "Pulumi.yaml",
    });
  }
  fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"), "dir");
}

/** The i-th management address (0-based) of a block `127.B.x.y`, y in 1..250. */
function blockAddress(block, index) {
  return `127.${block}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

/** Moves every management address of an inventory document onto block `127.B`. */
function relocate(doc, block) {
  let index = 0;
  for (const host of doc.hosts) for (const nic of host.smartnics) nic.management.address = blockAddress(block, index++);
  return doc;
}

/** The lab fleet and stack in the project copy, relocated; returns the stack file and its DPU serials. */
function labFiles(projectDir) {
  const fleetFile = path.join(projectDir, "examples", "lab", "fleet.yaml");
  const fleet = relocate(YAML.parse(fs.readFileSync(fleetFile, "utf8")), 207);
  fs.writeFileSync(fleetFile, YAML.stringify(fleet));
  const stack = YAML.parse(fs.readFileSync(path.join(projectDir, "stacks", "lab.yaml"), "utf8"));
  const serials = [];
  for (const host of fleet.hosts) for (const nic of host.smartnics) if (stack.hosts[host.name]?.smartnics?.[nic.name]) serials.push(nic.serial);
  return { fleetFile, stackFile: "stacks/lab.yaml", serials, servicesPerDpu: null };
}

/**
 * A fleet from `smartfleet generate-fleet` and a stack over all of it: ESXi on every host
 * (through nic1) and DPU, every DPU in DPU mode, restricted, with a firewall service and a
 * vNIC backed by it.
 */
function generatedFiles(projectDir, opts) {
  const dir = path.join(projectDir, "stacks", "generated");
  fs.mkdirSync(dir, { recursive: true });
  const fleetFile = path.join(dir, "fleet.yaml");
  const gen = spawnSync(process.execPath, [smartfleetBin, "generate-fleet", "--hosts", String(opts.hosts), "--nics-per-host", String(opts.nicsPerHost), "--out", fleetFile], { encoding: "utf8" });
  if (gen.status !== 0) throw new Error(`generate-fleet failed: ${gen.stderr}`);
  const fleet = relocate(YAML.parse(fs.readFileSync(fleetFile, "utf8")), 206);
  fs.writeFileSync(fleetFile, YAML.stringify(fleet));
  const hosts = {};
  const serials = [];
  for (const host of fleet.hosts) {
    const smartnics = {};
    for (const nic of host.smartnics) {
      serials.push(nic.serial);
      smartnics[nic.name] = {
        mode: "dpu",
        hostPrivilege: "restricted",
        os: { image: "esxi-arm", version: "8.0.3", hostname: `${host.name}-${nic.name}` },
        services: { fw: { type: "firewall", version: "2.1.0", cores: 2, memoryGiB: 4 } },
        devices: { vnic0: { kind: "vnic", function: "vf", backing: { service: "fw" } } },
      };
    }
    hosts[host.name] = { os: { image: "esxi-x86", version: "8.0.3", installVia: "nic1" }, smartnics };
  }
  const stack = { apiVersion: "smartfleet.dev/v1", kind: "Stack", metadata: { name: "generated", owner: "bench" }, inventory: "fleet.yaml", hosts, maintenance: { allowHostPowerCycle: true } };
  fs.writeFileSync(path.join(dir, "stack.yaml"), YAML.stringify(stack));
  return { fleetFile, stackFile: "stacks/generated/stack.yaml", serials, servicesPerDpu: 1 };
}

/** Starts `smartfleet emulator start` at time scale 0; resolves with the child and its admin access once it is up. */
function startEmulator(fleetFile, stateDir) {
  const child = spawn(process.execPath, [smartfleetBin, "emulator", "start", "--inventory", fleetFile, "--state", stateDir, "--time-scale", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk.toString("utf8");
      const found = /admin URL: (http:\/\/\S+)/.exec(output);
      if (found) resolve({ child, adminUrl: found[1], adminToken: fs.readFileSync(path.join(stateDir, "admin-token"), "utf8").trim() });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`the emulator exited (${code}):\n${output}`)));
  });
}

async function adminGet(emulator, route) {
  const res = await fetch(new URL(route, emulator.adminUrl), { headers: { Authorization: `Bearer ${emulator.adminToken}` } });
  if (!res.ok) throw new Error(`admin GET ${route}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Fails unless every declared DPU has its OS and all its services Enabled (and the expected count of them). */
async function verifyConverged(emulator, serials, servicesPerDpu) {
  for (const serial of serials) {
    const { state } = await adminGet(emulator, `/admin/v1/dpus/${encodeURIComponent(serial)}/state`);
    if (state.dpuOs.state !== "Enabled") throw new Error(`${serial}: DPU OS is ${state.dpuOs.state}`);
    if (state.services.some((s) => s.state !== "Enabled")) throw new Error(`${serial}: a service is not Enabled`);
    if (servicesPerDpu !== null && state.services.length !== servicesPerDpu) throw new Error(`${serial}: ${state.services.length} services, expected ${servicesPerDpu}`);
  }
}

/** Runs `pulumi ARGS` in the project; returns the wall time in ms; throws with the output on failure. */
function pulumi(projectDir, env, args, input) {
  const t0 = process.hrtime.bigint();
  const result = spawnSync("pulumi", args, { cwd: projectDir, env, input, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (result.status !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${result.status}:\n${result.stdout.slice(-4000)}\n${result.stderr.slice(-4000)}`);
  return { ms, stdout: result.stdout };
}

async function oneRun(opts, run) {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-timing-"));
  const projectDir = path.join(work, "project");
  copyProject(projectDir);
  const files = opts.lab ? labFiles(projectDir) : generatedFiles(projectDir, opts);
  const stateDir = path.join(work, "emulator");
  const emulator = await startEmulator(files.fleetFile, stateDir);
  const env = {
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

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const what = opts.lab ? "lab fleet (stacks/lab.yaml)" : `generate-fleet --hosts ${opts.hosts} --nics-per-host ${opts.nicsPerHost}`;
  console.error(`timing ${what}: ${opts.runs} run(s), --parallel ${opts.parallel}, time scale 0${opts.skipCheckpoints ? ", PULUMI_SKIP_CHECKPOINTS" : ""}`);
  const rows = [];
  for (let run = 1; run <= opts.runs; run++) rows.push(await oneRun(opts, run));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${what}: ${rows[0].dpus} DPUs, ${rows[0].resources} resources; up from nothing median ${median(rows.map((r) => r.upMs))} ms, no-change preview median ${median(rows.map((r) => r.previewMs))} ms`);
}

main().catch((err) => {
  console.error(`e2e-timing: ${err.message}`);
  process.exitCode = 1;
});
