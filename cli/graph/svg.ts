/**
 * The topology as a standalone SVG file: boxes and routes from `layout.ts`, drawn with an
 * embedded style sheet (no fonts, scripts or anything fetched), on a white ground so it
 * reads in a dark-themed README too, with a legend below. Every box carries its node id
 * (`data-id`) and kind and state as classes, so a page can restyle it by state. Numbers
 * are written with at most one decimal and elements in the topology's order, so the same
 * stack gives the same bytes.
 */
import type { Topology, TopologyEdgeKind, TopologyNodeKind } from "../../model/topology";
import { layoutTopology, textWidth, TEXT, type PlacedEdge, type PlacedNode, type Point } from "./layout";
import { EDGE_STYLE, NODE_STYLE, STATE_STROKE } from "./style";

const FONT = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const LEGEND_GAP = 12;
const LEGEND_HEIGHT = 24;

/** A number with at most one decimal and no trailing zero: stable across runs and platforms. */
export function num(n: number): string {
  const rounded = Math.round(n * 10) / 10;
  return Object.is(rounded, -0) ? "0" : String(rounded);
}

/** Text escaped for XML content and attribute values. */
export function xml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;");
}

/** The SVG document of a topology. */
export async function topologyToSvg(topology: Topology): Promise<string> {
  const legend = legendItems();
  // The legend is this wide anyway: boxes may use the width before wrapping to a new row.
  const layout = await layoutTopology(topology, { minWidth: legendWidth(legend) + 32 });
  const width = Math.max(layout.width, legendWidth(legend) + 32);
  const height = layout.height + LEGEND_GAP + LEGEND_HEIGHT;
  const title = `Fleet topology of stack ${topology.stack}`;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${num(width)}" height="${num(height)}" viewBox="0 0 ${num(width)} ${num(height)}" role="img" aria-labelledby="sf-title">`,
    `<title id="sf-title">${xml(title)}</title>`,
    styleSheet(),
    `<defs>${Object.keys(EDGE_STYLE).map((kind) => marker(kind as TopologyEdgeKind)).join("")}</defs>`,
    `<rect class="ground" x="0" y="0" width="${num(width)}" height="${num(height)}"/>`,
    `<g class="nodes">`,
    ...layout.nodes.map(drawNode),
    `</g>`,
    `<g class="edges">`,
    ...layout.edges.map(drawEdge),
    `</g>`,
    drawLegend(legend, layout.height + LEGEND_GAP),
    `</svg>`,
    "",
  ].join("\n");
}

/** Classes per kind and per state, so the drawing code writes no colours of its own. */
function styleSheet(): string {
  const rules = [
    `.ground{fill:#ffffff}`,
    `text{font-family:${FONT};fill:#1f2328}`,
    `.label{font-size:${TEXT.labelSize}px;font-weight:bold}`,
    `.detail{font-size:${TEXT.detailSize}px;fill:#57606a}`,
    `.node rect{stroke-width:1.2}`,
    ...Object.entries(NODE_STYLE).map(([kind, s]) => `.${kind}>rect{fill:${s.fill};stroke:${s.stroke}}`),
    ...Object.entries(STATE_STROKE).map(([state, stroke]) => `.node.${state}>rect{stroke:${stroke};stroke-width:2}`),
    `.node.unmanaged>rect{fill:#ffffff;stroke-dasharray:4 3}`,
    `.node.unmanaged .label{fill:#57606a}`,
    `.edge path{fill:none}`,
    ...Object.entries(EDGE_STYLE).map(([kind, s]) => `.edge.${kind} path{stroke:${s.stroke};stroke-width:${s.width}${s.dash ? `;stroke-dasharray:${s.dash}` : ""}}`),
    `.edge-label{font-size:${TEXT.detailSize}px}`,
    `.edge-label-ground{fill:#ffffff;fill-opacity:0.85}`,
  ];
  return `<style>\n${rules.join("\n")}\n</style>`;
}

function marker(kind: TopologyEdgeKind): string {
  const style = EDGE_STYLE[kind];
  return `<marker id="arrow-${kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${style.stroke}"/></marker>`;
}

