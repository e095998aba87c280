/**
 * The plan's four formats, each a pure function of the plan: text (a table per host, then
 * the total), Markdown (for a pull-request comment), JSON and SVG (a timeline: hosts by
 * time, one bar per disrupted host coloured by its disruption, group labels and a legend;
 * self-contained: no external font, stylesheet or script).
 */
import { DISRUPTION_KINDS, type DisruptionKind } from "../../model/disruption";
import type { Plan, PlanHost } from "./plan";

/** Seconds as `8 min 30 s` (and the seconds). */
export function duration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  if (m < 60) return s ? `${m} min ${s} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${m % 60} min`;
}

function table(rows: string[][], indent = "  "): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => indent + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd());
}

function window(h: PlanHost): string {
  return h.order === null ? "not disrupted" : `order ${h.order} in its group, ${h.start} s → ${h.end} s`;
}

function summaryLine(plan: Plan): string {
  const disrupted = plan.hosts.filter((h) => h.order !== null).length;
  const changing = plan.hosts.filter((h) => h.operations.length > 0).length;
  return `${plan.hosts.length} hosts, ${changing} changing, ${disrupted} disrupted; estimated ${duration(plan.estimateSeconds)} (${plan.estimateSeconds} s)`;
}

/** The plain-text plan. */
export function renderPlanText(plan: Plan): string {
  const lines = [`smartfleet plan: stack ${plan.stack}: ${summaryLine(plan)}`, ""];
  for (const h of plan.hosts) {
    lines.push(`${h.host}  group ${h.group}  disruption ${h.disruption}  ${window(h)}${h.seconds ? `  (~${duration(h.seconds)} of work)` : ""}`);
    if (h.operations.length === 0) lines.push("  no changes");
    else {
      lines.push(
        ...table([
          ["resource", "property", "kind", "from", "to"],
          ...h.operations.map((op) => [op.resource, op.property, op.kind, op.from ?? "-", op.to ?? "-"]),
        ]),
      );
    }
    for (const f of h.failovers) lines.push(`  pair: ${f}`);
    lines.push("");
  }
  if (plan.outcomes.length) {
    lines.push("outcomes:");
    for (const o of plan.outcomes) lines.push(`  ${o.kind}: ${o.message}`);
    lines.push("");
  }
  lines.push(plan.violations.length ? "violations:" : "violations: none");
  for (const v of plan.violations) lines.push(`  ${v.severity} ${v.rule}: ${v.message}`);
  lines.push("", `total: ${duration(plan.estimateSeconds)} (${plan.estimateSeconds} s)`);
  return lines.join("\n") + "\n";
}

function md(text: string | null): string {
  return text === null ? "–" : `\`${text.replace(/`/g, "'").replace(/\|/g, "\\|")}\``;
}

/** The Markdown plan (for a pull-request comment). */
export function renderPlanMarkdown(plan: Plan): string {
  const errors = plan.violations.filter((v) => v.severity === "error").length;
  const lines = [
    `## smartfleet plan: \`${plan.stack}\``,
    "",
    `${summaryLine(plan)}${errors ? `; **${errors} policy error${errors > 1 ? "s" : ""}**` : ""}.`,
    "",
    "| host | group | disruption | order | window | operations |",
    "|---|---|---|---|---|---|",
    ...plan.hosts.map((h) => `| ${h.host} | ${h.group} | ${h.disruption} | ${h.order ?? "–"} | ${h.order === null ? "–" : `${h.start}–${h.end} s`} | ${h.operations.length} |`),
    "",
  ];
  for (const h of plan.hosts.filter((x) => x.operations.length > 0)) {
    lines.push(`### ${h.host}`, "", "| resource | property | kind | from | to |", "|---|---|---|---|---|");
    for (const op of h.operations) lines.push(`| ${op.resource} | ${op.property} | ${op.kind} | ${md(op.from)} | ${md(op.to)} |`);
    for (const f of h.failovers) lines.push("", `- ${f}`);
    lines.push("");
  }
  if (plan.outcomes.length) {
    lines.push("### Outcomes", "");
    for (const o of plan.outcomes) lines.push(`- **${o.kind}**: ${o.message}`);
    lines.push("");
  }
  lines.push("### Policy", "");
  if (plan.violations.length === 0) lines.push("No violations.");
  for (const v of plan.violations) lines.push(`- ${v.severity === "error" ? "❌" : "⚠️"} **${v.rule}** (${v.severity}): ${v.message}`);
  lines.push("", `**Total:** ${duration(plan.estimateSeconds)} (${plan.estimateSeconds} s)`);
  return lines.join("\n") + "\n";
}

