/**
 * The topology as Graphviz DOT: every node that contains others is a `cluster_` subgraph
 * (Graphviz draws those as boxes around their members), the rest are nodes. Graphviz
 * edges join nodes only, so an edge to a box is drawn to its first node inside with
 * `lhead`/`ltail` clipping it at the box (`compound=true`).
 */
import { childrenOf, type Topology, type TopologyEdge, type TopologyNode } from "../../model/topology";
import { EDGE_STYLE, NODE_STYLE, STATE_STROKE } from "./style";

/** A DOT double-quoted string. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The node's lines, joined with DOT's centred line break. */
function label(node: TopologyNode): string {
  return [node.label, ...node.details].map((line) => quote(line).slice(1, -1)).join("\\n");
}

function attributes(node: TopologyNode): string[] {
  const style = NODE_STYLE[node.kind];
  // As in the SVG: an unmanaged DPU is an empty dashed outline.
  const unmanaged = node.state === "unmanaged";
  return [
    `label="${label(node)}"`,
    `style="rounded,filled${unmanaged ? ",dashed" : ""}"`,
    `fillcolor="${unmanaged ? "#ffffff" : style.fill}"`,
    `color="${STATE_STROKE[node.state] ?? style.stroke}"`,
  ];
}

/** DOT text of a topology; the same topology gives the same bytes. */
export function topologyToDot(topology: Topology): string {
  const children = childrenOf(topology);
  const out = [
    `// ${topology.stack}: fleet topology written by smartfleet graph`,
    `digraph ${quote(topology.stack)} {`,
    `  graph [rankdir=LR, compound=true, fontname="Helvetica", fontsize=11, labeljust=l];`,
    `  node [shape=box, fontname="Helvetica", fontsize=10];`,
    `  edge [fontname="Helvetica", fontsize=9];`,
  ];
  const write = (node: TopologyNode, indent: string) => {
    const members = children.get(node.id) ?? [];
    if (members.length === 0) {
      out.push(`${indent}${quote(node.id)} [${attributes(node).join(", ")}];`);
      return;
    }
    out.push(`${indent}subgraph ${quote(`cluster_${node.id}`)} {`);
    for (const attribute of attributes(node)) out.push(`${indent}  ${attribute};`);
    for (const member of members) write(member, `${indent}  `);
    out.push(`${indent}}`);
  };
  for (const node of children.get(undefined) ?? []) write(node, "  ");
  for (const edge of topology.edges) out.push(`  ${edgeLine(edge, children)}`);
  out.push("}");
  return out.join("\n") + "\n";
}

/** The first node without members inside `id` (itself when it has none). */
function anchor(id: string, children: Map<string | undefined, TopologyNode[]>): string {
  const members = children.get(id);
  return members && members.length > 0 ? anchor(members[0].id, children) : id;
}

function edgeLine(edge: TopologyEdge, children: Map<string | undefined, TopologyNode[]>): string {
  const style = EDGE_STYLE[edge.kind];
  const from = anchor(edge.from, children);
  const to = anchor(edge.to, children);
  const attrs = [
    ...(edge.label ? [`label=${quote(edge.label)}`] : []),
    `color="${style.stroke}"`,
    `style=${style.dot}`,
    ...(from !== edge.from ? [`ltail=${quote(`cluster_${edge.from}`)}`] : []),
    ...(to !== edge.to ? [`lhead=${quote(`cluster_${edge.to}`)}`] : []),
  ];
  return `${quote(from)} -> ${quote(to)} [${attrs.join(", ")}];`;
}
