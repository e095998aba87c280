/** The JSON report: the stack reports as they are, plus totals. Stable for scripts. */
import type { StackReport } from "../check";
import { summarize, type ReportSummary } from "./summary";

/** The shape of `smartfleet check --format json`. */
export interface JsonReport {
  /** Format version of this document. */
  formatVersion: 1;
  /** Totals. */
  summary: ReportSummary;
  /** One entry per stack file checked. */
  stacks: StackReport[];
}

/** Renders the reports as pretty-printed JSON. */
export function renderJson(reports: StackReport[]): string {
  const doc: JsonReport = { formatVersion: 1, summary: summarize(reports), stacks: reports };
  return JSON.stringify(doc, null, 2) + "\n";
}
