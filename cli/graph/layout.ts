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
  // Packing spaces the pieces: no padding around one.
  "elk.padding": "[top=0,left=0,bottom=0,right=0]",
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

/** Space between the top-level pieces. */
const GAP = 24;
/** Space between pieces packed inside a box (ELK's own spacing between boxes). */
const INNER_GAP = 16;
/** Width to height the packing aims at: wide, as screens and READMEs are. */
const ASPECT = 2.5;
/** Space around the whole picture. */
const MARGIN = 16;

/** The parts of a layout: boxes and routes relative to its top left, and its size. */
interface Piece {
  width: number;
  height: number;
  boxes: Map<string, Box>;
  routes: Map<string, Omit<PlacedEdge, "edge">>;
}

/** What every level of the recursion reads. */
interface Context {
  topology: Topology;
  children: Map<string | undefined, TopologyNode[]>;
  parentOf: Map<string, string | undefined>;
  elk: InstanceType<typeof ELK>;
}

/**
 * Lays out `topology`; the same topology gives the same layout (ELK's seed is fixed).
 * Boxes no edge leaves (a cluster or host whose pairs and shares stay inside it) have their
 * members laid out on their own and packed in rows, and so on down; boxes that edges join
 * are laid out together by ELK, every level at once, so the edges are routed across them.
 * With everything in one ELK layout, unconnected hosts would all be one layer: a single
 * column however large the fleet.
 */
export async function layoutTopology(topology: Topology, options: { minWidth?: number } = {}): Promise<TopologyLayout> {
  const children = childrenOf(topology);
  const ctx: Context = { topology, children, parentOf: new Map(topology.nodes.map((n) => [n.id, n.parent])), elk: new ELK() };
  const whole = await layoutSiblings(ctx, children.get(undefined) ?? [], GAP, (options.minWidth ?? 0) - 2 * MARGIN);
  const placed = shifted(whole, { x: MARGIN, y: MARGIN });
  return {
    width: whole.width + 2 * MARGIN,
    height: whole.height + 2 * MARGIN,
    nodes: topology.nodes.map((node) => ({ node, container: (children.get(node.id) ?? []).length > 0, ...(placed.boxes.get(node.id) as Box) })),
    edges: topology.edges.map((edge) => {
      const route = placed.routes.get(edge.id);
      if (!route) throw new Error(`internal: the layout did not route edge ${edge.id}`);
      return { edge, ...route };
    }),
  };
}

/** Siblings laid out as one piece: each group that edges connect laid out on its own, the groups packed. */
async function layoutSiblings(ctx: Context, siblings: TopologyNode[], gap: number, minWidth: number): Promise<Piece> {
  const pieces: Piece[] = [];
  for (const group of connectedGroups(ctx, siblings)) {
    const [only] = group;
    const members = ctx.children.get(only.id) ?? [];
    if (group.length === 1 && members.length === 0) pieces.push(leaf(only));
    else if (group.length === 1 && closed(ctx, only)) pieces.push(await boxAround(ctx, only, members));
    else pieces.push(await elkPiece(ctx, group));
  }
  const offsets = pack(pieces, minWidth, gap);
  const out: Piece = { width: 0, height: 0, boxes: new Map(), routes: new Map() };
  pieces.forEach((piece, i) => {
    const moved = shifted(piece, offsets[i]);
    for (const [id, box] of moved.boxes) out.boxes.set(id, box);
    for (const [id, route] of moved.routes) out.routes.set(id, route);
    out.width = Math.max(out.width, offsets[i].x + piece.width);
    out.height = Math.max(out.height, offsets[i].y + piece.height);
  });
  return out;
}

function leaf(node: TopologyNode): Piece {
  const { width, height } = textBlock(node);
  return { width, height, boxes: new Map([[node.id, { x: 0, y: 0, width, height }]]), routes: new Map() };
}

/** A box with its text on top and its members, laid out on their own, below. */
async function boxAround(ctx: Context, node: TopologyNode, members: TopologyNode[]): Promise<Piece> {
  const block = textBlock(node);
  const top = block.height + INSET / 2;
  const inner = shifted(await layoutSiblings(ctx, members, INNER_GAP, block.width), { x: INSET, y: top });
  const width = Math.max(inner.width + 2 * INSET, block.width + 2 * INSET);
  const height = top + inner.height + INSET;
  inner.boxes.set(node.id, { x: 0, y: 0, width, height });
  return { ...inner, width, height };
}

