/**
 * The topology as a Mermaid flowchart, which GitHub and GitLab draw inside Markdown (a PR
 * comment, a README): every node that contains others is a `subgraph`, the rest are nodes,
 * each styled by a class per kind and per state. Mermaid ids allow letters, digits and `_`
 * only, so ids are the topology's with everything else replaced, made unique in order.
 */
import { childrenOf, type Topology, type TopologyNode } from "../../model/topology";
import { EDGE_STYLE, NODE_STYLE, STATE_STROKE } from "./style";

/** Label text safe inside Mermaid's `"..."`: entity codes for what would end or open markup. */
function escape(text: string): string {
  return text.replace(/&/g, "#amp;").replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;");
}

function label(node: TopologyNode): string {
  return `"${[node.label, ...node.details].map(escape).join("<br/>")}"`;
}

/** Mermaid ids for every node id, unique even where two ids differ only in punctuation. */
function mermaidIds(topology: Topology): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const node of topology.nodes) {
    const base = node.id.replace(/[^A-Za-z0-9]+/g, "_");
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
    used.add(id);
    out.set(node.id, id);
  }
  return out;
}

/** Mermaid text of a topology; the same topology gives the same bytes. */
export function topologyToMermaid(topology: Topology): string {
  const children = childrenOf(topology);
  const ids = mermaidIds(topology);
  const id = (node: string) => ids.get(node) as string;
  const out = [`%% ${topology.stack}: fleet topology written by smartfleet graph`, "flowchart LR"];
  const write = (node: TopologyNode, indent: string) => {
    const members = children.get(node.id) ?? [];
    if (members.length === 0) {
      out.push(`${indent}${id(node.id)}[${label(node)}]`);
      return;
    }
    out.push(`${indent}subgraph ${id(node.id)}[${label(node)}]`);
    for (const member of members) write(member, `${indent}  `);
    out.push(`${indent}end`);
  };
  for (const node of children.get(undefined) ?? []) write(node, "  ");
  for (const edge of topology.edges) {
    const text = edge.label ? `|"${escape(edge.label)}"|` : "";
    out.push(`  ${id(edge.from)} ${EDGE_STYLE[edge.kind].mermaid}${text} ${id(edge.to)}`);
  }
  out.push(...classes(topology, id));
  topology.edges.forEach((edge, index) => {
    const style = EDGE_STYLE[edge.kind];
    // The link's own syntax (-.-> ==> -->) already says dotted, thick or plain.
    out.push(`  linkStyle ${index} stroke:${style.stroke},stroke-width:${style.width}px`);
  });
  return out.join("\n") + "\n";
}

/** `classDef` per kind and per state in use, then which nodes take them (state after kind, so it wins). */
function classes(topology: Topology, id: (node: string) => string): string[] {
  const out: string[] = [];
  const kinds = [...new Set(topology.nodes.map((n) => n.kind))];
  for (const kind of kinds) out.push(`  classDef ${kind} fill:${NODE_STYLE[kind].fill},stroke:${NODE_STYLE[kind].stroke},color:#1f2328`);
  const states = [...new Set(topology.nodes.map((n) => n.state))].filter((s) => STATE_STROKE[s]);
  for (const state of states) out.push(`  classDef ${state} stroke:${STATE_STROKE[state]},stroke-width:2px${state === "unmanaged" ? ",stroke-dasharray:4 3,color:#57606a" : ""}`);
  for (const kind of kinds) out.push(`  class ${topology.nodes.filter((n) => n.kind === kind).map((n) => id(n.id)).join(",")} ${kind}`);
  for (const state of states) out.push(`  class ${topology.nodes.filter((n) => n.state === state).map((n) => id(n.id)).join(",")} ${state}`);
  return out;
}
