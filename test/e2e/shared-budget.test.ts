/**
 * One disruption budget across runners: two `smartfleet up` processes, each in a working
 * directory of its own and naming itself a different runner (as two CI machines would),
 * roll a DPU OS upgrade over the 8 rack shards of one stack at once, against one
 * PostgreSQL database holding both the Pulumi state and the rollout's leases
 * (`SMARTFLEET_ROLLOUT_STORE`). Every cluster has hosts in shards of both runners, so only
 * a budget the runners share keeps a cluster at one host down at a time. One runner is
 * killed with -9 mid-install: the other finishes its shards without a second host of a
 * cluster going down while the killed install runs, and a rerun of the dead runner's shards
 * converges. Every figure comes from the emulator's disruption log and state dumps.
 * Address block 127.214.0.x.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { labStack, spawnEmulator, type EmulatorProcess } from "./lab";
import { clearLog, disruptionLog, makeRolloutFleet, peakPerCluster, unconverged, waitFor, type RolloutFleet, type RolloutPolicy } from "./rollout-fleet";
import { repoRoot } from "../support/pulumi";

const CLI = path.join(repoRoot, "cli", "bin", "smartfleet.js");
/** A DPU OS install (480 s on hardware) takes 2.4 s. */
const TIME_SCALE = 0.005;
const STACK = "budget";
const CLUSTERS = 4;
const CLUSTER_HOSTS = 4;
const V1 = "8.0.2";
const V2 = "8.0.3";
/** Runner A applies racks r0-r3, runner B r4-r7; each cluster has two hosts in each. */
const RACKS_A = ["r0", "r1", "r2", "r3"];
const RACKS_B = ["r4", "r5", "r6", "r7"];
const BRING_UP: RolloutPolicy = { maxUnavailable: "100%", groupBy: "fleet", hostMaintenance: { mode: "none" }, healthGate: { settleSeconds: 0, timeoutSeconds: 60 } };
const ONE_PER_CLUSTER: RolloutPolicy = { maxUnavailable: 1, groupBy: "cluster", hostMaintenance: { mode: "none" }, healthGate: { settleSeconds: 0, timeoutSeconds: 60 } };

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One runner: its working directory and what names it. */
interface Runner {
  name: string;
  dir: string;
}

