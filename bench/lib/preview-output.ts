// Reads what a preview says it would change from the commands' own text output, so a
// scenario can check that it measured the preview it meant to: a no-change preview that
// changes nothing, a one-DPU change that shows up (and only in the shard it belongs to).

/** Resources `pulumi preview` plans to create, update, replace or delete, from its `Resources:` summary. */
export function pulumiPreviewChanges(output: string): number {
  let changes = 0;
  // e.g. "    ~ 1 to update", "    +-2 to replace", "    + 3 to create"; "N unchanged" is not a change.
  for (const match of output.matchAll(/^\s*(?:\+-|[+~-])\s*(\d+) to (?:create|update|replace|delete)\b/gm)) changes += Number(match[1]);
  return changes;
}

/** One row of `smartfleet up|preview|destroy`'s summary table for a sharded stack. */
export interface PartRow {
  part: string;
  status: string;
  /** Resources changed (to change, for a preview); null when the part did not run. */
  changed: number | null;
  unchanged: number | null;
  failed: number | null;
}

/**
 * The rows of the summary table a sharded `smartfleet` command prints last
 * (`cli/stack-ops/shards.ts`, `summaryTable`): `shard  result  changed|to change  unchanged  failed  time  note`.
 */
export function smartfleetPartRows(output: string): PartRow[] {
  const lines = output.split("\n");
  const header = lines.findIndex((l) => /^shard\s+result\s+(changed|to change)\s+unchanged\s+failed\s+time/.test(l));
  if (header < 0) return [];
  const rows: PartRow[] = [];
  const count = (cell: string) => (cell === "-" ? null : Number(cell));
  for (const line of lines.slice(header + 1)) {
    const match = /^(\S+)\s+(\S+)\s+(\d+|-)\s+(\d+|-)\s+(\d+|-)\s+(\S+)/.exec(line);
    if (!match) break;
    rows.push({ part: match[1], status: match[2], changed: count(match[3]), unchanged: count(match[4]), failed: count(match[5]) });
  }
  return rows;
}
