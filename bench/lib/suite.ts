// One benchmark run: for each fleet size and each repetition, the smartfleet cycle
// (up → preview → preview-one-dpu → refresh → plan → change → [Ansible peer] →
// change-timed → destroy) against a fresh emulated fleet, then the sharded tools' cycles
// (sharded-cycle.ts), each on a fresh fleet and fresh state, then the same cycle on the
// floor project, then the rolling change on a fleet of its own; figures collected per
// (scenario, dpus, tool) and counters per (scenario, dpus, tool).
import * as fs from "node:fs";
import * as path from "node:path";
import { writeBenchFleet, writeBenchStack, ROLLING_CLUSTER_HOSTS, ROLLING_ROLLOUT } from "./fleet";
import { startEmulator, resetCounters, totalRequests, disruptions, clearDisruptions, type BenchEmulator } from "./emulator";
import { backendFor, checkpointSize, PASSWORD, runnerFor, scenariosAt, verifyPrivilege, verifyUp, wantedAt, type BenchEnv, type Cycle, type RecordFigure } from "./cycle";
import { budgetBoundCriticalPath, readRollingLog, rolloutModelOf } from "./rolling";
import { cpuSecondsOf, type PulumiOperation, type PulumiRunner } from "./pulumi";
import { writePlaybook, runChange } from "./ansible";
import { profilingNodeOptions, summariseDir } from "./profile";
import { pulumiPreviewChanges } from "./preview-output";
import { shardedCycle } from "./sharded-cycle";
import { oneDpuChange } from "./shards";
import type { BenchOptions, Privilege, RawResults, Scenario } from "./types";

export type { BenchEnv } from "./cycle";

/** A failure's text. */
const messageOf = (err: unknown): string => String((err as Error)?.message ?? err);

/** Scenarios in the order a cycle runs them. */
export const SCENARIOS: Scenario[] = ["up", "preview", "preview-one-dpu", "refresh", "plan", "change", "change-timed", "change-rolling", "destroy"];

