/**
 * A stack split into shards (`shards: { by: cluster | label:<key> }`): each shard is a
 * Pulumi stack `<stack>.<shard>` of the same program, selected by `smartfleet:shard`, and
 * holds the resources of its hosts. The placement rule keeps every resource in exactly one
 * stack and the order right:
 *
 * - a resource of a host (SmartNic, DpuOs, services, devices, host OS) is in its host's shard;
 * - a service pair or accelerator share whose two sides are in one shard is in that shard;
 * - one whose sides are in two shards is in the cross-shard stack `<stack>.cross-shard`,
 *   with everything that depends on it (the consumer's fpga device of a share). That stack
 *   runs once the shards it has sides in (`crossSpans`) have applied (so both sides exist:
 *   the order a single stack's `dependsOn` gave) and is destroyed before them; the other
 *   shards do not wait for it. Its dependencies on resources of those shards are met by
 *   that order, not by Pulumi, so they are dropped from it.
 *
 * The whole stack is still loaded and checked in every shard (policy rules and rollout
 * groups see the fleet), only the declarations are split.
 */
import type { ResourceDeclaration } from "./declarations";
import type { HostModel, LoadedStack } from "./load";
import { groupOf } from "./rollout";

/** The name of the stack part that holds what spans shards. */
export const CROSS_SHARD = "cross-shard";

/** The shards of a stack and what spans them. */
export interface ShardLayout {
  /** `cluster` or `label:<key>`. */
  by: string;
  /** Host names by shard, shards in the order their first host is declared. */
  hosts: Map<string, string[]>;
  /** The shard of each host. */
  shardOf: Map<string, string>;
  /** Pairs whose sides are in two shards (they go to the cross-shard stack). */
  crossPairs: string[];
  /** Shares whose source and consumer are in two shards. */
  crossShares: string[];
  /** The shards those pairs and shares have a side in, in the layout's order: what the cross-shard stack waits for. */
  crossSpans: string[];
}

/** The stack's shard layout; undefined for a stack without `shards`. */
export function shardLayout(stack: LoadedStack): ShardLayout | undefined {
  const by = stack.stack.shards?.by;
  if (!by) return undefined;
  const shardOf = new Map(stack.hosts.map((host) => [host.name, shardName(stack, host, by)]));
  const hosts = new Map<string, string[]>();
  for (const host of stack.hosts) {
    const shard = shardOf.get(host.name) as string;
    hosts.set(shard, [...(hosts.get(shard) ?? []), host.name]);
  }
  const shardOfDpu = (dpu: string) => shardOf.get(dpu.split("/")[0]) as string;
  const crossing = [
    ...stack.servicePairs.map((p) => ({ kind: "pair", name: p.name, sides: [shardOfDpu(p.primary), shardOfDpu(p.secondary)] })),
    ...stack.acceleratorShares.map((s) => ({ kind: "share", name: s.name, sides: [shardOfDpu(s.exporter), shardOfDpu(s.consumer)] })),
  ].filter((c) => c.sides[0] !== c.sides[1]);
  const spanned = new Set(crossing.flatMap((c) => c.sides));
  return {
    by,
    hosts,
    shardOf,
    crossPairs: crossing.filter((c) => c.kind === "pair").map((c) => c.name),
    crossShares: crossing.filter((c) => c.kind === "share").map((c) => c.name),
    crossSpans: [...hosts.keys()].filter((shard) => spanned.has(shard)),
  };
}

/** Every stack part of a layout: its shards, then the cross-shard stack when something spans shards. */
export function stackParts(layout: ShardLayout): string[] {
  return [...layout.hosts.keys(), ...(layout.crossPairs.length || layout.crossShares.length ? [CROSS_SHARD] : [])];
}

/** The names in a `--shard S,...` option, as given (none when absent). */
export function namedParts(option: string | undefined): string[] {
  return [...new Set((option ?? "").split(",").map((s) => s.trim()).filter(Boolean))];
}

/** The parts `--shard` names (all when absent), in the layout's order; a usage message when one is unknown. */
export function chosenParts(layout: ShardLayout, option: string | undefined): string[] | string {
  const all = stackParts(layout);
  if (!option) return all;
  const named = namedParts(option);
  const unknown = named.filter((n) => !all.includes(n));
  if (unknown.length || !named.length) return `--shard: no shard ${unknown.join(", ") || "named"}; the stack's parts are ${all.join(", ")}`;
  return all.filter((p) => named.includes(p));
}

/**
 * The declarations of one part (`shard`, or CROSS_SHARD), in the mapping's order.
 * Throws for a part the layout does not have.
 */
export function shardDeclarations(all: ResourceDeclaration[], layout: ShardLayout, part: string): ResourceDeclaration[] {
  if (!stackParts(layout).includes(part)) throw new Error(`no shard '${part}' in this stack: its parts are ${stackParts(layout).join(", ")}`);
  const placed = placement(all, layout);
  const mine = all.filter((d) => placed.get(d.name) === part);
  const names = new Set(mine.map((d) => d.name));
  return mine.map((d) => {
    const outside = d.dependsOn.filter((n) => !names.has(n));
    if (!outside.length) return d;
    if (part !== CROSS_SHARD) throw new Error(`internal: ${d.name} of shard ${part} depends on ${outside.join(", ")} of another part`);
    // Met by the order of the parts, which holds only for the shards the cross-shard stack waits for.
    const unordered = outside.filter((n) => !layout.crossSpans.includes(placed.get(n) as string));
    if (unordered.length) throw new Error(`internal: ${d.name} of ${CROSS_SHARD} depends on ${unordered.join(", ")} of a shard it does not wait for`);
    return { ...d, dependsOn: d.dependsOn.filter((n) => names.has(n)) };
  });
}

/** The part of every declaration, by name. */
function placement(all: ResourceDeclaration[], layout: ShardLayout): Map<string, string> {
  const placed = new Map<string, string>();
  const crossPairs = new Set(layout.crossPairs);
  const crossShares = new Set(layout.crossShares);
  for (const d of all) {
    if (d.kind === "ServicePair") {
      const inputs = d.inputs as { name: string; primary: { host: string } };
      placed.set(d.name, crossPairs.has(inputs.name) ? CROSS_SHARD : (layout.shardOf.get(inputs.primary.host) as string));
    } else if (d.kind === "AcceleratorShare") {
      const inputs = d.inputs as { name: string; source: { host: string } };
      placed.set(d.name, crossShares.has(inputs.name) ? CROSS_SHARD : (layout.shardOf.get(inputs.source.host) as string));
    } else if (d.dependsOn.some((n) => placed.get(n) === CROSS_SHARD)) {
      // Declarations come after what they depend on: what waits for a cross-shard resource goes with it.
      placed.set(d.name, CROSS_SHARD);
    } else {
      placed.set(d.name, layout.shardOf.get(d.host as string) as string);
    }
  }
  return placed;
}

/** The shard a host belongs to: its group under `by`, as a name fit for a stack name. */
function shardName(stack: LoadedStack, host: HostModel, by: string): string {
  const group = groupOf(stack, host, by);
  const value = group.slice(group.indexOf(by.startsWith("label:") ? "=" : ":") + 1);
  const name = value === "(none)" ? "none" : value.replace(/[^A-Za-z0-9_.-]/g, "-");
  return name === CROSS_SHARD ? `${name}-hosts` : name;
}