/** The JSON plan: `{ stack, hosts: [{ host, group, operations: [{ resource, kind, from, to, ... }], disruption, order, ... }], estimateSeconds, violations: [{ rule, message, severity }], outcomes }`. */
export function renderPlanJson(plan: Plan): string {
  const ordered = {
    stack: plan.stack,
    hosts: plan.hosts.map((h) => ({
      host: h.host,
      group: h.group,
      operations: h.operations.map((op) => ({ resource: op.resource, kind: op.kind, from: op.from, to: op.to, property: op.property, step: op.step, resourceKind: op.resourceKind })),
      disruption: h.disruption,
      order: h.order,
      start: h.start,
      end: h.end,
      seconds: h.seconds,
      failovers: h.failovers,
    })),
    estimateSeconds: plan.estimateSeconds,
    violations: plan.violations.map((v) => ({ rule: v.rule, message: v.message, severity: v.severity })),
    outcomes: plan.outcomes,
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

/** Colour of each disruption kind in the SVG timeline. */
export const KIND_COLOURS: Record<DisruptionKind, string> = {
  none: "#d0d7de",
  "service-restart": "#54aeff",
  "dpu-reboot": "#d4a72c",
  "host-power-cycle": "#e16f24",
  "host-os-install": "#cf222e",
};

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function tickStep(total: number): number {
  for (const step of [30, 60, 120, 300, 600, 900, 1800, 3600, 7200]) if (total / step <= 10) return step;
  return 14_400;
}

/** The SVG timeline: a row per host (grouped, group labels), a bar per disrupted host over its window, a legend. */
export function renderPlanSvg(plan: Plan): string {
  const left = 200;
  const chart = 640;
  const rowH = 26;
  const groupH = 22;
  const top = 56;
  const total = Math.max(plan.estimateSeconds, 60);
  const x = (s: number) => left + (s / total) * chart;
  const groups: string[] = [];
  for (const h of plan.hosts) if (!groups.includes(h.group)) groups.push(h.group);
  const body: string[] = [];
  let y = top;
  for (const group of groups) {
    body.push(`<text class="group-label" x="8" y="${y + 15}" font-weight="bold">${esc(group)}</text>`);
    y += groupH;
    for (const h of plan.hosts.filter((p) => p.group === group)) {
      const title = `${h.host}: ${h.disruption}${h.order === null ? "" : `, ${h.start}–${h.end} s (order ${h.order})`}`;
      body.push(`<g class="host-row" data-host="${esc(h.host)}" data-group="${esc(group)}">`);
      body.push(`<rect x="0" y="${y}" width="${left + chart + 20}" height="${rowH}" fill="${(plan.hosts.indexOf(h) % 2) === 0 ? "#f6f8fa" : "#ffffff"}"/>`);
      body.push(`<text x="20" y="${y + 17}">${esc(h.host)}</text>`);
      if (h.order !== null && h.start !== null && h.end !== null) {
        const w = Math.max(2, x(h.end) - x(h.start));
        body.push(
          `<rect class="bar" data-host="${esc(h.host)}" data-kind="${h.disruption}" x="${x(h.start).toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" rx="3" fill="${KIND_COLOURS[h.disruption]}"><title>${esc(title)}</title></rect>`,
        );
        body.push(`<text x="${(x(h.start) + 4).toFixed(1)}" y="${y + 17}" font-size="11">${esc(`#${h.order} ${h.disruption}`)}</text>`);
      } else {
        body.push(`<text x="${left}" y="${y + 17}" font-size="11" fill="#57606a">${h.operations.length ? `${esc(h.disruption)} (no host disruption)` : "no changes"}</text>`);
      }
      body.push(`</g>`);
      y += rowH;
    }
  }
  const axisY = y + 6;
  const ticks: string[] = [];
  const step = tickStep(total);
  for (let s = 0; s <= total; s += step) {
    ticks.push(`<line x1="${x(s).toFixed(1)}" y1="${top}" x2="${x(s).toFixed(1)}" y2="${axisY}" stroke="#d0d7de" stroke-dasharray="2,3"/>`);
    ticks.push(`<text x="${x(s).toFixed(1)}" y="${axisY + 14}" font-size="11" text-anchor="middle">${esc(duration(s))}</text>`);
  }
  const legendY = axisY + 34;
  const legend = DISRUPTION_KINDS.filter((k) => k !== "none").map(
    (k, i) => `<g class="legend-item" transform="translate(${left + i * 150},${legendY})"><rect width="12" height="12" rx="2" fill="${KIND_COLOURS[k]}"/><text x="18" y="11" font-size="12">${k}</text></g>`,
  );
  const height = legendY + 28;
  const width = left + chart + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13" role="img" aria-label="${esc(`smartfleet plan for stack ${plan.stack}`)}">`,
    `<title>${esc(`smartfleet plan: stack ${plan.stack}, estimated ${duration(plan.estimateSeconds)}`)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="8" y="22" font-size="16" font-weight="bold">${esc(`smartfleet plan: ${plan.stack}`)}</text>`,
    `<text x="8" y="42" font-size="12" fill="#57606a">${esc(summaryLine(plan))}</text>`,
    ...ticks,
    ...body,
    `<line x1="${left}" y1="${axisY}" x2="${left + chart}" y2="${axisY}" stroke="#57606a"/>`,
    ...legend,
    `</svg>`,
    "",
  ].join("\n");
}

/** The plan in `format`. */
export function renderPlan(plan: Plan, format: "text" | "markdown" | "json" | "svg"): string {
  switch (format) {
    case "text":
      return renderPlanText(plan);
    case "markdown":
      return renderPlanMarkdown(plan);
    case "json":
      return renderPlanJson(plan);
    case "svg":
      return renderPlanSvg(plan);
  }
}