/** Counts traced requests by method and path, ids and serial-specific segments masked, most frequent first. */
export function breakdown(traceFile: string): Record<string, number> {
  const counts = new Map<string, number>();
  const lines = fs.existsSync(traceFile) ? fs.readFileSync(traceFile, "utf8").split("\n").filter(Boolean) : [];
  for (const line of lines) {
    const [method, , where] = line.split(" ");
    const masked = where.replace(/\/(TaskMonitors|Tasks|Sessions|Services|HostDevices|ServicePairs|AcceleratorShares)\/[^/?]+/, "/$1/{id}");
    const key = `${method} ${masked}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}

/**
 * Runs everything `opts` asks for and returns `{ measurements, counters, notes }`:
 * measurements are `{ scenario, dpus, tool, seconds, run }`, counters
 * `{ scenario, dpus, run, managementRequests, resources, stateBytes, providerPeakRssMiB, tool }`.
 */
export async function runSuite(opts: BenchOptions, env: BenchEnv): Promise<RawResults> {
  const out: RawResults = { measurements: [], counters: [], notes: [], checkpoints: [], requestBreakdown: [], cpuProfiles: [], failures: [] };
  const record: RecordFigure = (scenario, dpus, tool, seconds, run) => {
    out.measurements.push({ scenario, dpus, tool, seconds, run });
    env.log(`  ${scenario.padEnd(12)} ${tool.padEnd(16)} ${dpus} DPUs  run ${run + 1}: ${seconds.toFixed(2)} s`);
  };
  const sizes = opts.dpus.map((dpus) => {
    const sizeDir = path.join(env.workDir, `dpus-${dpus}`);
    fs.rmSync(sizeDir, { recursive: true, force: true });
    const fleet = writeBenchFleet(sizeDir, dpus, env.servedSha256);
    env.log(`fleet of ${dpus} DPUs: ${fleet.hosts} hosts, ${fleet.pairs} service pairs (${fleet.fleetFile})`);
    return { dpus, sizeDir, fleet };
  });
  // "run" (default): every size's first run, then the remaining runs size by size, so a
  // run cut short by --deadline still has each size measured. "size": all runs of the
  // first size, then the next size.
  const order =
    opts.order === "size"
      ? sizes.flatMap((size) => Array.from({ length: opts.runs }, (_, run) => ({ run, size })))
      : [...sizes.map((size) => ({ run: 0, size })), ...sizes.flatMap((size) => Array.from({ length: opts.runs - 1 }, (_, i) => ({ run: i + 1, size })))];
  const lastCycleMs = new Map<number, number>();
  let checkpointsDone = !(opts.checkpoints && opts.tools.has("smartfleet"));
  for (const { run, size } of order) {
    const { dpus, sizeDir, fleet } = size;
    // A cycle is started only when the previous one of this size would still end before the deadline.
    if (opts.deadline !== undefined && Date.now() + (lastCycleMs.get(dpus) ?? 0) > opts.deadline.getTime()) {
      out.notes.push(`Run ${run + 1} of ${opts.runs} at ${dpus} DPUs was not started: it would have ended after the deadline ${opts.deadline.toISOString()}.`);
      env.log(out.notes[out.notes.length - 1]);
      continue;
    }
    const started = Date.now();
    const cycle: Cycle = { opts, env, out, record, dpus, fleet, run, sizeDir };
    // A failed cycle is reported and the run goes on: one timeout at 500 DPUs must not discard the other figures.
    const cycles = [
      ["smartfleet", smartfleetCycle],
      ["smartfleet-8-shards", (c: Cycle) => shardedCycle("smartfleet-8-shards", c)],
      ["smartfleet-8-shards-postgres", (c: Cycle) => shardedCycle("smartfleet-8-shards-postgres", c)],
      ["floor", floorCycle],
      ["floor-8-shards", (c: Cycle) => shardedCycle("floor-8-shards", c)],
      ["smartfleet", rollingCycle],
    ] as const;
    for (const [tool, runCycle] of cycles) {
      if (!opts.tools.has(tool)) continue;
      try {
        await runCycle(cycle);
      } catch (err) {
        out.failures.push({ dpus, run, tool, error: messageOf(err).slice(0, 4000) });
        env.log(`FAILED: ${tool} cycle, run ${run + 1} at ${dpus} DPUs: ${messageOf(err)}`);
      }
      env.progress(out);
    }
    lastCycleMs.set(dpus, Date.now() - started);
    if (!checkpointsDone) {
      // Once, on the first size: what writing the checkpoint after every step costs.
      checkpointsDone = true;
      try {
        await checkpointCost(cycle);
      } catch (err) {
        out.failures.push({ dpus, run, tool: "checkpoints", error: messageOf(err).slice(0, 4000) });
        env.log(`FAILED: the checkpoint measurement at ${dpus} DPUs: ${messageOf(err)}`);
      }
      env.progress(out);
    }
  }
  return out;
}

/**
 * Runs `measure` with the stack asking for `preview-one-dpu`'s change (oneDpuChange: one
 * DPU's firewall service at a new version), then puts the stack back as it was.
 */
async function withOneDpuChange(stackFile: string, dpus: number, measure: () => Promise<void>): Promise<void> {
  writeBenchStack(stackFile, dpus, "restricted", { change: oneDpuChange(dpus) });
  try {
    await measure();
  } finally {
    writeBenchStack(stackFile, dpus, "restricted");
  }
}

/** Fails unless the preview of the one-DPU change planned a change (the figure would be a no-change preview's otherwise). */
function checkOneDpuPreview(output: string, tool: string, dpus: number): void {
  if (pulumiPreviewChanges(output) > 0) return;
  const c = oneDpuChange(dpus);
  throw new Error(`${tool} preview-one-dpu: pulumi preview planned no change for ${c.host}/${c.nic} ${c.service} at ${c.version}`);
}

/** One smartfleet cycle on a fresh emulated fleet. */
async function smartfleetCycle({ opts, env, out, record, dpus, fleet, run, sizeDir }: Cycle): Promise<void> {
  const wanted = (s: string) => wantedAt(opts, dpus, s);
  const stateDir = path.join(sizeDir, `emulator-${run}`);
  fs.rmSync(stateDir, { recursive: true, force: true });
  let emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, 0, env.log);
  const backendDir = backendFor(env, sizeDir, `smartfleet-${run}`);
  const stack = `bench-${dpus}`;
  const pulumi = runnerFor(env, env.projects.smartfleet, backendDir, stack);
  const logFile = path.join(sizeDir, `smartfleet-${run}.log`);
  try {
    writeBenchStack(fleet.stackFile, dpus, "restricted");
    pulumi.configure({ stackFile: fleet.stackFile, endpointsFile: emulator.endpointsFile, caFile: emulator.endpoints.caFile, password: PASSWORD });
    const measured = async (scenario: Scenario, operation: PulumiOperation) => {
      await resetCounters(emulator);
      const traceFile = opts.traceRequests ? path.join(sizeDir, `trace-${run}-${scenario}.txt`) : undefined;
      const profileDir = opts.cpuProfile ? path.join(sizeDir, `profiles-${run}`, scenario) : undefined;
      const nodeOptions = [
        ...(traceFile ? [`--require ${path.join(__dirname, "trace-requests.js")}`] : []),
        ...(profileDir ? [profilingNodeOptions(profileDir)] : []),
      ];
      const traceEnv = { ...(nodeOptions.length ? { NODE_OPTIONS: nodeOptions.join(" ") } : {}), ...(traceFile ? { BENCH_TRACE_FILE: traceFile } : {}) };
      if (traceFile) fs.rmSync(traceFile, { force: true });
      if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
      const emulatorCpuBefore = cpuSecondsOf(emulator.pid);
      const timed = await pulumi.timed(operation, logFile, [], traceEnv);
      const { seconds, providerPeakRssMiB, largestProviderPeakRssMiB, enginePeakRssMiB, providerCpuSeconds } = timed;
      if (operation === "preview-change") checkOneDpuPreview(timed.output, "smartfleet", dpus);
      const emulatorCpuSeconds = Math.round((cpuSecondsOf(emulator.pid) - emulatorCpuBefore) * 100) / 100;
      const { requests, byStatus } = await totalRequests(emulator);
      if (traceFile && wanted(scenario)) out.requestBreakdown.push({ scenario, dpus, run, byRequest: breakdown(traceFile) });
      if (profileDir && wanted(scenario)) out.cpuProfiles.push({ scenario, dpus, run, tool: "smartfleet", processes: summariseDir(profileDir) });
      const size = checkpointSize(backendDir, stack);
      if (wanted(scenario)) {
        record(scenario, dpus, "smartfleet", seconds, run);
        out.counters.push({ scenario, dpus, run, tool: "smartfleet", managementRequests: requests, byStatus, resources: size.resources, stateBytes: size.bytes, providerTextBytes: size.providerTextBytes, providerPeakRssMiB, largestProviderPeakRssMiB, enginePeakRssMiB, providerCpuSeconds, emulatorCpuSeconds });
      }
    };
    await measured("up", "up");
    await verifyUp(emulator);
    if (wanted("preview")) await measured("preview", "preview");
    if (wanted("preview-one-dpu")) await withOneDpuChange(fleet.stackFile, dpus, () => measured("preview-one-dpu", "preview-change"));
    if (wanted("refresh")) await measured("refresh", "refresh");
    if (wanted("plan")) {
      // The same stack with a change pending (every DPU's host privilege: a reboot each), planned; nothing is changed.
      writeBenchStack(fleet.stackFile, dpus, "privileged");
      await measuredPlan({ opts, env, out, record, dpus, run, sizeDir, emulator, pulumi, logFile });
      writeBenchStack(fleet.stackFile, dpus, "restricted");
    }
    let privilege: Privilege = "restricted";
    if (wanted("change")) {
      privilege = "privileged";
      writeBenchStack(fleet.stackFile, dpus, privilege);
      await measured("change", "up");
      await verifyPrivilege(emulator, privilege);
    }
    if (wanted("change") && opts.tools.has("ansible") && dpus <= opts.ansibleMaxDpus && !(opts.ansibleRuns !== undefined && run >= opts.ansibleRuns)) {
      await ansiblePeer({ env, out, record, dpus, run, sizeDir, emulator, current: privilege });
    }
    if (wanted("change-timed")) {
      await emulator.stop();
      emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, opts.timeScale, env.log);
      privilege = privilege === "restricted" ? "privileged" : "restricted";
      writeBenchStack(fleet.stackFile, dpus, privilege);
      await measured("change-timed", "up");
      await verifyPrivilege(emulator, privilege);
      // The critical path of this change: one DPU's reboot (the only timed step a host-privilege change takes).
      const criticalSeconds = (env.durationsMs.dpuReset * opts.timeScale) / 1000;
      record("change-timed", dpus, "critical-path", criticalSeconds, run);
      await emulator.stop();
      emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, 0, env.log);
    }
    await measured("destroy", "destroy");
  } finally {
    await emulator.stop();
  }
}

/**
 * `smartfleet plan --format json` of the project's build on the converged fleet whose stack
 * now asks for every DPU's host privilege to flip: the plan's preview with a refresh (each
 * port read once), then the per-host plan. Checks that every host is planned a DPU reboot
 * and that nothing on the fleet changed.
 */
async function measuredPlan({ opts, env, out, record, dpus, run, sizeDir, emulator, pulumi, logFile }: Pick<Cycle, "opts" | "env" | "out" | "record" | "dpus" | "run" | "sizeDir"> & { emulator: BenchEmulator; pulumi: PulumiRunner; logFile: string }): Promise<void> {
  await resetCounters(emulator);
  // --cpu-profile: the plan process too (its Automation API preview, the plan itself), beside the program and provider.
  const profileDir = opts.cpuProfile ? path.join(sizeDir, `profiles-${run}`, "plan") : undefined;
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
  const profileEnv: Record<string, string> = profileDir ? { NODE_OPTIONS: profilingNodeOptions(profileDir) } : {};
  const planFile = path.join(sizeDir, `plan-${run}.json`);
  fs.rmSync(planFile, { force: true });
  const emulatorCpuBefore = cpuSecondsOf(emulator.pid);
  // Exit 1 is a policy error in the plan (written all the same): recorded in the notes, not a failure.
  const { seconds, providerPeakRssMiB, providerCpuSeconds, code } = await pulumi.timedPlan(planFile, logFile, profileEnv, [0, 1]);
  if (profileDir) out.cpuProfiles.push({ scenario: "plan", dpus, run, tool: "smartfleet", processes: summariseDir(profileDir) });
  const emulatorCpuSeconds = Math.round((cpuSecondsOf(emulator.pid) - emulatorCpuBefore) * 100) / 100;
  const { requests, byStatus } = await totalRequests(emulator);
  const plan = JSON.parse(fs.readFileSync(planFile, "utf8")) as { hosts: Array<{ host: string; disruption: string }>; estimateSeconds: number; violations: Array<{ rule: string; severity: string; message: string }> };
  const rebooting = plan.hosts.filter((h) => h.disruption === "dpu-reboot").length;
  if (rebooting !== plan.hosts.length || plan.hosts.length !== dpus / 2) throw new Error(`smartfleet plan planned a DPU reboot on ${rebooting} of ${plan.hosts.length} hosts; expected all ${dpus / 2}`);
  if (code !== 0) out.notes.push(`plan at ${dpus} DPUs, run ${run + 1}: smartfleet plan exited ${code}: ${plan.violations.filter((v) => v.severity === "error").map((v) => `${v.rule} ${v.message}`).slice(0, 2).join("; ")}`);
  await verifyPrivilege(emulator, "restricted");
  record("plan", dpus, "smartfleet", seconds, run);
  out.counters.push({ scenario: "plan", dpus, run, tool: "smartfleet", managementRequests: requests, byStatus, resources: null, stateBytes: null, providerPeakRssMiB, providerCpuSeconds, emulatorCpuSeconds });
  env.log(`  plan: ${plan.hosts.length} hosts, estimate ${plan.estimateSeconds} s, ${requests} management requests`);
}

/**
 * `change-rolling`: a fleet of its own (DPU OS clusters of ROLLING_CLUSTER_HOSTS hosts)
 * brought up under the fleet-wide budget at time scale 0 (not a figure), then, with the
 * emulator at `--time-scale`, every DPU's host privilege flipped under ROLLING_ROLLOUT
 * (10 % of each cluster's hosts at once). Records the `up`'s wall time and the
 * budget-bound critical path (model/rollout.ts `schedule` of the measured build, each
 * host's work one DPU reboot, `DURATIONS_MS.dpuReset` × the time scale), and notes what the
 * emulator's disruption log shows (reboot durations, most hosts of a group down at once).
 */
async function rollingCycle({ opts, env, out, record, dpus, run, sizeDir }: Cycle): Promise<void> {
  if (!scenariosAt(opts, dpus).has("change-rolling")) return;
  const dir = path.join(sizeDir, "rolling");
  const layout = { clusterHosts: ROLLING_CLUSTER_HOSTS };
  const fleet = writeBenchFleet(dir, dpus, env.servedSha256, "restricted", layout);
  const stateDir = path.join(dir, `emulator-${run}`);
  fs.rmSync(stateDir, { recursive: true, force: true });
  let emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, 0, env.log);
  const backendDir = backendFor(env, dir, `smartfleet-${run}`);
  const pulumi = runnerFor(env, env.projects.smartfleet, backendDir, `bench-${dpus}-rolling`);
  const logFile = path.join(dir, `smartfleet-${run}.log`);
  try {
    pulumi.configure({ stackFile: fleet.stackFile, endpointsFile: emulator.endpointsFile, caFile: emulator.endpoints.caFile, password: PASSWORD });
    const bringUp = await pulumi.timed("up", logFile);
    await verifyUp(emulator);
    env.log(`  change-rolling: fleet of ${fleet.hosts} hosts in clusters of ${ROLLING_CLUSTER_HOSTS} brought up in ${bringUp.seconds.toFixed(2)} s (not a figure)`);
    await emulator.stop();
    emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, opts.timeScale, env.log);
    writeBenchStack(fleet.stackFile, dpus, "privileged", { ...layout, rollout: ROLLING_ROLLOUT });
    await clearDisruptions(emulator);
    await resetCounters(emulator);
    const emulatorCpuBefore = cpuSecondsOf(emulator.pid);
    const { seconds, providerPeakRssMiB, providerCpuSeconds } = await pulumi.timed("up", logFile);
    const emulatorCpuSeconds = Math.round((cpuSecondsOf(emulator.pid) - emulatorCpuBefore) * 100) / 100;
    const { requests, byStatus } = await totalRequests(emulator);
    await verifyPrivilege(emulator, "privileged");
    record("change-rolling", dpus, "smartfleet", seconds, run);
    out.counters.push({ scenario: "change-rolling", dpus, run, tool: "smartfleet", managementRequests: requests, byStatus, resources: null, stateBytes: null, providerPeakRssMiB, providerCpuSeconds, emulatorCpuSeconds });
    // The yardstick from the same durations and the same budget, by the measured build's own schedule.
    const rebootSeconds = (env.durationsMs.dpuReset * opts.timeScale) / 1000;
    const critical = budgetBoundCriticalPath(rolloutModelOf(path.join(env.projects.smartfleet, "dist")), fleet.stackFile, rebootSeconds);
    record("change-rolling", dpus, "critical-path", critical.seconds, run);
    const seen = readRollingLog(await disruptions(emulator), (host) => critical.groupOf.get(host) ?? "(none)");
    const budgets = Object.entries(critical.groups).map(([g, x]) => `${g}: ${x.hosts} hosts, budget ${x.budget}, at most ${seen.peakHostsByGroup[g] ?? 0} down at once`);
    out.notes.push(
      `change-rolling at ${dpus} DPUs, run ${run + 1}, time scale ${opts.timeScale}, --parallel ${env.parallel}: critical path ${critical.seconds} s from schedule() with ${rebootSeconds} s per host (DURATIONS_MS.dpuReset × time scale); ` +
        `the emulator's disruption log: ${seen.reboots} DPU reboots of ${seen.medianRebootSeconds} s (median), first start to last end ${seen.spanSeconds} s; ${budgets.join("; ")}.`,
    );
    env.log(`  ${out.notes[out.notes.length - 1]}`);
    if (env.parallel < dpus) out.notes.push(`change-rolling at ${dpus} DPUs ran with --parallel ${env.parallel}, below the DPUs it changes: Pulumi's parallelism may be the limit, not the budget.`);
    // No destroy: the next run starts on a fresh emulator state and backend.
  } finally {
    await emulator.stop();
  }
}

