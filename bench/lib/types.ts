// Shapes the benchmark passes between its parts: the options `scripts/bench.js` parses,
// what a run measures (raw), and the results file written to bench/results/.

/** A benchmark scenario, in the order a cycle runs them (`SCENARIOS` in suite.ts). */
export type Scenario = "up" | "preview" | "preview-one-dpu" | "refresh" | "plan" | "change" | "change-timed" | "change-rolling" | "destroy";

/** A tool the command line selects. */
export type ToolOption = "smartfleet" | "smartfleet-8-shards" | "smartfleet-8-shards-postgres" | "floor" | "floor-8-shards" | "ansible";

/** A line of figures in the results (`rows[].tool`). */
export type Tool = "smartfleet" | "smartfleet-8-shards" | "smartfleet-8-shards-postgres" | "floor" | "floor-8-shards" | "critical-path" | "ansible-forks5" | "ansible-forks32";

/** Every line of figures, in the order tables, charts and rows list them. */
export const TOOL_ORDER: readonly Tool[] = ["smartfleet", "smartfleet-8-shards", "smartfleet-8-shards-postgres", "floor", "floor-8-shards", "critical-path", "ansible-forks5", "ansible-forks32"];

/** Host privilege of a DPU in the bench stack. */
export type Privilege = "restricted" | "privileged";

/** The options scripts/bench.js parses (its `parseArgs`). */
export interface BenchOptions {
  dpus: number[];
  scenarios: Set<string>;
  scenariosBySize?: Map<number, Set<string>>;
  runs: number;
  tools: Set<string>;
  timeScale: number;
  parallel: number;
  checkpoints: boolean;
  traceRequests: boolean;
  cpuProfile: boolean;
  order: string;
  commit?: string;
  ansibleMaxDpus: number;
  ansibleRuns?: number;
  deadline?: Date;
  out?: string;
  /** The working folder (`--work`), emptied and rebuilt by the run. */
  work?: string;
}

/** One timed figure. */
export interface Measurement {
  scenario: string;
  dpus: number;
  tool: string;
  seconds: number;
  run: number;
}

/** Counters of one scenario of one run of one tool. */
export interface CounterSample {
  scenario: string;
  dpus: number;
  run: number;
  tool: string;
  managementRequests: number;
  byStatus?: Record<string, number>;
  resources: number | null;
  stateBytes: number | null;
  providerTextBytes?: number;
  providerPeakRssMiB: number | null;
  /** The largest single provider process's VmHWM (with shards: among every shard's provider). */
  largestProviderPeakRssMiB?: number | null;
  /** The largest single `pulumi` engine process's VmHWM. */
  enginePeakRssMiB?: number | null;
  providerCpuSeconds?: number | null;
  emulatorCpuSeconds?: number;
}

/** `up` once with checkpoints written after every step. */
export interface CheckpointSample {
  dpus: number;
  scenario: string;
  secondsWithCheckpoints: number;
}

/** Requests of one scenario by method and path (`--trace-requests`). */
export interface RequestBreakdown {
  scenario: string;
  dpus: number;
  run: number;
  byRequest: Record<string, number>;
}

/** Where one process's CPU went (`--cpu-profile`). */
export interface ProfileSummary {
  busyMs: number;
  byArea: Record<string, number>;
  topFunctions: Record<string, number>;
}

/** The CPU profiles of one scenario. */
export interface CpuProfiles {
  scenario: string;
  dpus: number;
  run: number;
  tool: string;
  processes: Array<ProfileSummary & { file: string; role: string }>;
}

/** A cycle that failed; the run went on. */
export interface Failure {
  dpus: number;
  run: number;
  tool: string;
  error: string;
}

/** Everything a run measured, before it becomes the results file. */
export interface RawResults {
  measurements: Measurement[];
  counters: CounterSample[];
  notes: string[];
  checkpoints: CheckpointSample[];
  requestBreakdown: RequestBreakdown[];
  cpuProfiles: CpuProfiles[];
  failures: Failure[];
  loadAtStart?: number[];
}

/** `rows[]` of the results (the shape issue #6 gives). */
export interface Row {
  scenario: string;
  dpus: number;
  tool: string;
  runs: number[];
  median: number | null;
}

/**
 * `counters[]` of the results: medians over runs, per tool that has a provider (smartfleet,
 * its sharded runs, the floor). `tool` was added with the sharded tools; results from
 * before it hold smartfleet's counters only, without `tool`.
 */
export interface Counter {
  scenario: string;
  dpus: number;
  managementRequests: number;
  stateBytesPerResource: number | null;
  providerPeakRssMiB: number | null;
  tool?: string;
  largestProviderPeakRssMiB?: number | null;
  enginePeakRssMiB?: number | null;
}

/** min / median / max of a figure over runs. */
export interface Spread {
  min: number;
  median: number | null;
  max: number;
}

/** `counterDetails[]` of the results: per tool. */
export interface CounterDetail {
  scenario: string;
  dpus: number;
  tool: string;
  managementRequests: Spread;
  managementRequestsPerDpu: number | null;
  managementRequestsPerResource: number | null;
  resourcesInState: number | null;
  stateBytes: number | null;
  serializedProviderBytes: number | null;
  providerPeakRssMiB: Spread | null;
  largestProviderPeakRssMiB?: Spread | null;
  enginePeakRssMiB?: Spread | null;
  providerCpuSeconds: Spread | null;
  emulatorCpuSeconds: Spread | null;
  byStatus?: Record<string, number>;
}

/** `targets[]` of the results: a target of issue #6 and the figure reached. */
export interface Target {
  target: string;
  dpus: number;
  limit: number;
  reached: number;
  met: boolean;
}

/** Versions of everything measured. */
export interface Versions {
  node?: string;
  pulumiCli?: string | null;
  pulumiSdk?: string;
  smartfleet?: string | null;
  ansibleCore?: string | null;
  communityGeneral?: string | null;
  debianAnsible?: string | null;
}

/** The results file (bench/results/<date>.json, latest.json). */
export interface Results {
  date: string;
  startedAt: string;
  machine: { cpus: number; cpuModel: string | null; memoryGiB: number | null; kernel: string; loadAverageAtStart: number[] };
  versions: Versions;
  settings: {
    dpus: number[];
    runs: number;
    scenarios: string[];
    scenariosBySize?: Record<string, string[]>;
    tools: string[];
    parallel: number;
    timeScaleForTimedChange: number;
    skipCheckpoints: boolean;
    order: string;
    deadline: string | null;
    invocations?: Array<{ startedAt: string; settings: Results["settings"] }>;
  };
  rows: Row[];
  counters: Counter[];
  counterDetails: CounterDetail[];
  checkpoints: Array<CheckpointSample & { secondsSkippingCheckpoints: number | null }>;
  targets: Target[];
  requestBreakdown?: RequestBreakdown[];
  cpuProfiles?: CpuProfiles[];
  failures: Failure[];
  notes: string[];
}
