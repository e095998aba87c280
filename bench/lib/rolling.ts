// The `change-rolling` scenario's yardsticks: the budget-bound critical path (what the
// stack's rollout allows at best, from model/rollout.ts's `schedule` of the measured
// build) and what the emulator's disruption log says happened (how long each DPU reboot
// took, how many hosts of each group were down at once).
import * as path from "node:path";
import type { HostRollout } from "../../model/rollout";

/** One interval of the emulator's disruption log (`GET /admin/v1/disruptions`), clock ms. */
export interface LoggedInterval {
  kind: string;
  host: string;
  dpu?: string;
  start: number;
  end: number | null;
}

/** The parts of model/rollout.ts and model/load.ts the critical path needs (loaded from the measured build). */
export interface RolloutModel {
  loadStackSync(file: string): { hosts: Array<{ name: string }> };
  hostRollouts(stack: unknown): Map<string, HostRollout>;
  schedule(work: ReadonlyArray<{ host: string; seconds: number }>, rollouts: ReadonlyMap<string, HostRollout>): { totalSeconds: number };
}

/** The rollout model of a build (`<dist>/model/load.js` and `rollout.js`). */
export function rolloutModelOf(distDir: string): RolloutModel {
  const load = require(path.join(distDir, "model", "load.js")) as Pick<RolloutModel, "loadStackSync">;
  const rollout = require(path.join(distDir, "model", "rollout.js")) as Pick<RolloutModel, "hostRollouts" | "schedule">;
  return { loadStackSync: load.loadStackSync, hostRollouts: rollout.hostRollouts, schedule: rollout.schedule };
}

/** The budget-bound critical path of a change that disrupts every host of `stackFile` for `secondsPerHost`. */
export interface CriticalPath {
  seconds: number;
  /** Per group: hosts and the budget (hosts at once). */
  groups: Record<string, { hosts: number; budget: number }>;
  /** Host → group. */
  groupOf: Map<string, string>;
}

/**
 * The shortest time the stack's rollout allows for disrupting every host once for
 * `secondsPerHost` (a host's DPUs reboot together, so its work is one reboot): the
 * work-conserving schedule of `model/rollout.ts` with the stack's budget, pairs and settle.
 */
export function budgetBoundCriticalPath(model: RolloutModel, stackFile: string, secondsPerHost: number): CriticalPath {
  const stack = model.loadStackSync(stackFile);
  const rollouts = model.hostRollouts(stack);
  const work = stack.hosts.map((h) => ({ host: h.name, seconds: secondsPerHost }));
  const groups: CriticalPath["groups"] = {};
  const groupOf = new Map<string, string>();
  for (const r of rollouts.values()) {
    groups[r.group] = { hosts: r.groupSize, budget: r.budget };
    groupOf.set(r.host, r.group);
  }
  return { seconds: model.schedule(work, rollouts).totalSeconds, groups, groupOf };
}

/** What the disruption log of one rolling change shows. */
export interface RollingLog {
  /** DPU reboots logged. */
  reboots: number;
  /** Median seconds of one DPU reboot. */
  medianRebootSeconds: number | null;
  /** Most hosts of each group down (rebooting) at once. */
  peakHostsByGroup: Record<string, number>;
  /** From the first reboot's start to the last one's end. */
  spanSeconds: number | null;
}

/** Reads the DPU reboots of a disruption log: durations, most hosts of a group down at once, span. */
export function readRollingLog(log: readonly LoggedInterval[], groupOf: (host: string) => string): RollingLog {
  const reboots = log.filter((r) => r.kind === "dpu-reboot" && r.end !== null) as Array<LoggedInterval & { end: number }>;
  const durations = reboots.map((r) => (r.end - r.start) / 1000).sort((a, b) => a - b);
  const mid = durations.length >> 1;
  const medianRebootSeconds = durations.length === 0 ? null : durations.length % 2 ? durations[mid] : (durations[mid - 1] + durations[mid]) / 2;
  const peakHostsByGroup: Record<string, number> = {};
  for (const r of reboots) {
    const group = groupOf(r.host);
    // At r.start: hosts of the group with a reboot under way ([start, end)).
    const down = new Set(reboots.filter((o) => groupOf(o.host) === group && o.start <= r.start && r.start < o.end).map((o) => o.host));
    peakHostsByGroup[group] = Math.max(peakHostsByGroup[group] ?? 0, down.size);
  }
  const spanSeconds = reboots.length === 0 ? null : (Math.max(...reboots.map((r) => r.end)) - Math.min(...reboots.map((r) => r.start))) / 1000;
  return { reboots: reboots.length, medianRebootSeconds, peakHostsByGroup, spanSeconds };
}