/**
 * The peer on the fleet smartfleet just changed (accounts claimed, every DPU at
 * `current`): default forks flips every DPU's host privilege back, 32 forks flips it
 * again, so the fleet ends where smartfleet's state says it is.
 */
async function ansiblePeer({ env, out, record, dpus, run, sizeDir, emulator, current }: Pick<Cycle, "env" | "out" | "record" | "dpus" | "run" | "sizeDir"> & { emulator: BenchEmulator; current: Privilege }): Promise<void> {
  const files = writePlaybook(path.join(sizeDir, "ansible"), emulator.endpoints, emulator.endpoints.dpus[0]?.factoryUsername ?? "root");
  const logFile = path.join(sizeDir, `ansible-${run}.log`);
  const other = current === "restricted" ? "privileged" : "restricted";
  const redfishValue = (p: Privilege) => (p === "restricted" ? "Restricted" : "Privileged");
  for (const [tool, forks, target] of [["ansible-forks5", undefined, other], ["ansible-forks32", 32, current]] as const) {
    await resetCounters(emulator);
    const seconds = await runChange(files, { privilege: redfishValue(target), forks, password: PASSWORD, logFile });
    const { requests, byStatus } = await totalRequests(emulator);
    await verifyPrivilege(emulator, target);
    record("change", dpus, tool, seconds, run);
    out.counters.push({ scenario: "change", dpus, run, tool, managementRequests: requests, byStatus, resources: null, stateBytes: null, providerPeakRssMiB: null });
  }
}