/** The text lines of a box: its name, then its details, from the top left inside it. */
function textLines(placed: PlacedNode): string {
  const { node, x, y } = placed;
  const left = x + TEXT.padX;
  let baseline = y + TEXT.padY + TEXT.labelSize;
  const lines = [`<text class="label" x="${num(left)}" y="${num(baseline)}">${xml(node.label)}</text>`];
  for (const detail of node.details) {
    baseline += TEXT.detailLine;
    lines.push(`<text class="detail" x="${num(left)}" y="${num(baseline)}">${xml(detail)}</text>`);
  }
  return lines.join("");
}

function drawNode(placed: PlacedNode): string {
  const { node, x, y, width, height } = placed;
  const tooltip = `${NODE_STYLE[node.kind].title} ${node.label} (${node.state})`;
  return (
    `<g class="node ${node.kind} ${node.state}" data-id="${xml(node.id)}">` +
    `<title>${xml(tooltip)}</title>` +
    `<rect x="${num(x)}" y="${num(y)}" width="${num(width)}" height="${num(height)}" rx="${placed.container ? 6 : 4}"/>` +
    textLines(placed) +
    `</g>`
  );
}

function path(points: Point[]): string {
  return points.map((p, i) => `${i === 0 ? "M" : "L"}${num(p.x)},${num(p.y)}`).join("");
}

function drawEdge(placed: PlacedEdge): string {
  const { edge, points, label } = placed;
  const parts = [
    `<g class="edge ${edge.kind}" data-id="${xml(edge.id)}">`,
    `<title>${xml(`${EDGE_STYLE[edge.kind].title}${edge.label ? ` ${edge.label}` : ""}`)}</title>`,
    `<path d="${path(points)}" marker-end="url(#arrow-${edge.kind})"/>`,
  ];
  if (label && edge.label) {
    parts.push(
      `<rect class="edge-label-ground" x="${num(label.x)}" y="${num(label.y)}" width="${num(label.width)}" height="${num(label.height)}"/>`,
      `<text class="edge-label" x="${num(label.x + 2)}" y="${num(label.y + TEXT.detailSize)}">${xml(edge.label)}</text>`,
    );
  }
  parts.push(`</g>`);
  return parts.join("");
}

type LegendItem = { kind: "node"; of: TopologyNodeKind | "unmanaged"; text: string } | { kind: "edge"; of: TopologyEdgeKind; text: string };

/** What the legend explains: the boxes that stand for things, then the kinds of edges. */
function legendItems(): LegendItem[] {
  const boxes: LegendItem[] = (["host", "dpu", "service", "device", "accelerator"] as const).map((of) => ({ kind: "node", of, text: NODE_STYLE[of].title }));
  const edges: LegendItem[] = (Object.keys(EDGE_STYLE) as TopologyEdgeKind[]).map((of) => ({ kind: "edge", of, text: EDGE_STYLE[of].title }));
  return [...boxes, { kind: "node", of: "unmanaged", text: "unmanaged DPU" }, ...edges];
}

const SWATCH = 22;
const ITEM_GAP = 14;

function itemWidth(item: LegendItem): number {
  return SWATCH + 6 + Math.ceil(textWidth(item.text, TEXT.detailSize));
}

function legendWidth(items: LegendItem[]): number {
  return items.reduce((sum, item) => sum + itemWidth(item) + ITEM_GAP, -ITEM_GAP);
}

function drawLegend(items: LegendItem[], top: number): string {
  let x = 16;
  const middle = top + LEGEND_HEIGHT / 2;
  const parts = [`<g class="legend">`];
  for (const item of items) {
    if (item.kind === "node") {
      const classes = item.of === "unmanaged" ? "node dpu unmanaged" : `node ${item.of} declared`;
      parts.push(`<g class="${classes}"><rect x="${num(x)}" y="${num(middle - 7)}" width="${SWATCH}" height="14" rx="3"/></g>`);
    } else {
      parts.push(`<g class="edge ${item.of}"><path d="M${num(x)},${num(middle)}L${num(x + SWATCH)},${num(middle)}"/></g>`);
    }
    parts.push(`<text class="detail" x="${num(x + SWATCH + 6)}" y="${num(middle + 4)}">${xml(item.text)}</text>`);
    x += itemWidth(item) + ITEM_GAP;
  }
  parts.push(`</g>`);
  return parts.join("");
}