/** Whether no edge joins anything inside `node` with anything outside it. */
function closed(ctx: Context, node: TopologyNode): boolean {
  const inside = (id: string): boolean => {
    for (let at: string | undefined = id; at !== undefined; at = ctx.parentOf.get(at)) if (at === node.id) return true;
    return false;
  };
  return ctx.topology.edges.every((e) => inside(e.from) === inside(e.to));
}

/** One ELK layout of `group` (every level, edges routed across boxes), without outer padding. */
async function elkPiece(ctx: Context, group: TopologyNode[]): Promise<Piece> {
  const members = new Set(group.flatMap((node) => [node.id, ...descendants(node.id, ctx.children)]));
  const edges = ctx.topology.edges.filter((e) => members.has(e.from) && members.has(e.to));
  const graph: ElkNode = { id: "root", layoutOptions: ROOT_OPTIONS, children: group.map((node) => elkNode(node, ctx.children)), edges: edges.map(elkEdge) };
  const result = await ctx.elk.layout(graph);
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
  return { width: result.width ?? 0, height: result.height ?? 0, boxes, routes };
}

function move(p: Point, by: Point): Point {
  return { x: p.x + by.x, y: p.y + by.y };
}

/** `piece` moved by `by`. */
function shifted(piece: Piece, by: Point): Piece {
  return {
    ...piece,
    boxes: new Map([...piece.boxes].map(([id, box]) => [id, { ...box, ...move(box, by) }])),
    routes: new Map(
      [...piece.routes].map(([id, route]) => [id, { points: route.points.map((q) => move(q, by)), ...(route.label ? { label: { ...route.label, ...move(route.label, by) } } : {}) }]),
    ),
  };
}

function descendants(id: string, children: Map<string | undefined, TopologyNode[]>): string[] {
  return (children.get(id) ?? []).flatMap((child) => [child.id, ...descendants(child.id, children)]);
}

/** `siblings` grouped by the edges between their contents, each group in the topology's order. */
function connectedGroups(ctx: Context, siblings: TopologyNode[]): TopologyNode[][] {
  const index = new Map(siblings.map((t, i) => [t.id, i]));
  /** The sibling that holds `id`, if any does. */
  const holder = (id: string): number | undefined => {
    for (let at: string | undefined = id; at !== undefined; at = ctx.parentOf.get(at)) if (index.has(at)) return index.get(at);
    return undefined;
  };
  // Union-find, the lower index as the root so groups keep the order.
  const root = siblings.map((_, i) => i);
  const find = (i: number): number => (root[i] === i ? i : (root[i] = find(root[i])));
  for (const edge of ctx.topology.edges) {
    const [from, to] = [holder(edge.from), holder(edge.to)];
    if (from === undefined || to === undefined) continue;
    const [a, b] = [find(from), find(to)];
    root[Math.max(a, b)] = Math.min(a, b);
  }
  const groups = new Map<number, TopologyNode[]>();
  siblings.forEach((node, i) => groups.set(find(i), [...(groups.get(find(i)) ?? []), node]));
  return [...groups.values()];
}

/**
 * Where each piece goes (its top left), `gap` apart: rows as wide as the pieces' total
 * area at `ASPECT` allows, at least the widest piece and `minWidth` (what the picture
 * spends anyway, e.g. on its legend); the first piece of a row sets its height, and the
 * pieces after it stack in columns beside it while they fit under that height.
 */
export function pack(pieces: { width: number; height: number }[], minWidth = 0, gap = 0): Point[] {
  const sized = pieces.map((p) => ({ width: p.width + gap, height: p.height + gap }));
  const area = sized.reduce((sum, p) => sum + p.width * p.height, 0);
  const limit = Math.max(Math.sqrt(area * ASPECT), minWidth + gap, ...sized.map((p) => p.width));
  const out: Point[] = [];
  let row = { top: 0, height: 0 };
  let column = { x: 0, bottom: 0, width: 0 };
  for (const p of sized) {
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