/** One floor cycle: the same program and graph with the do-nothing provider (no emulator involved). */
async function floorCycle({ opts, env, out, record, dpus, fleet, run, sizeDir }: Cycle): Promise<void> {
  const wanted = (s: string) => wantedAt(opts, dpus, s);
  const backendDir = backendFor(env, sizeDir, `floor-${run}`);
  const stack = `bench-${dpus}-floor`;
  const pulumi = runnerFor(env, env.projects.floor, backendDir, stack);
  const logFile = path.join(sizeDir, `floor-${run}.log`);
  // The floor reads the endpoints file and CA path like the real program; an emulator's files from this size serve.
  const endpointsFile = path.join(sizeDir, "floor-endpoints.json");
  fs.writeFileSync(endpointsFile, JSON.stringify({ fleet: `bench-${dpus}`, caFile: "/dev/null", adminUrl: "http://127.0.0.1:1", dpus: [] }));
  writeBenchStack(fleet.stackFile, dpus, "restricted");
  pulumi.configure({ stackFile: fleet.stackFile, endpointsFile, caFile: "/dev/null", password: PASSWORD });
  const measured = async (scenario: Scenario, operation: PulumiOperation) => {
    const profileDir = opts.cpuProfile ? path.join(sizeDir, `profiles-floor-${run}`, scenario) : undefined;
    if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });
    const profileEnv: Record<string, string> = profileDir ? { NODE_OPTIONS: profilingNodeOptions(profileDir) } : {};
    const timed = await pulumi.timed(operation, logFile, [], profileEnv);
    const { seconds, providerPeakRssMiB, largestProviderPeakRssMiB, enginePeakRssMiB, providerCpuSeconds } = timed;
    if (operation === "preview-change") checkOneDpuPreview(timed.output, "floor", dpus);
    if (profileDir && wanted(scenario)) out.cpuProfiles.push({ scenario, dpus, run, tool: "floor", processes: summariseDir(profileDir) });
    const size = checkpointSize(backendDir, stack);
    if (wanted(scenario)) {
      record(scenario, dpus, "floor", seconds, run);
      out.counters.push({ scenario, dpus, run, tool: "floor", managementRequests: 0, resources: size.resources, stateBytes: size.bytes, providerTextBytes: size.providerTextBytes, providerPeakRssMiB, largestProviderPeakRssMiB, enginePeakRssMiB, providerCpuSeconds });
    }
  };
  await measured("up", "up");
  if (wanted("preview")) await measured("preview", "preview");
  if (wanted("preview-one-dpu")) await withOneDpuChange(fleet.stackFile, dpus, () => measured("preview-one-dpu", "preview-change"));
  if (wanted("refresh")) await measured("refresh", "refresh");
  if (wanted("change")) {
    writeBenchStack(fleet.stackFile, dpus, "privileged");
    await measured("change", "up");
  }
  await measured("destroy", "destroy");
  writeBenchStack(fleet.stackFile, dpus, "restricted");
}

