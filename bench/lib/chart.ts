// Draws the results as a hand-written SVG: one panel per scenario, time (median seconds,
// whiskers min..max) against fleet size on a log axis, one line per tool.
import type { Results, Row } from "./types";

const COLORS: Record<string, string> = {
  smartfleet: "#1f6feb",
  "smartfleet-8-shards": "#8250df",
  "smartfleet-8-shards-postgres": "#1b7c83",
  floor: "#6e7781",
  "floor-8-shards": "#a0a7b0",
  "critical-path": "#2da44e",
  "ansible-forks5": "#cf222e",
  "ansible-forks32": "#bf8700",
};
const TOOLS = Object.keys(COLORS);
// Wide enough for "smartfleet-8-shards-postgres" at the legend's 12 px.
const LEGEND_STEP = 230;
const PANEL = { width: 360, height: 250, left: 56, right: 14, top: 34, bottom: 40 };

const esc = (s: unknown) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (v: number) => String(Math.round(v * 1000) / 1000);

/** A "nice" upper bound and step for an axis from 0 to `max`. */
function niceScale(max: number): { top: number; step: number } {
  const raw = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  return { top: Math.ceil(max / step) * step || step, step };
}

function panel(rows: readonly Row[], scenario: string, sizes: readonly number[], x0: number, y0: number): string {
  const mine = rows.filter((r) => r.scenario === scenario);
  const w = PANEL.width - PANEL.left - PANEL.right;
  const h = PANEL.height - PANEL.top - PANEL.bottom;
  const max = Math.max(...mine.map((r) => Math.max(...r.runs)), 0.001);
  const { top, step } = niceScale(max);
  const logMin = Math.log10(Math.min(...sizes));
  const logMax = Math.log10(Math.max(...sizes));
  const xOf = (dpus: number) => x0 + PANEL.left + (logMax === logMin ? w / 2 : ((Math.log10(dpus) - logMin) / (logMax - logMin)) * w);
  // A missing median (null) sits on the axis, as null / top = 0 always did.
  const yOf = (s: number | null) => y0 + PANEL.top + h - ((s ?? 0) / top) * h;
  const parts = [`<text x="${x0 + PANEL.left}" y="${y0 + 20}" class="title">${esc(scenario)}</text>`];
  for (let v = 0; v <= top + 1e-9; v += step) {
    parts.push(`<line x1="${x0 + PANEL.left}" x2="${x0 + PANEL.left + w}" y1="${yOf(v)}" y2="${yOf(v)}" class="grid"/>`);
    parts.push(`<text x="${x0 + PANEL.left - 6}" y="${yOf(v) + 4}" class="tick" text-anchor="end">${fmt(v)}</text>`);
  }
  for (const dpus of sizes) parts.push(`<text x="${xOf(dpus)}" y="${y0 + PANEL.top + h + 16}" class="tick" text-anchor="middle">${dpus}</text>`);
  parts.push(`<text x="${x0 + PANEL.left + w / 2}" y="${y0 + PANEL.height - 6}" class="axis" text-anchor="middle">DPUs</text>`);
  parts.push(`<text transform="translate(${x0 + 14},${y0 + PANEL.top + h / 2}) rotate(-90)" class="axis" text-anchor="middle">seconds</text>`);
  const present = TOOLS.filter((tool) => mine.some((r) => r.tool === tool));
  for (const [index, tool] of present.entries()) {
    const line = mine.filter((r) => r.tool === tool).sort((a, b) => a.dpus - b.dpus);
    const color = COLORS[tool];
    // Tools side by side at each size, a few pixels apart, so equal figures do not hide each other.
    const shift = (index - (present.length - 1) / 2) * 6;
    const xAt = (dpus: number) => (xOf(dpus) + shift).toFixed(1);
    if (line.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${line.map((r) => `${xAt(r.dpus)},${yOf(r.median).toFixed(1)}`).join(" ")}"/>`);
    for (const r of line) {
      const x = xAt(r.dpus);
      parts.push(`<line x1="${x}" x2="${x}" y1="${yOf(Math.min(...r.runs)).toFixed(1)}" y2="${yOf(Math.max(...r.runs)).toFixed(1)}" stroke="${color}" stroke-width="1"/>`);
      parts.push(`<circle cx="${x}" cy="${yOf(r.median).toFixed(1)}" r="3.5" fill="${color}"><title>${esc(`${tool}, ${r.dpus} DPUs: median ${r.median} s (runs ${r.runs.join(", ")})`)}</title></circle>`);
    }
  }
  return parts.join("\n");
}

/** The SVG text for a results object (`rows` as in latest.json). */
export function renderChart(results: Results): string {
  const rows = results.rows;
  const scenarios = [...new Set(rows.map((r) => r.scenario))];
  const sizes = [...new Set(rows.map((r) => r.dpus))].sort((a, b) => a - b);
  const columns = Math.min(3, scenarios.length);
  const gridRows = Math.ceil(scenarios.length / columns);
  const tools = TOOLS.filter((t) => rows.some((r) => r.tool === t));
  // The legend's row may be wider than the panels with many tools.
  const width = Math.max(columns * PANEL.width, 20 + tools.length * LEGEND_STEP);
  const legendY = 40 + gridRows * PANEL.height + 10;
  const height = legendY + 30;
  const legend = tools
    .map((t, i) => `<rect x="${20 + i * LEGEND_STEP}" y="${legendY}" width="14" height="14" fill="${COLORS[t]}"/><text x="${40 + i * LEGEND_STEP}" y="${legendY + 12}" class="legend">${esc(t)}</text>`)
    .join("\n");
  const panels = scenarios.map((s, i) => panel(rows, s, sizes, (i % columns) * PANEL.width, 40 + Math.floor(i / columns) * PANEL.height)).join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<style>
  .title { font-size: 14px; font-weight: bold; fill: #24292f; }
  .tick { font-size: 10px; fill: #57606a; }
  .axis { font-size: 11px; fill: #57606a; }
  .legend { font-size: 12px; fill: #24292f; }
  .grid { stroke: #d0d7de; stroke-width: 1; }
  .head { font-size: 15px; fill: #24292f; }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="20" y="24" class="head">${esc(`smartfleet benchmark ${results.date.slice(0, 10)}: median seconds (whiskers: min..max of ${results.settings.runs} runs) vs fleet size`)}</text>
${panels}
${legend}
</svg>
`;
}
