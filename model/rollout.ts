/**
 * The rollout of a disruptive change: which group each host rolls in, how many hosts of a
 * group may be disrupted at once, which service pairs tie hosts together, and the order and
 * timing that budget gives. The providers hold the same budget while `pulumi up` runs (one
 * `HostRollout` per host travels with each disruptive resource), and `smartfleet plan`
 * shows the schedule before anything is touched.
 */
import type { HostRollout } from "../schemas/generated/common";
import type { StackRollout } from "../schemas/generated/stack";
import type { HostModel, LoadedStack, SmartNicModel } from "./load";

/** The rollout of a stack that says nothing: one host at a time per cluster, no maintenance. */
export const DEFAULT_ROLLOUT: StackRollout = {
  maxUnavailable: 1,
  groupBy: "cluster",
  canary: 0,
  hostMaintenance: { mode: "none" },
  healthGate: { settleSeconds: 30, timeoutSeconds: 600 },
  onFailure: "halt",
};

/**
 * Everything a provider needs to hold one host's disruptions to the stack's rollout: the
 * `hostRollout` of `schemas/common.schema.json`, which travels with each disruptive resource.
 */
export type { HostRollout };

/** The group a host rolls in under `groupBy`. */
export function groupOf(stack: LoadedStack, host: HostModel, groupBy: string): string {
  if (groupBy === "fleet") return "fleet";
  if (groupBy === "host") return `host:${host.name}`;
  if (groupBy.startsWith("label:")) {
    const key = groupBy.slice("label:".length);
    return `label:${key}=${host.hardware.labels?.[key] ?? "(none)"}`;
  }
  // The cluster of a host is its DPUs' DPU OS cluster (the lowest slot's that names one).
  const clusters = (nicsOfHost(stack.smartnics).get(host.name) ?? [])
    .filter((nic) => nic.spec.os?.cluster)
    .sort((a, b) => a.hardware.slot - b.hardware.slot)
    .map((nic) => nic.spec.os?.cluster);
  return `cluster:${clusters[0] ?? "(none)"}`;
}

/** The DPUs of each host, grouped once per stack: callers ask for every host's group. */
const nicsByHost = new WeakMap<readonly SmartNicModel[], Map<string, SmartNicModel[]>>();

function nicsOfHost(smartnics: readonly SmartNicModel[]): Map<string, SmartNicModel[]> {
  let byHost = nicsByHost.get(smartnics);
  if (!byHost) nicsByHost.set(smartnics, (byHost = groupBy(smartnics, (nic) => [nic.host])));
  return byHost;
}

/** Hosts of a group of `size` that may be disrupted at once: a count, or a percentage rounded down, at least 1. */
export function budgetOf(maxUnavailable: number | string, size: number): number {
  const budget = typeof maxUnavailable === "number" ? maxUnavailable : Math.floor((size * Number.parseInt(maxUnavailable, 10)) / 100);
  return Math.max(1, Math.min(budget, Math.max(size, 1)));
}

/** Every managed host's rollout, by host name. */
export function hostRollouts(stack: LoadedStack): Map<string, HostRollout> {
  // Looked up by id and by host once: every host asks for its DPUs and pairs, and a scan of
  // the fleet per host made this quadratic (0.12 s at 2,000 DPUs, in every shard's program).
  const nicsById = new Map(stack.smartnics.map((nic) => [nic.id, nic]));
  const pairsByHost = groupBy(stack.servicePairs, (pair) => [...new Set([pair.primary, pair.secondary].map((side) => side.slice(0, side.indexOf("/"))))]);
  const access = (id: string) => {
    const nic = nicsById.get(id);
    if (!nic) throw new Error(`internal: ${id} was resolved by the loader but is not a managed DPU`);
    const { serial, management, factoryCredentials } = nic.hardware;
    return { target: { host: nic.host, smartnic: nic.name, serial, address: management.address, port: management.port }, username: factoryCredentials.username };
  };
  const rollout = stack.stack.rollout ?? DEFAULT_ROLLOUT;
  const groups = new Map(stack.hosts.map((h) => [h.name, groupOf(stack, h, rollout.groupBy)]));
  const sizes = new Map<string, number>();
  for (const group of groups.values()) sizes.set(group, (sizes.get(group) ?? 0) + 1);
  const pairsOn = (host: string) => pairsByHost.get(host) ?? [];
  return new Map(
    stack.hosts.map((h) => {
      const group = groups.get(h.name) as string;
      const groupSize = sizes.get(group) as number;
      return [
        h.name,
        {
          stack: stack.stack.metadata.name,
          host: h.name,
          hostSerial: h.hardware.serial,
          group,
          groupSize,
          budget: budgetOf(rollout.maxUnavailable, groupSize),
          canary: rollout.canary,
          pairs: pairsOn(h.name).map((p) => p.name),
          dpus: h.smartnics.map(access),
          pairSides: pairsOn(h.name).map((p) => ({ pair: p.name, primary: access(p.primary), secondary: access(p.secondary) })),
          hostMaintenance: rollout.hostMaintenance,
          healthGate: rollout.healthGate,
          onFailure: rollout.onFailure,
          allowHostPowerCycle: stack.stack.maintenance.allowHostPowerCycle,
        },
      ];
    }),
  );
}

