/**
 * Lays a topology out with ELK's layered algorithm (elkjs): boxes inside boxes (cluster ⊃
 * host ⊃ DPU ⊃ services and devices) with edges routed orthogonally across them. Box sizes
 * come from the text they hold, measured for a monospace font (every character the same
 * advance), so the layout needs no browser and gives the same numbers on every machine.
 * The SVG renderer draws the result; the dashboard can draw the same.
 */
import ELK from "elkjs/lib/elk.bundled";
import type { ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api";
import { childrenOf, type Topology, type TopologyEdge, type TopologyNode } from "../../model/topology";

/** Font metrics the layout assumes and the SVG uses: monospace, advance 0.6 em. */
export const TEXT = {
  labelSize: 12,
  detailSize: 11,
  labelLine: 16,
  detailLine: 14,
  advance: 0.6,
  /** Inside a box: left/right and top/bottom space around its text. */
  padX: 8,
  padY: 6,
} as const;

/** Space around the members of a box, below its own text. */
const INSET = 10;

/** A point in the picture (pixels from the top left). */
export interface Point {
  x: number;
  y: number;
}

/** A box of the picture: where a node is drawn. */
export interface Box extends Point {
  width: number;
  height: number;
}

/** A node with its box. */
export interface PlacedNode extends Box {
  node: TopologyNode;
  /** Whether other nodes are drawn inside it (its text is then at its top). */
  container: boolean;
}

/** An edge with its route and the box of its label. */
export interface PlacedEdge {
  edge: TopologyEdge;
  /** From the start to the end, bends included. */
  points: Point[];
  label?: Box;
}

/** A topology laid out: every node and edge in absolute coordinates, in the topology's order. */
export interface TopologyLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

/** Width in pixels of `text` at `size` in the monospace font. */
export function textWidth(text: string, size: number): number {
  return [...text].length * size * TEXT.advance;
}

/** Width and height of a node's text block (its name and detail lines), padding included. */
export function textBlock(node: TopologyNode): { width: number; height: number } {
  const width = Math.max(textWidth(node.label, TEXT.labelSize), ...node.details.map((d) => textWidth(d, TEXT.detailSize)));
  return { width: Math.ceil(width) + 2 * TEXT.padX, height: TEXT.labelLine + node.details.length * TEXT.detailLine + 2 * TEXT.padY };
}

const ROOT_OPTIONS: Record<string, string> = {
  "elk.algorithm": "layered",
  "elk.direction": "RIGHT",
  // One layout over every level, so edges between DPUs of different hosts are routed too.
  "elk.hierarchyHandling": "INCLUDE_CHILDREN",
  // Every coordinate relative to the picture, not to the box an element sits in.
  "elk.json.shapeCoords": "ROOT",
  "elk.json.edgeCoords": "ROOT",
  // Keep the stack's order where the layering allows: the picture follows the file.
  "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
  "elk.layered.crossingMinimization.forceNodeModelOrder": "true",
  "elk.spacing.nodeNode": "16",
  "elk.layered.spacing.nodeNodeBetweenLayers": "28",
  "elk.edgeLabels.placement": "CENTER",
  "elk.padding": "[top=16,left=16,bottom=16,right=16]",
};

function elkNode(node: TopologyNode, children: Map<string | undefined, TopologyNode[]>): ElkNode {
  const block = textBlock(node);
  const members = children.get(node.id) ?? [];
  if (members.length === 0) return { id: node.id, width: block.width, height: block.height };
  return {
    id: node.id,
    layoutOptions: {
      "elk.padding": `[top=${block.height + INSET / 2},left=${INSET},bottom=${INSET},right=${INSET}]`,
      // A box is at least as wide as its own text, however small its members.
      "elk.nodeSize.constraints": "[MINIMUM_SIZE]",
      "elk.nodeSize.minimum": `(${block.width + 2 * INSET}, ${block.height + INSET})`,
    },
    children: members.map((member) => elkNode(member, children)),
  };
}

function elkEdge(edge: TopologyEdge): ElkExtendedEdge {
  const label = edge.label ? [{ text: edge.label, width: Math.ceil(textWidth(edge.label, TEXT.detailSize)) + 4, height: TEXT.detailLine }] : [];
  return { id: edge.id, sources: [edge.from], targets: [edge.to], labels: label };
}

/** Space between the pieces `pack` places. */
const GAP = 24;
/** Width to height the packing aims at: wide, as screens and READMEs are. */
const ASPECT = 2.5;
/** ELK's padding around a whole layout. */
const MARGIN = 16;

/**
 * Lays out `topology`; the same topology gives the same layout (ELK's seed is fixed). Each
 * group of top-level boxes that edges connect is laid out by ELK on its own and the groups
 * are then packed in rows: with every level in one layout, ELK puts all unconnected hosts
 * in one layer, a single column however large the fleet.
 */
export async function layoutTopology(topology: Topology, options: { minWidth?: number } = {}): Promise<TopologyLayout> {
  const children = childrenOf(topology);
  const elk = new ELK();
  const pieces: Piece[] = [];
  for (const group of connectedGroups(topology, children)) {
    const members = new Set(group.flatMap((top) => [top.id, ...descendants(top.id, children)]));
    const edges = topology.edges.filter((e) => members.has(e.from));
    const graph: ElkNode = { id: "root", layoutOptions: ROOT_OPTIONS, children: group.map((node) => elkNode(node, children)), edges: edges.map(elkEdge) };
    pieces.push(piece(await elk.layout(graph)));
  }
  const offsets = pack(pieces, (options.minWidth ?? 0) - 2 * MARGIN + GAP);
  const boxes = new Map<string, Box>();
  const routes = new Map<string, Omit<PlacedEdge, "edge">>();
  pieces.forEach((p, i) => {
    const by = { x: offsets[i].x + MARGIN - p.x, y: offsets[i].y + MARGIN - p.y };
    for (const [id, box] of p.boxes) boxes.set(id, { ...box, ...move(box, by) });
    for (const [id, route] of p.routes) routes.set(id, { points: route.points.map((q) => move(q, by)), ...(route.label ? { label: { ...route.label, ...move(route.label, by) } } : {}) });
  });
  return {
    width: Math.max(0, ...pieces.map((p, i) => offsets[i].x + p.width)) + 2 * MARGIN - GAP,
    height: Math.max(0, ...pieces.map((p, i) => offsets[i].y + p.height)) + 2 * MARGIN - GAP,
    nodes: topology.nodes.map((node) => ({ node, container: (children.get(node.id) ?? []).length > 0, ...(boxes.get(node.id) as Box) })),
    edges: topology.edges.map((edge) => {
      const route = routes.get(edge.id);
      if (!route) throw new Error(`internal: the layout did not route edge ${edge.id}`);
      return { edge, ...route };
    }),
  };
}

function move(p: Point, by: Point): Point {
  return { x: p.x + by.x, y: p.y + by.y };
}

function descendants(id: string, children: Map<string | undefined, TopologyNode[]>): string[] {
  return (children.get(id) ?? []).flatMap((child) => [child.id, ...descendants(child.id, children)]);
}

/** The top-level nodes grouped by the edges between their contents, each group in the topology's order. */
function connectedGroups(topology: Topology, children: Map<string | undefined, TopologyNode[]>): TopologyNode[][] {
  const tops = children.get(undefined) ?? [];
  const parentOf = new Map(topology.nodes.map((n) => [n.id, n.parent]));
  const topOf = (id: string): string => {
    const parent = parentOf.get(id);
    return parent === undefined ? id : topOf(parent);
  };
  // Union-find over the top-level nodes, the lower index as the root so groups keep the order.
  const index = new Map(tops.map((t, i) => [t.id, i]));
  const root = tops.map((_, i) => i);
  const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i])));
  for (const edge of topology.edges) {
    const [a, b] = [find(index.get(topOf(edge.from)) as number), find(index.get(topOf(edge.to)) as number)];
    root[Math.max(a, b)] = Math.min(a, b);
  }
  const groups = new Map<number, TopologyNode[]>();
  tops.forEach((top, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), top]));
  return [...groups.values()];
}