/** `up` once more with checkpoints written after every step (the DIY backend's default), to show what skipping them saves. */
async function checkpointCost({ env, out, dpus, fleet, sizeDir }: Cycle): Promise<void> {
  const stateDir = path.join(sizeDir, "emulator-checkpoints");
  fs.rmSync(stateDir, { recursive: true, force: true });
  const emulator = await startEmulator(env.buildDir, fleet.fleetFile, stateDir, 0, env.log);
  const backendDir = backendFor(env, sizeDir, "checkpoints");
  const pulumi = runnerFor(env, env.projects.smartfleet, backendDir, `bench-${dpus}`, false);
  const logFile = path.join(sizeDir, "checkpoints.log");
  try {
    writeBenchStack(fleet.stackFile, dpus, "restricted");
    pulumi.configure({ stackFile: fleet.stackFile, endpointsFile: emulator.endpointsFile, caFile: emulator.endpoints.caFile, password: PASSWORD });
    const up = await pulumi.timed("up", logFile);
    env.log(`  up with checkpoints      ${dpus} DPUs: ${up.seconds.toFixed(2)} s`);
    out.checkpoints.push({ dpus, scenario: "up", secondsWithCheckpoints: up.seconds });
    await runnerFor(env, env.projects.smartfleet, backendDir, `bench-${dpus}`, true).timed("destroy", logFile);
  } finally {
    await emulator.stop();
  }
}
