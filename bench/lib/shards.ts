// The sharded bench fleet: its hosts in racks (the inventory's `rack` label), the stack
// sharded by it, and the one-DPU change `preview-one-dpu` previews. Pure: documents in,
// documents out (fleet.ts writes them).
import type { GeneratedStack } from "../../model/fleet-generator";
import { hostName } from "../../model/fleet-generator";
import type { FleetInventory } from "../../model/inventory";

/** Racks of the sharded tools (`smartfleet-8-shards...`): one shard each. */
export const BENCH_RACKS = 8;

/** The sharded stack's `shards`: a shard per rack label. */
export const SHARDS_BY_RACK = { by: "label:rack" } as const;

/**
 * The rack of the h-th of `hosts` hosts (0-based): `rack-1`..`rack-<racks>`, racks of
 * consecutive hosts, as even as whole hosts allow (at 1,000 hosts, 125 each). The bench's
 * witness pairs join a host with the next, so a pair crosses racks only where its two
 * hosts straddle a boundary.
 */
export function rackOf(h: number, hosts: number, racks = BENCH_RACKS): string {
  if (!Number.isInteger(h) || h < 0 || h >= hosts) throw new Error(`host index ${h} is not among 0..${hosts - 1}`);
  return `rack-${Math.floor((h * racks) / hosts) + 1}`;
}

/** The inventory with every host labelled with its rack (a copy). */
export function withRacks(inventory: FleetInventory, racks = BENCH_RACKS): FleetInventory {
  const hosts = inventory.hosts.map((host, h) => ({ ...host, labels: { ...(host.labels ?? {}), rack: rackOf(h, inventory.hosts.length, racks) } }));
  return { ...inventory, hosts };
}

/** The pairs whose two sides are in different racks (they go to the cross-shard stack). */
export function crossRackPairs(stack: GeneratedStack, racks = BENCH_RACKS): string[] {
  const hosts = Object.keys(stack.hosts);
  const rackOfHost = new Map(hosts.map((name, h) => [name, rackOf(h, hosts.length, racks)]));
  const hostOf = (dpu: string) => dpu.split("/")[0];
  return Object.entries(stack.servicePairs ?? {})
    .filter(([, p]) => rackOfHost.get(hostOf(p.primary)) !== rackOfHost.get(hostOf(p.secondary)))
    .map(([name]) => name);
}

/** The one DPU `preview-one-dpu` changes, and how. */
export interface OneDpuChange {
  host: string;
  nic: string;
  /** The service whose declared version changes. */
  service: string;
  version: string;
  /** Its rack, which is its shard in the sharded stack. */
  shard: string;
}

/**
 * The change `preview-one-dpu` makes: the firewall service (`dfw`) of nic2 of the middle
 * host gets a new version, which previews as an update of that one DpuService. nic2 is
 * never a side of a witness pair (they use nic1), so the change stays inside its shard.
 */
export function oneDpuChange(dpus: number, nicsPerHost = 2, racks = BENCH_RACKS): OneDpuChange {
  const hosts = Math.ceil(dpus / nicsPerHost);
  const h = Math.floor(hosts / 2);
  // The last host may hold fewer DPUs; the middle one is full whenever there are two hosts or more.
  const nic = nicsPerHost >= 2 && (h + 1) * nicsPerHost <= dpus ? "nic2" : "nic1";
  return { host: hostName(h), nic, service: "dfw", version: "4.2.2", shard: rackOf(h, hosts, racks) };
}

/** The stack with `change` applied (a copy); throws when the stack has no such service. */
export function applyChange(stack: GeneratedStack, change: OneDpuChange): GeneratedStack {
  const copy = structuredClone(stack);
  const service = copy.hosts[change.host]?.smartnics[change.nic]?.services[change.service];
  if (!service) throw new Error(`the stack has no service ${change.service} on ${change.host}/${change.nic}`);
  if (service.version === change.version) throw new Error(`${change.host}/${change.nic} ${change.service} is at ${change.version} already: the change would change nothing`);
  service.version = change.version;
  return copy;
}