/** One ELK layout without its outer padding: where its content starts, its size, boxes and routes. */
interface Piece extends Box {
  boxes: Map<string, Box>;
  routes: Map<string, Omit<PlacedEdge, "edge">>;
}

function piece(result: ElkNode): Piece {
  const boxes = new Map<string, Box>();
  const collect = (node: ElkNode) => {
    for (const child of node.children ?? []) {
      boxes.set(child.id, { x: child.x ?? 0, y: child.y ?? 0, width: child.width ?? 0, height: child.height ?? 0 });
      collect(child);
    }
  };
  collect(result);
  const routes = new Map<string, Omit<PlacedEdge, "edge">>();
  for (const edge of result.edges ?? []) {
    const points = (edge.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]);
    const label = edge.labels?.[0];
    routes.set(edge.id, { points, ...(label ? { label: { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, height: label.height ?? 0 } } : {}) });
  }
  // The packing spaces pieces by GAP; ELK's padding would add to it.
  return { x: MARGIN, y: MARGIN, width: (result.width ?? 0) - 2 * MARGIN + GAP, height: (result.height ?? 0) - 2 * MARGIN + GAP, boxes, routes };
}

/**
 * Where each piece goes (its top left; sizes include the gap after it): rows as wide as
 * the pieces' total area at `ASPECT` allows, at least the widest piece and `minWidth`
 * (what the picture spends anyway, e.g. on its legend); the first piece of
 * a row sets its height, and the pieces after it stack in columns beside it while they fit
 * under that height.
 */
export function pack(pieces: { width: number; height: number }[], minWidth = 0): Point[] {
  const area = pieces.reduce((sum, p) => sum + p.width * p.height, 0);
  const limit = Math.max(Math.sqrt(area * ASPECT), minWidth, ...pieces.map((p) => p.width));
  const out: Point[] = [];
  let row = { top: 0, height: 0 };
  let column = { x: 0, bottom: 0, width: 0 };
  for (const p of pieces) {
    if (out.length > 0 && column.bottom + p.height <= row.top + row.height) {
      out.push({ x: column.x, y: column.bottom });
      column = { ...column, bottom: column.bottom + p.height, width: Math.max(column.width, p.width) };
    } else if (out.length > 0 && column.x + column.width + p.width <= limit && p.height <= row.height) {
      column = { x: column.x + column.width, bottom: row.top + p.height, width: p.width };
      out.push({ x: column.x, y: row.top });
    } else {
      row = { top: row.top + row.height, height: p.height };
      column = { x: 0, bottom: row.top + p.height, width: p.width };
      out.push({ x: 0, y: row.top });
    }
  }
  return out;
}
