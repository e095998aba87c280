/** Counts shared by every report format. */
import type { StackReport } from "../check";

/** Totals over a set of stack reports. */
export interface ReportSummary {
  /** Stacks checked. */
  stacks: number;
  /** Stacks that could not be loaded or had invalid waivers. */
  invalid: number;
  /** Error findings. */
  errors: number;
  /** Warning findings. */
  warnings: number;
  /** Findings of disabled rules. */
  waived: number;
}

/** Totals over `reports`. */
export function summarize(reports: StackReport[]): ReportSummary {
  const all = reports.flatMap((r) => r.findings);
  return {
    stacks: reports.length,
    invalid: reports.filter((r) => r.inputErrors.length > 0).length,
    errors: all.filter((f) => f.severity === "error").length,
    warnings: all.filter((f) => f.severity === "warning").length,
    waived: reports.reduce((n, r) => n + r.waived.length, 0),
  };
}

/** `1 error`, `2 warnings`. */
export function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