describe("one rollout budget across two runners and eight shards, on PostgreSQL", () => {
  let fleet: RolloutFleet;
  let emulator: EmulatorProcess;
  let url = "";
  let a: Runner;
  let b: Runner;
  const figures: string[] = [];
  const stackFileIn = (runner: Runner) => path.join(runner.dir, path.relative(fleet.workDir, fleet.stackFile));
  const env = (runner: Runner): NodeJS.ProcessEnv => ({
    ...process.env,
    ...fleet.sandbox.envVars,
    PULUMI_BACKEND_URL: url,
    SMARTFLEET_ROLLOUT_STORE: url,
    SMARTFLEET_RUNNER: runner.name,
    // A runner that stops renewing keeps its slots 4 s, then waiters look at its work.
    SMARTFLEET_ROLLOUT_LEASE_SECONDS: "4",
  });
  const smartfleet = (runner: Runner, args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: runner.dir, env: env(runner), maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  /** The sandbox's `pulumi` in a runner's directory, with its environment. */
  const pulumi = (runner: Runner, args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(fleet.sandbox.command.command, args, { cwd: runner.dir, env: env(runner) }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    });
  const up = (runner: Runner, racks: string[]) => ["up", path.relative(runner.dir, stackFileIn(runner)), "--stack", STACK, "--shard", racks.join(","), "--concurrency", String(racks.length), "--parallel", "16"];
  /** Both runners' stack files at `version` under `rollout`, sharded by rack. */
  const writeStacks = (version: string, rollout: RolloutPolicy) => {
    fleet.writeStack(version, rollout);
    const doc = YAML.parseDocument(fs.readFileSync(fleet.stackFile, "utf8"));
    doc.set("shards", { by: "label:rack" });
    for (const runner of [a, b]) fs.writeFileSync(stackFileIn(runner), doc.toString());
  };
  const rackHosts = (racks: string[]) => fleet.hosts.filter((_, i) => racks.includes(rackOf(i)));

  beforeAll(async () => {
    fleet = await makeRolloutFleet(214, {
      name: STACK,
      dpus: CLUSTERS * CLUSTER_HOSTS,
      nicsPerHost: 1,
      vendors: ["nvidia"],
      fpgaEvery: 0,
      clusterHosts: CLUSTER_HOSTS,
      services: { dfw: { type: "nsx-dfw", version: "4.2.1", cores: 2, memoryGiB: 4 } },
      devices: { vnic0: { kind: "vnic", function: "vf", backing: { service: "dfw" } } },
      pairEvery: 0,
      allowHostPowerCycle: true,
    });
    // Racks across clusters: hosts 0-1 of cluster c in rack r<c> (runner A), hosts 2-3 in r<4+c> (runner B).
    const inventory = YAML.parseDocument(fs.readFileSync(fleet.inventoryFile, "utf8"));
    fleet.hosts.forEach((_, i) => inventory.setIn(["hosts", i, "labels"], { rack: rackOf(i) }));
    fs.writeFileSync(fleet.inventoryFile, inventory.toString());
    // The servers run as the postgres account when we are root: they must search the sandbox.
    fs.chmodSync(fleet.sandbox.dir, 0o711);
    a = { name: "runner-a", dir: fleet.workDir };
    const started = await smartfleet(a, ["db", "start", "--dir", path.join(fleet.sandbox.dir, "pg")]);
    expect(started.code, started.stderr).toBe(0);
    url = started.stdout.trim();
    fleet.sandbox.envVars.PULUMI_BACKEND_URL = url;
    emulator = await spawnEmulator(fleet, TIME_SCALE);
    await labStack(fleet, STACK, emulator.endpointsFile);
    // Runner B: a working directory of its own, made after the stack's settings exist.
    b = { name: "runner-b", dir: `${fleet.workDir}-b` };
    fs.cpSync(fleet.workDir, b.dir, { recursive: true, verbatimSymlinks: true });
  }, 240_000);

  afterAll(async () => {
    await emulator?.kill("SIGKILL");
    if (url) await smartfleet(a, ["db", "stop", "--dir", path.join(fleet.sandbox.dir, "pg")]);
    if (b) fs.rmSync(b.dir, { recursive: true, force: true });
    fleet?.cleanup();
    if (figures.length) console.log(`shared-budget figures:\n  ${figures.join("\n  ")}`);
  }, 120_000);

  it("brings the 8 shards up from one runner", async () => {
    writeStacks(V1, BRING_UP);
    const t0 = Date.now();
    const run = await smartfleet(a, up(a, [...RACKS_A, ...RACKS_B]));
    expect(run.code, `${run.stdout.slice(-4000)}\n${run.stderr.slice(-2000)}`).toBe(0);
    expect(await unconverged(fleet, emulator, V1)).toEqual([]);
    figures.push(`bring-up of 8 shards: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 300_000);

  it("two runners upgrade their shards at once; runner A is killed mid-install; B finishes holding the budget; A's rerun converges", async () => {
    await clearLog(emulator);
    writeStacks(V2, ONE_PER_CLUSTER);
    const t0 = Date.now();
    const runA = spawnRunner(a, up(a, RACKS_A), env(a));
    const runB = smartfleet(b, up(b, RACKS_B));
    // Mid-install: one of runner A's hosts is down for its install.
    const aHosts = new Set(rackHosts(RACKS_A));
    await waitFor(async () => (await disruptionLog(emulator)).some((d) => aHosts.has(d.host) && d.end === null), 180_000, "an install of runner A running");
    const providersOfA = dynamicProviderHosts(a);
    expect(providersOfA.length, "runner A's dynamic-provider processes at the kill").toBeGreaterThan(0);
    process.kill(-(runA.child.pid as number), "SIGKILL");
    const killedAt = Date.now();

    const finished = await runB;
    expect(finished.code, `${finished.stdout.slice(-4000)}\n${finished.stderr.slice(-2000)}`).toBe(0);
    // None of the dead runner's provider processes lives on, not even one its engine had
    // started but not yet called (the preload's watch, engine-watch-preload.ts).
    expect(dynamicProviderHosts(a), "runner A's dynamic-provider processes after B finished").toEqual([]);
    const afterB = await disruptionLog(emulator);
    figures.push(`runner B done ${((Date.now() - killedAt) / 1000).toFixed(1)} s after A was killed`);

    // A's shards: the dead run's locks cleared, then run again.
    for (const rack of RACKS_A) await pulumi(a, ["cancel", "--yes", "--stack", `${STACK}.${rack}`]);
    const rerun = await smartfleet(a, up(a, RACKS_A));
    expect(rerun.code, `${rerun.stdout.slice(-4000)}\n${rerun.stderr.slice(-2000)}`).toBe(0);
    expect(await unconverged(fleet, emulator, V2)).toEqual([]);

    const log = await disruptionLog(emulator);
    const peaks = peakPerCluster(fleet, log);
    figures.push(`upgrade with a kill: ${((Date.now() - t0) / 1000).toFixed(1)} s; max hosts down per cluster ${JSON.stringify(peaks)} (after B: ${JSON.stringify(peakPerCluster(fleet, afterB))})`);
    expect(Object.keys(peaks).sort()).toEqual([...new Set(fleet.clusterOf.values())].sort());
    for (const [cluster, max] of Object.entries(peaks)) expect(max, `${cluster}: hosts down at once across runners`).toBe(1);
    // Runner B's hosts all upgraded while A was dead (B did not wait for A's rerun).
    const bHosts = new Set(rackHosts(RACKS_B));
    expect(afterB.filter((d) => bHosts.has(d.host) && d.kind === "dpu-reboot").map((d) => d.host).sort()).toEqual([...bHosts].sort());
  }, 600_000);
});

/** Host i's rack: see the beforeAll. */
function rackOf(i: number): string {
  const cluster = Math.floor(i / CLUSTER_HOSTS);
  return i % CLUSTER_HOSTS < 2 ? `r${cluster}` : `r${4 + cluster}`;
}

/** Pids of Pulumi's dynamic-provider hosts running for `runner` (by the SMARTFLEET_RUNNER they inherited). */
function dynamicProviderHosts(runner: Runner): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!command.includes("cmd/dynamic-provider/index.js")) continue;
      if (fs.readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(`SMARTFLEET_RUNNER=${runner.name}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** `smartfleet ARGS` in a process group of its own, to be killed with -9 as a dying runner is. */
function spawnRunner(runner: Runner, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: runner.dir, env, stdio: "ignore", detached: true });
  return { child };
}

