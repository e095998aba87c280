/** The plain-text report: one line per finding, in the `file:line:column` form editors link. */
import { formatStackError } from "../../schemas/diagnostics";
import type { Finding, StackReport } from "../check";
import { RULES } from "../rules";
import { count, summarize } from "./summary";

function originOf(finding: Finding): string {
  const origin = finding.location.origin;
  return origin ? `\n    rendered by ${origin.component} at ${origin.file}:${origin.line}` : "";
}

function line(finding: Finding, label: string): string {
  const { file, line: l, column } = finding.location;
  return `${file}:${l}:${column}  ${label.padEnd(7)}  ${finding.ruleId} ${finding.ruleName}  ${finding.message}${originOf(finding)}`;
}

/** Renders the reports as text; `remediation` adds each failing rule's fix once at the end. */
export function renderText(reports: StackReport[]): string {
  const out: string[] = [];
  const failing = new Set<string>();
  for (const report of reports) {
    for (const error of report.inputErrors) out.push(`${formatStackError(error)}  [invalid input]`);
    for (const f of report.findings) {
      out.push(line(f, f.severity));
      failing.add(f.ruleId);
    }
    for (const f of report.waived) out.push(`${line(f, "waived")}\n    disabled by the stack: ${f.waivedBecause ?? ""}`);
  }
  const fixes = RULES.filter((r) => failing.has(r.id)).map((r) => `  ${r.id} ${r.name}: ${r.remediation}`);
  if (fixes.length > 0) out.push("", "how to fix:", ...fixes);
  const s = summarize(reports);
  out.push(
    "",
    `${count(s.stacks, "stack")} checked: ${count(s.errors, "error")}, ${count(s.warnings, "warning")}, ${s.waived} waived` +
      (s.invalid > 0 ? `, ${s.invalid} invalid` : ""),
  );
  return out.join("\n").replace(/^\n/, "") + "\n";
}
