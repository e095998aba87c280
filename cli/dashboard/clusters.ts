/**
 * One cluster's part of the topology, for drawing a big fleet a cluster at a time: the
 * layout of a thousand DPUs at once takes minutes (elkjs), that of one cluster of a few
 * dozen hosts a second or two, and a picture of a thousand hosts is not read anyway.
 */
import type { Topology, TopologyNode } from "../../model/topology";

/** The name of the group of hosts outside every cluster. */
export const NO_CLUSTER = "(no cluster)";

/** The cluster a top-level node stands for: its name, or NO_CLUSTER for a host outside every cluster. */
function groupOfTop(node: TopologyNode): string {
  return node.kind === "cluster" ? node.label.replace(/^cluster /, "") : NO_CLUSTER;
}

/** The clusters of a topology in its order, NO_CLUSTER last when some hosts are in none. */
export function clusterNames(topology: Topology): string[] {
  const names = topology.nodes.filter((n) => n.parent === undefined).map(groupOfTop);
  const unique = [...new Set(names)];
  return [...unique.filter((n) => n !== NO_CLUSTER), ...unique.filter((n) => n === NO_CLUSTER)];
}

/**
 * The nodes under cluster `name` (the cluster box included; for NO_CLUSTER the hosts
 * outside every cluster) and the edges with both ends among them. Undefined for a name
 * the topology has no cluster of.
 */
export function clusterTopology(topology: Topology, name: string): Topology | undefined {
  const group = new Map<string, string>();
  for (const node of topology.nodes) {
    // Parents come first, so a child's group is known when it is reached.
    group.set(node.id, node.parent === undefined ? groupOfTop(node) : (group.get(node.parent) ?? NO_CLUSTER));
  }
  const nodes = topology.nodes.filter((n) => group.get(n.id) === name);
  if (nodes.length === 0) return undefined;
  const inside = new Set(nodes.map((n) => n.id));
  return { stack: topology.stack, nodes, edges: topology.edges.filter((e) => inside.has(e.from) && inside.has(e.to)) };
}
