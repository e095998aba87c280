/**
 * The `--max-errors` cap of the human reports (text, Markdown): one mistake repeated over a
 * 26k-host fleet is 80k lines that nobody reads. The first N problems (input errors, then
 * findings, then waived findings, stack by stack) are listed; the totals stay exact.
 */
import type { StackReport } from "../check";

/** Reports cut to at most `max` listed problems in all (0: no cap), and how many were left out. */
export function limitProblems(reports: StackReport[], max: number): { reports: StackReport[]; omitted: number } {
  if (max <= 0) return { reports, omitted: 0 };
  let left = max;
  let omitted = 0;
  const take = <T>(items: T[]): T[] => {
    const kept = items.slice(0, left);
    left -= kept.length;
    omitted += items.length - kept.length;
    return kept;
  };
  const limited = reports.map((r) => ({ ...r, inputErrors: take(r.inputErrors), findings: take(r.findings), waived: take(r.waived) }));
  return { reports: limited, omitted };
}

/** The line that says how many problems the cap left out. */
export function omittedLine(omitted: number): string {
  return `… and ${omitted} more (--max-errors 0 lists every one)`;
}
