/**
 * Reading the emulated fleet's disruption log (`GET /admin/v1/disruptions`) the way a
 * rollout is judged: how many hosts of each group were down at the same time.
 */
import type { DisruptionRecord } from "../../emulator/model";
import { DISRUPTION_KINDS, disruptsHost } from "../../model/disruption";

/** One interval of the log, as the admin API answers it (without the emulator's sequence number). */
export type LoggedDisruption = Omit<DisruptionRecord, "id" | "kind"> & { kind: string };

/** What counts as a host being unavailable by default: what takes it down, and maintenance. */
export const HOST_UNAVAILABLE_KINDS: readonly string[] = [...DISRUPTION_KINDS.filter(disruptsHost), "maintenance"];

/** The peak of one group: how many hosts, when (clock ms), which. */
export interface GroupPeak {
  max: number;
  at: number | null;
  hosts: string[];
}

/** True if an interval covers instant `t`: [start, end), an ongoing one from start on, a zero-length one at its instant. */
function covers(i: { start: number; end: number | null }, t: number): boolean {
  if (i.end === null) return i.start <= t;
  if (i.end === i.start) return i.start === t;
  return i.start <= t && t < i.end;
}

/**
 * The most hosts of each group disrupted at once, from a disruption log. `groupOf` names a
 * host's group (e.g. from the stack's rollout: `model/rollout.ts` `hostRollouts`); `kinds`
 * are the intervals that make a host unavailable (default `HOST_UNAVAILABLE_KINDS`). A host
 * counts once however many of its intervals overlap; one ending when another starts does
 * not overlap it.
 */
export function peakDisruptedHosts(log: readonly LoggedDisruption[], groupOf: (host: string) => string, kinds: readonly string[] = HOST_UNAVAILABLE_KINDS): Map<string, GroupPeak> {
  const relevant = log.filter((r) => kinds.includes(r.kind));
  const peaks = new Map<string, GroupPeak>();
  for (const r of relevant) if (!peaks.has(groupOf(r.host))) peaks.set(groupOf(r.host), { max: 0, at: null, hosts: [] });
  for (const [group, peak] of peaks) {
    const inGroup = relevant.filter((r) => groupOf(r.host) === group);
    // The count only rises where an interval starts, so the peak is at one of the starts.
    for (const t of [...new Set(inGroup.map((r) => r.start))].sort((a, b) => a - b)) {
      const hosts = [...new Set(inGroup.filter((r) => covers(r, t)).map((r) => r.host))].sort();
      if (hosts.length > peak.max) Object.assign(peak, { max: hosts.length, at: t, hosts });
    }
  }
  return peaks;
}

/** `peakDisruptedHosts` as `{ group: max }`. */
export function maxDisruptedHostsPerGroup(log: readonly LoggedDisruption[], groupOf: (host: string) => string, kinds?: readonly string[]): Record<string, number> {
  return Object.fromEntries([...peakDisruptedHosts(log, groupOf, kinds)].map(([group, peak]) => [group, peak.max]));
}
