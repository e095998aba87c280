// The sharded tools: the same fleet in BENCH_RACKS racks, its stack sharded by rack
// (`shards: { by: label:rack }`), run by the measured build's own CLI,
// `smartfleet up|preview|destroy STACKFILE --concurrency C` (C: one per core), which drives one Pulumi stack
// per shard through the Automation API (and `<stack>.cross-shard` for the pairs that
// straddle two racks). `smartfleet-8-shards` keeps Pulumi's state in a file backend and
// the rollout leases in the SQLite store; `smartfleet-8-shards-postgres` keeps both in a
// PostgreSQL cluster the cycle starts with that build's `smartfleet db start`.
// `floor-8-shards` runs the same commands in the floor's project (every kind's provider does
// nothing): what sharding costs Pulumi and the CLI on their own, beside what it costs us.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { backendFor, PASSWORD, verifyUp, wantedAt, type BenchEnv, type Cycle } from "./cycle";
import { startEmulator, resetCounters, totalRequests } from "./emulator";
import { benchStack, writeBenchFleet, writeBenchStack } from "./fleet";
import { smartfleetPartRows, type PartRow } from "./preview-output";
import { profilingNodeOptions, summariseDir } from "./profile";
import { cpuSecondsOf, PulumiRunner } from "./pulumi";
import { BENCH_RACKS, crossRackPairs, oneDpuChange } from "./shards";
import type { Scenario } from "./types";

/** The sharded tools: where each keeps its state, and the project (real or do-nothing providers) it runs. */
export const SHARDED_TOOLS = {
  "smartfleet-8-shards": { state: "file", project: "smartfleet" },
  "smartfleet-8-shards-postgres": { state: "postgres", project: "smartfleet" },
  "floor-8-shards": { state: "file", project: "floor" },
} as const;
export type ShardedTool = keyof typeof SHARDED_TOOLS;

/** Shards `smartfleet` runs at once: its own default, one per core (no more than there are racks). */
const CONCURRENCY = Math.min(BENCH_RACKS, Math.max(1, os.availableParallelism()));

/** Where a cycle's Pulumi state and rollout leases live, as environment variables, and how to let go of it. */
interface StateStore {
  env: Record<string, string | null>;
  stop(): void;
}

/** A fresh file backend and a fresh directory for the SQLite rollout store. */
function fileStore(env: BenchEnv, dir: string, name: string): StateStore {
  const backendDir = backendFor(env, dir, name);
  const rolloutDir = path.join(backendDir, "rollout");
  fs.mkdirSync(rolloutDir);
  return { env: { PULUMI_BACKEND_URL: `file://${backendDir}`, SMARTFLEET_ROLLOUT_DIR: rolloutDir, SMARTFLEET_ROLLOUT_STORE: null }, stop: () => undefined };
}

/**
 * A fresh PostgreSQL cluster (`smartfleet db start --dir` of the measured build, which
 * installs Debian's package when missing) holding Pulumi's state and the rollout leases.
 */
