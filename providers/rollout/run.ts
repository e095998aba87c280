/**
 * The run a provider process belongs to and where its rollout store is. One `pulumi up`
 * starts one dynamic-provider process, so the process is the run: its identity is made
 * once per process, and a new `up` is a new run (groups an earlier run halted start again).
 * The store of stack `s` is `<projectRoot>/.smartfleet/rollout/<s>.db`, or under
 * `SMARTFLEET_ROLLOUT_DIR` when set (tests); with `SMARTFLEET_ROLLOUT_STORE=postgres://…`
 * it is that database, shared by every runner pointed at it.
 */
import { randomBytes } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { projectRoot } from "../common/settings";
import { PostgresLeaseStore } from "./postgres-store";
import { SqliteLeaseStore } from "./sqlite-store";
import type { LeaseStore } from "./store";

/** Timings of the rollout machinery (tests shorten them). */
export interface RolloutTimings {
  /** A lease's lifetime unless renewed. */
  leaseTtlMs: number;
  /** How often a held lease is renewed. */
  heartbeatMs: number;
  /** How often a waiter asks for its slots again. */
  pollMs: number;
  /** How often the health gate reads the host again. */
  gatePollMs: number;
  /** How long a DPU read healthy, with nothing written to it since, stands in for a baseline read (see `health-gate.ts`). */
  baselineReuseMs: number;
  /** How often a waiter looks at the DPU of an orphan lease (a dead run's, whose work may still run). */
  orphanCheckMs: number;
  /** How long an orphan lease is kept when its DPU never shows the work over. */
  orphanLimitMs: number;
}

/** The timings in production. */
export const DEFAULT_TIMINGS: RolloutTimings = { leaseTtlMs: 60_000, heartbeatMs: 15_000, pollMs: 250, gatePollMs: 2_000, baselineReuseMs: 2_000, orphanCheckMs: 2_000, orphanLimitMs: 60 * 60_000 };

/**
 * `SMARTFLEET_ROLLOUT_LEASE_SECONDS`: how long a runner that stops renewing (a dead
 * machine) keeps its slots before waiters look at its work; renewed every quarter of it.
 */
function timingsFromEnv(env: NodeJS.ProcessEnv = process.env): RolloutTimings {
  const text = env.SMARTFLEET_ROLLOUT_LEASE_SECONDS?.trim();
  if (!text) return { ...DEFAULT_TIMINGS };
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 2) throw new Error(`SMARTFLEET_ROLLOUT_LEASE_SECONDS must be a number of seconds, at least 2 (got '${text}')`);
  return { ...DEFAULT_TIMINGS, leaseTtlMs: seconds * 1000, heartbeatMs: (seconds * 1000) / 4 };
}

let timings: RolloutTimings = timingsFromEnv();
let runId = newRunId();
const stores = new Map<string, LeaseStore>();
let storeFactory: (file: string) => LeaseStore = (file) => new SqliteLeaseStore(file);

/**
 * Which runner this is: `SMARTFLEET_RUNNER` (e.g. a CI runner's name, where containers
 * share a host name), else the host name. Only a run of this runner can be found dead by
 * its pid; another runner's runs end by their leases lapsing.
 */
function runnerName(): string {
  return (process.env.SMARTFLEET_RUNNER?.trim() || os.hostname()).replace(/:/g, "_");
}

function newRunId(): string {
  return `${runnerName()}:${process.pid}:${new Date().toISOString()}:${randomBytes(4).toString("hex")}`;
}

/** This process's run. */
export function currentRun(): string {
  return runId;
}

/**
 * True when `run` was started by a process of this runner that no longer exists (a
 * `pulumi up` killed with -9): its leases need not wait for their expiry. A run of another
 * runner, or whose pid is alive (even reused), is never declared dead here.
 */
export function isDeadRun(run: string): boolean {
  const [runner, pidText] = run.split(":");
  const pid = Number(pidText);
  if (runner !== runnerName() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * The runs of a store still running now: holding an unexpired lease, and not found dead
 * (a killed run's leases outlive its process until they expire).
 */
export async function runningRuns(store: LeaseStore): Promise<Set<string>> {
  return new Set((await store.liveRuns(Date.now())).filter((run) => !isDeadRun(run)));
}

/** Starts a new run in this process (tests: "a new `pulumi up`"); answers its id. */
export function startNewRun(): string {
  runId = newRunId();
  return runId;
}

/** The timings in force. */
export function rolloutTimings(): RolloutTimings {
  return timings;
}

/** Changes timings (tests); answers the previous ones. */
export function setRolloutTimings(changes: Partial<RolloutTimings>): RolloutTimings {
  const previous = timings;
  timings = { ...timings, ...changes };
  return previous;
}

/** Replaces how stores are opened (e.g. a PostgreSQL store); closes the open ones. */
export function useStoreFactory(factory: (file: string) => LeaseStore): void {
  closeRolloutStores();
  storeFactory = factory;
}

/** The store file of a stack, in the project at `root` (default: the one this process runs in). */
export function storeFile(stack: string, root: string = projectRoot()): string {
  const dir = process.env.SMARTFLEET_ROLLOUT_DIR || path.join(root, ".smartfleet", "rollout");
  return path.join(dir, `${stack.replace(/[^A-Za-z0-9._-]/g, "_")}.db`);
}

/** The shared database of `SMARTFLEET_ROLLOUT_STORE`, if set; a value that is not a PostgreSQL URL is an error. */
export function sharedStoreUrl(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.SMARTFLEET_ROLLOUT_STORE?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error("SMARTFLEET_ROLLOUT_STORE must be a postgres:// URL (the shared rollout store); unset it to keep the rollout's leases in .smartfleet/rollout");
  return url;
}

/** The store of a stack (opened once per file, or database and stack, per process). */
export function storeFor(stack: string, root?: string): LeaseStore {
  const url = sharedStoreUrl();
  const key = url ? `${url}\u0000${stack}` : storeFile(stack, root);
  let store = stores.get(key);
  if (!store) {
    store = url ? new PostgresLeaseStore(url, stack) : storeFactory(key);
    stores.set(key, store);
  }
  return store;
}

/** Closes every open store (tests, shutdown). */
export function closeRolloutStores(): void {
  for (const store of stores.values()) store.close();
  stores.clear();
}
