// A Markdown digest of a results object: medians per scenario and tool, the targets with
// the figures reached, and the counters per tool. Written beside the JSON as latest.md.
import { TOOL_ORDER, type Results } from "./types";

const cell = (v: unknown) => (v === null || v === undefined ? "—" : String(v));

/** The Markdown text for `results`. */
export function renderSummary(results: Results): string {
  const lines = [`# Benchmark ${results.date}`, ""];
  lines.push(`Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, load average at start ${results.machine.loadAverageAtStart.join(" / ")}.`);
  const v = results.versions;
  lines.push(`Versions: Node ${v.node}, Pulumi CLI ${v.pulumiCli}, SDK ${v.pulumiSdk}, smartfleet ${v.smartfleet}${v.ansibleCore ? `, ansible-core ${v.ansibleCore}, community.general ${v.communityGeneral}` : ""}.`);
  lines.push(`Runs: ${results.settings.runs} per figure, --parallel ${results.settings.parallel}, timed change at time scale ${results.settings.timeScaleForTimedChange}.`, "");
  lines.push("## Median seconds (min–max)", "");
  const tools = TOOL_ORDER.filter((t) => results.rows.some((r) => r.tool === t));
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
  lines.push("", "## Counters (medians)", "");
  lines.push("Peak RSS is VmHWM: provider = every provider process of the command added up; largest = the largest single one (with shards, among all shards' providers); engine = the largest `pulumi` process.", "");
  lines.push("| scenario | DPUs | tool | management requests | per DPU | state bytes per resource | provider peak RSS MiB | largest provider MiB | engine MiB |", "|---|---:|---|---:|---:|---:|---:|---:|---:|");
  for (const c of results.counters) {
    const perDpu = Math.round((c.managementRequests / c.dpus) * 100) / 100;
    lines.push(`| ${c.scenario} | ${c.dpus} | ${c.tool ?? "smartfleet"} | ${c.managementRequests} | ${perDpu} | ${cell(c.stateBytesPerResource)} | ${cell(c.providerPeakRssMiB)} | ${cell(c.largestProviderPeakRssMiB)} | ${cell(c.enginePeakRssMiB)} |`);
  }
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
