// A Markdown digest of a results object: medians per scenario and tool, the targets with
// the figures reached, and smartfleet's counters. Written beside the JSON as latest.md.
import type { Results } from "./types";

const TOOLS = ["smartfleet", "floor", "critical-path", "ansible-forks5", "ansible-forks32"];

const cell = (v: unknown) => (v === null || v === undefined ? "—" : String(v));

/** The Markdown text for `results`. */
export function renderSummary(results: Results): string {
  const lines = [`# Benchmark ${results.date}`, ""];
  lines.push(`Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, load average at start ${results.machine.loadAverageAtStart.join(" / ")}.`);
  const v = results.versions;
  lines.push(`Versions: Node ${v.node}, Pulumi CLI ${v.pulumiCli}, SDK ${v.pulumiSdk}, smartfleet ${v.smartfleet}${v.ansibleCore ? `, ansible-core ${v.ansibleCore}, community.general ${v.communityGeneral}` : ""}.`);
  lines.push(`Runs: ${results.settings.runs} per figure, --parallel ${results.settings.parallel}, timed change at time scale ${results.settings.timeScaleForTimedChange}.`, "");
  lines.push("## Median seconds (min–max)", "");
  const tools = TOOLS.filter((t) => results.rows.some((r) => r.tool === t));
  lines.push(`| scenario | DPUs | ${tools.join(" | ")} |`, `|---|---:|${tools.map(() => "---:").join("|")}|`);
  const keys = [...new Set(results.rows.map((r) => `${r.scenario}|${r.dpus}`))];
  for (const key of keys) {
    const [scenario, dpus] = key.split("|");
    const cells = tools.map((t) => {
      const row = results.rows.find((r) => r.scenario === scenario && r.dpus === Number(dpus) && r.tool === t);
      return row ? `${row.median} (${Math.min(...row.runs)}–${Math.max(...row.runs)})` : "—";
    });
    lines.push(`| ${scenario} | ${dpus} | ${cells.join(" | ")} |`);
  }
  lines.push("", "## Targets", "", "| target | DPUs | limit | reached | |", "|---|---:|---:|---:|---|");
  for (const t of results.targets) lines.push(`| ${t.target} | ${t.dpus} | ${t.limit} | ${t.reached} | ${t.met ? "met" : "**missed**"} |`);
  lines.push("", "## smartfleet counters (medians)", "", "| scenario | DPUs | management requests | per DPU | state bytes per resource | provider peak RSS MiB |", "|---|---:|---:|---:|---:|---:|");
  for (const c of results.counters) lines.push(`| ${c.scenario} | ${c.dpus} | ${c.managementRequests} | ${cell(Math.round((c.managementRequests / c.dpus) * 100) / 100)} | ${cell(c.stateBytesPerResource)} | ${cell(c.providerPeakRssMiB)} |`);
  if (results.checkpoints.length) {
    lines.push("", "## Checkpoints", "");
    for (const c of results.checkpoints) lines.push(`- ${c.scenario} at ${c.dpus} DPUs: ${c.secondsWithCheckpoints} s writing a checkpoint after every step, ${cell(c.secondsSkippingCheckpoints)} s (median) with PULUMI_SKIP_CHECKPOINTS=true.`);
  }
  if (results.failures.length || results.notes.length) {
    lines.push("", "## Notes", "");
    for (const n of results.notes) lines.push(`- ${n}`);
    for (const f of results.failures) lines.push(`- failed: ${f.tool}, run ${f.run + 1} at ${f.dpus} DPUs: ${f.error.split("\n")[0]}`);
  }
  return lines.join("\n") + "\n";
}
