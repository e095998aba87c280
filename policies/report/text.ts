/** The plain-text report: one line per finding, in the `file:line:column` form editors link. */
import { formatStackError } from "../../schemas/diagnostics";
import type { Finding, StackReport } from "../check";
import { RULES } from "../rules";
import { limitProblems, omittedLine } from "./limit";
import { count, summarize } from "./summary";

/** How the text report is written. */
export interface TextOptions {
  /** List at most this many problems in all (0 or absent: every one); the totals stay exact. */
  maxProblems?: number;
  /** ANSI colours for a terminal: errors red, warnings yellow, waived dim. */
  colour?: boolean;
}

const ANSI = { red: "\x1b[31m", yellow: "\x1b[33m", dim: "\x1b[2m", bold: "\x1b[1m", reset: "\x1b[0m" } as const;

function originOf(finding: Finding): string {
  const origin = finding.location.origin;
  return origin ? `\n    rendered by ${origin.component} at ${origin.file}:${origin.line}` : "";
}

function line(finding: Finding, label: string, paint: Paint): string {
  const { file, line: l, column } = finding.location;
  const colour = label === "error" ? "red" : label === "warning" ? "yellow" : "dim";
  return `${file}:${l}:${column}  ${paint(colour, label.padEnd(7))}  ${finding.ruleId} ${finding.ruleName}  ${finding.message}${originOf(finding)}`;
}

type Paint = (colour: keyof typeof ANSI, text: string) => string;

/** Renders the reports as text; each failing rule's remediation is added once at the end. */
export function renderText(reports: StackReport[], options: TextOptions = {}): string {
  const paint: Paint = options.colour ? (colour, text) => `${ANSI[colour]}${text}${ANSI.reset}` : (_colour, text) => text;
  const out: string[] = [];
  const failing = new Set(reports.flatMap((r) => r.findings.map((f) => f.ruleId)));
  const { reports: listed, omitted } = limitProblems(reports, options.maxProblems ?? 0);
  for (const report of listed) {
    for (const error of report.inputErrors) out.push(`${formatStackError(error)}  ${paint("red", "[invalid input]")}`);
    for (const f of report.findings) out.push(line(f, f.severity, paint));
    for (const f of report.waived) out.push(`${line(f, "waived", paint)}\n    disabled by the stack: ${f.waivedBecause ?? ""}`);
  }
  if (omitted > 0) out.push(omittedLine(omitted));
  const fixes = RULES.filter((r) => failing.has(r.id)).map((r) => `  ${r.id} ${r.name}: ${r.remediation}`);
  if (fixes.length > 0) out.push("", "how to fix:", ...fixes);
  const s = summarize(reports);
  out.push(
    "",
    paint("bold", `${count(s.stacks, "stack")} checked: ${count(s.errors, "error")}, ${count(s.warnings, "warning")}, ${s.waived} waived` +
      (s.invalid > 0 ? `, ${s.invalid} invalid` : "")),
  );
  return out.join("\n").replace(/^\n/, "") + "\n";
}
