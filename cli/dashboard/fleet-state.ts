/**
 * The fleet as the dashboard shows it: every node of the stack's topology with the state
 * its port showed (and, field by field, what differs from the stack), the host, cluster
 * and rollout status of each, and totals per state. One JSON document, sent whole on
 * every refresh: the page redraws from it and never has to merge.
 */
import type { Topology, TopologyNodeKind, TopologyState } from "../../model/topology";
import type { PortEvent } from "./event-log";
import type { RolloutNow } from "./rollout-now";

/** One box of the topology, as the page and the table show it. */
export interface FleetNode {
  /** The topology id (`dpu:esx-01/nic1`), also the SVG box's `data-id`. */
  id: string;
  kind: TopologyNodeKind;
  label: string;
  /** The host it belongs to (itself for a host); null for a cluster. */
  host: string | null;
  /** The cluster of its host, or null when the stack groups no hosts by cluster. */
  cluster: string | null;
  state: TopologyState;
  /** What the stack declares about it (model, mode, versions). */
  details: string[];
  /** What the port showed that differs or explains the state (`mode nic, not dpu`, `password refused`). */
  notes: string[];
  /** Pulumi names of the resources it draws. */
  resources: string[];
  /** For a host: `disrupted` while it holds rollout slots, `maintenance` while recorded in maintenance. */
  rollout?: Array<"disrupted" | "maintenance">;
}

/** A node whose state changed between two refreshes. */
export interface StateChange {
  /** Epoch ms of the refresh that saw it. */
  at: number;
  id: string;
  from: TopologyState;
  to: TopologyState;
  notes: string[];
}

/** The document `/api/state` answers and each server-sent `state` event carries. */
export interface FleetState {
  /** The stack file's `metadata.name`. */
  stack: string;
  /** The Pulumi stack the dashboard reads. */
  pulumiStack: string;
  /** Increases with every refresh; 0 for the stack's word before the first read. */
  version: number;
  /** False until the first refresh has read the ports: every state is then what the stack declares. */
  observed: boolean;
  /** Epoch ms when the refresh started, and how long it took. */
  refreshedAt: number;
  refreshMs: number;
  /** Management requests the refresh sent, in total, and DPUs read. */
  requests: number;
  dpusRead: number;
  nodes: FleetNode[];
  edges: Topology["edges"];
  /** Per kind (host, dpu, service, device), nodes per state. */
  counts: Record<string, Partial<Record<TopologyState, number>>>;
  rollout: RolloutNow;
  /** The latest state changes, newest last. */
  changes: StateChange[];
  /** The ports' own log entries and streamed events, newest last (`event-log.ts`). */
  events: PortEvent[];
}

/** What one refresh produced, before it is put together with the previous state. */
export interface Refresh {
  stack: string;
  pulumiStack: string;
  startedAt: number;
  finishedAt: number;
  requests: number;
  dpusRead: number;
  declared: Topology;
  observed: Topology;
  rollout: RolloutNow;
  /** The event log after this refresh; none when absent. */
  events?: PortEvent[];
}

/**
 * The state before any port was read: the stack's topology as declared, so the page can
 * draw and list the fleet at once while the first refresh (tens of seconds at a thousand
 * DPUs) runs.
 */
export function declaredState(stack: string, pulumiStack: string, declared: Topology, rollout: RolloutNow, at: number): FleetState {
  const state = fleetState({ stack, pulumiStack, startedAt: at, finishedAt: at, requests: 0, dpusRead: 0, declared, observed: declared, rollout }, undefined);
  return { ...state, version: 0, observed: false };
}

/** How many state changes the document keeps. */
export const CHANGES_KEPT = 200;

/**
 * The state after `refresh`, with the changes since `previous` appended to its log.
 * `declared` and `observed` have the same nodes in the same order (`observeTopology`
 * only adds detail lines), so a node's notes are the lines beyond its declared ones.
 */
export function fleetState(refresh: Refresh, previous: FleetState | undefined): FleetState {
  const declaredDetails = new Map(refresh.declared.nodes.map((n) => [n.id, n.details.length]));
  const parents = new Map(refresh.observed.nodes.map((n) => [n.id, n]));
  const hostOf = (id: string): string | null => {
    for (let node = parents.get(id); node; node = node.parent ? parents.get(node.parent) : undefined) if (node.kind === "host") return node.label;
    return null;
  };
  const clusterOf = (id: string): string | null => {
    for (let node = parents.get(id); node; node = node.parent ? parents.get(node.parent) : undefined) if (node.kind === "cluster") return node.label.replace(/^cluster /, "");
    return null;
  };
  const disrupted = new Set(refresh.rollout.disrupted.map((d) => d.host));
  const inMaintenance = new Set(refresh.rollout.maintenance.map((m) => m.host));
  const nodes: FleetNode[] = refresh.observed.nodes.map((n) => {
    const kept = declaredDetails.get(n.id) ?? n.details.length;
    const node: FleetNode = {
      id: n.id,
      kind: n.kind,
      label: n.label,
      host: hostOf(n.id),
      cluster: clusterOf(n.id),
      state: n.state,
      details: n.details.slice(0, kept),
      notes: n.details.slice(kept),
      resources: n.resources,
    };
    if (n.kind === "host") {
      const flags = [...(disrupted.has(n.label) ? (["disrupted"] as const) : []), ...(inMaintenance.has(n.label) ? (["maintenance"] as const) : [])];
      if (flags.length) node.rollout = flags;
    }
    return node;
  });
  return {
    stack: refresh.stack,
    pulumiStack: refresh.pulumiStack,
    version: (previous?.version ?? 0) + 1,
    observed: true,
    refreshedAt: refresh.startedAt,
    refreshMs: refresh.finishedAt - refresh.startedAt,
    requests: refresh.requests,
    dpusRead: refresh.dpusRead,
    nodes,
    edges: refresh.observed.edges,
    counts: countStates(nodes),
    rollout: refresh.rollout,
    changes: [...(previous?.changes ?? []), ...changesSince(previous, nodes, refresh.startedAt)].slice(-CHANGES_KEPT),
    events: refresh.events ?? [],
  };
}

/** Nodes per state for each kind that has a state of its own. */
function countStates(nodes: FleetNode[]): FleetState["counts"] {
  const counts: FleetState["counts"] = {};
  for (const n of nodes) {
    if (n.kind === "cluster" || n.kind === "accelerator") continue;
    const of = (counts[n.kind] ??= {});
    of[n.state] = (of[n.state] ?? 0) + 1;
  }
  return counts;
}

/** The nodes whose state differs from the previous refresh (none for the first one read). */
function changesSince(previous: FleetState | undefined, nodes: FleetNode[], at: number): StateChange[] {
  if (!previous?.observed) return [];
  const before = new Map(previous.nodes.map((n) => [n.id, n.state]));
  return nodes.flatMap((n) => {
    const from = before.get(n.id);
    return from !== undefined && from !== n.state ? [{ at, id: n.id, from, to: n.state, notes: n.notes }] : [];
  });
}
