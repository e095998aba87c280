// Merges results files of separate invocations on the same commit (e.g. 100 DPUs with
// every scenario, then 500 DPUs with up/preview) into one results object: rows, counters
// and details side by side, targets recomputed, every source's notes kept.
import { targetsOf } from "./results";
import type { Results } from "./types";

/** One results object from several; the first gives machine, versions and settings. */
export function mergeResults(parts: Results[], note?: string): Results {
  const [first] = parts;
  const rows = parts.flatMap((p) => p.rows);
  const counters = parts.flatMap((p) => p.counters);
  const sizes = [...new Set(rows.map((r) => r.dpus))].sort((a, b) => a - b);
  return {
    ...first,
    date: parts.map((p) => p.date).sort().at(-1) as string,
    startedAt: parts.map((p) => p.startedAt).sort()[0],
    settings: { ...first.settings, dpus: sizes, invocations: parts.map((p) => ({ startedAt: p.startedAt, settings: p.settings })) },
    rows,
    counters,
    counterDetails: parts.flatMap((p) => p.counterDetails),
    checkpoints: parts.flatMap((p) => p.checkpoints),
    targets: targetsOf(rows, counters, sizes),
    failures: parts.flatMap((p) => p.failures ?? []),
    notes: [...(note ? [note] : []), ...parts.flatMap((p) => (p.notes ?? []).filter((n) => !n.startsWith("Partial:")))],
  };
}