function postgresStore(env: BenchEnv, dir: string, name: string): StateStore {
  const clusterDir = path.join(dir, `postgres-${name}`);
  fs.rmSync(clusterDir, { recursive: true, force: true });
  const cli = path.join(env.buildDir, "cli", "main.js");
  const started = execFileSync(process.execPath, [cli, "db", "start", "--dir", clusterDir], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const url = started.trim().split("\n").at(-1) ?? "";
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error(`smartfleet db start printed no postgres:// URL: ${started}`);
  env.log(`  PostgreSQL in ${path.relative(env.workDir, clusterDir)}`);
  return {
    env: { PULUMI_BACKEND_URL: url, SMARTFLEET_ROLLOUT_STORE: url, SMARTFLEET_ROLLOUT_DIR: null },
    stop: () => void execFileSync(process.execPath, [cli, "db", "stop", "--dir", clusterDir], { stdio: "ignore" }),
  };
}

/** Fails unless the parts in `rows` are `expected` (in any order: destroy runs cross-shard first) and all ended ok. */
function checkParts(rows: PartRow[], expected: string[], what: string): void {
  const bad = rows.filter((r) => r.status !== "ok" || (r.failed ?? 0) > 0);
  const parts = rows.map((r) => r.part).sort();
  if (bad.length || parts.join(",") !== [...expected].sort().join(",")) {
    throw new Error(`${what}: expected parts ${expected.join(", ")} all ok, got ${rows.map((r) => `${r.part} ${r.status}`).join(", ") || "no summary table"}`);
  }
}

/**
 * One cycle of a sharded tool on a fresh emulated fleet and fresh state: `up` of every
 * shard, the no-change `preview` of every shard, `preview-one-dpu` (`--shard` of the
 * changed DPU's rack only) and `destroy`, each one `smartfleet` command timed from spawn to exit.
 */
export async function shardedCycle(tool: ShardedTool, { opts, env, out, record, dpus, run, sizeDir }: Cycle): Promise<void> {
  const wanted = (s: string) => wantedAt(opts, dpus, s);
  const dir = path.join(sizeDir, "sharded");
  const fleet = writeBenchFleet(dir, dpus, env.servedSha256, "restricted", { sharded: true });
  const cross = crossRackPairs(benchStack(dpus, "restricted", { sharded: true }));
  const shards = Array.from({ length: BENCH_RACKS }, (_, i) => `rack-${i + 1}`);
  const parts = [...shards, ...(cross.length ? ["cross-shard"] : [])];
  const change = oneDpuChange(dpus);
  const stateDir = path.join(dir, `emulator-${tool}-${run}`);
  fs.rmSync(stateDir, { recursive: true, force: true });
  const emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, 0, env.log);
  let store: StateStore | undefined;
  const { state, project } = SHARDED_TOOLS[tool];
  // The floor's providers never reach the ports; the emulator is there only for the program's endpoints and CA.
  const realProviders = project === "smartfleet";
  try {
    store = state === "postgres" ? postgresStore(env, dir, String(run)) : fileStore(env, dir, `${tool}-${run}`);
    const stack = `bench-${dpus}`;
    const pulumi = new PulumiRunner({
      cwd: env.projects[project],
      stack,
      parallel: env.parallel,
      log: env.log,
      env: { ...store.env, PULUMI_CONFIG_PASSPHRASE: "smartfleet-bench", PULUMI_CONFIG_PASSPHRASE_FILE: null, PULUMI_SKIP_CHECKPOINTS: "true" },
    });
    // The base stack: every shard's stack is created from its configuration.
    pulumi.configure({ stackFile: fleet.stackFile, endpointsFile: emulator.endpointsFile, caFile: emulator.endpoints.caFile, password: PASSWORD });
    env.log(`  ${tool}: ${BENCH_RACKS} racks; ${cross.length ? `pairs across racks in cross-shard: ${cross.join(", ")}` : "every pair within its rack"}`);
    const logFile = path.join(dir, `${tool}-${run}.log`);
    const measured = async (scenario: Scenario, operation: string, expected: string[], shard?: string): Promise<PartRow[]> => {
      await resetCounters(emulator);
      // --cpu-profile: every process of the command (CLI, engines' programs, providers), as for the single stack.
      const profileDir = opts.cpuProfile ? path.join(dir, `profiles-${tool}-${run}`, scenario) : undefined;
      if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
      const profileEnv: Record<string, string> = profileDir ? { NODE_OPTIONS: profilingNodeOptions(profileDir) } : {};
      const emulatorCpuBefore = cpuSecondsOf(emulator.pid);
      const args = [operation, fleet.stackFile, "--stack", stack, "--cwd", env.projects[project], "--concurrency", String(CONCURRENCY), "--parallel", String(parallelOf(env.parallel, shard)), ...(shard ? ["--shard", shard] : [])];
      const timed = await pulumi.timedSmartfleet(args, logFile, profileEnv);
      const emulatorCpuSeconds = Math.round((cpuSecondsOf(emulator.pid) - emulatorCpuBefore) * 100) / 100;
      const { requests, byStatus } = await totalRequests(emulator);
      if (!realProviders && requests > 0) throw new Error(`${tool} ${scenario}: the do-nothing providers sent ${requests} management requests`);
      const rows = smartfleetPartRows(timed.output);
      checkParts(rows, expected, `${tool} ${scenario}`);
      if (wanted(scenario)) {
        record(scenario, dpus, tool, timed.seconds, run);
        if (profileDir) out.cpuProfiles.push({ scenario, dpus, run, tool, processes: summariseDir(profileDir) });
        const { providerPeakRssMiB, largestProviderPeakRssMiB, enginePeakRssMiB, providerCpuSeconds } = timed;
        out.counters.push({ scenario, dpus, run, tool, managementRequests: requests, byStatus, resources: null, stateBytes: null, providerPeakRssMiB, largestProviderPeakRssMiB, enginePeakRssMiB, providerCpuSeconds, emulatorCpuSeconds });
      }
      return rows;
    };
    await measured("up", "up", parts);
    if (realProviders) await verifyUp(emulator);
    if (wanted("preview")) {
      const rows = await measured("preview", "preview", parts);
      const changing = rows.filter((r) => r.changed !== 0);
      if (changing.length) throw new Error(`${tool} no-change preview: ${changing.map((r) => `${r.part} would change ${r.changed}`).join(", ")}`);
    }
    if (wanted("preview-one-dpu")) {
      writeBenchStack(fleet.stackFile, dpus, "restricted", { sharded: true, change });
      try {
        const [row] = await measured("preview-one-dpu", "preview", [change.shard], change.shard);
        if (!row.changed) throw new Error(`${tool} preview-one-dpu: ${change.shard} shows no change for ${change.host}/${change.nic} ${change.service} ${change.version}`);
      } finally {
        writeBenchStack(fleet.stackFile, dpus, "restricted", { sharded: true });
      }
    }
    await measured("destroy", "destroy", parts);
  } finally {
    await emulator.stop();
    store?.stop();
  }
}

/**
 * `--parallel` of each shard: the single stack's operations at once shared among the shards
 * running together (one shard alone gets them all). Each shard's engine takes `--parallel`
 * for itself, and eight times the single stack's 128 operations at once on two cores stalled
 * the emulator for seconds: its 5 s keep-alive and 10 s handshake timers then closed
 * connections under logins and resets the clients could not repeat.
 */
export function parallelOf(total: number, shard: string | undefined, atOnce = CONCURRENCY): number {
  return shard ? total : Math.max(1, Math.ceil(total / atOnce));
}