/** A host's place in the schedule. */
export interface ScheduledHost {
  /** The host. */
  host: string;
  /** Its group. */
  group: string;
  /** Seconds from the start of the rollout when its disruption starts. */
  start: number;
  /** When it has passed its gate and its slot frees. */
  end: number;
  /** 1 for the first host of its group to start, 2 for the next, ... */
  order: number;
}

/**
 * The schedule the budget gives: hosts start as soon as their group has a free slot (not
 * in fixed waves), canaries one at a time before the rest of their group, never two hosts
 * that share a service pair at once. `seconds` is each disrupted host's work; the gate's
 * settle time is added. Hosts are taken in the order given.
 */
export function schedule(work: ReadonlyArray<{ host: string; seconds: number }>, rollouts: ReadonlyMap<string, HostRollout>): { hosts: ScheduledHost[]; totalSeconds: number } {
  const pending = work.filter((w) => w.seconds > 0 && rollouts.has(w.host));
  const running: Array<ScheduledHost & { pairs: string[] }> = [];
  const done: ScheduledHost[] = [];
  const started = new Map<string, number>();
  const finishedInGroup = new Map<string, number>();
  let now = 0;
  while (pending.length > 0 || running.length > 0) {
    for (let i = 0; i < pending.length; ) {
      const item = pending[i];
      const r = rollouts.get(item.host) as HostRollout;
      if (!mayStart(r, running, started, finishedInGroup)) {
        i++;
        continue;
      }
      const order = (started.get(r.group) ?? 0) + 1;
      started.set(r.group, order);
      running.push({ host: item.host, group: r.group, start: now, end: now + item.seconds + r.healthGate.settleSeconds, order, pairs: r.pairs });
      pending.splice(i, 1);
    }
    if (running.length === 0) break;
    now = Math.min(...running.map((h) => h.end));
    for (const finished of running.filter((h) => h.end === now)) {
      running.splice(running.indexOf(finished), 1);
      finishedInGroup.set(finished.group, (finishedInGroup.get(finished.group) ?? 0) + 1);
      done.push({ host: finished.host, group: finished.group, start: finished.start, end: finished.end, order: finished.order });
    }
  }
  return { hosts: done.sort((a, b) => a.start - b.start || a.host.localeCompare(b.host)), totalSeconds: now };
}

function mayStart(r: HostRollout, running: ReadonlyArray<{ group: string; pairs: string[] }>, started: Map<string, number>, finished: Map<string, number>): boolean {
  const inGroup = running.filter((h) => h.group === r.group).length;
  const begun = started.get(r.group) ?? 0;
  const canaryPhase = begun < r.canary || (finished.get(r.group) ?? 0) < Math.min(r.canary, r.groupSize);
  const limit = canaryPhase ? (begun < r.canary ? 1 : 0) : r.budget;
  if (inGroup >= limit) return false;
  return !running.some((h) => h.pairs.some((p) => r.pairs.includes(p)));
}

/** `items` by each of the keys `keysOf` gives, in their order. */
function groupBy<T>(items: readonly T[], keysOf: (item: T) => string[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    for (const key of keysOf(item)) {
      const group = groups.get(key);
      if (group) group.push(item);
      else groups.set(key, [item]);
    }
  }
  return groups;
}
