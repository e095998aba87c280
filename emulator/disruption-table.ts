/** In-memory disruption log: every interval by id, and the ongoing ones by what they are about. */
import type { DisruptionRecord } from "./model";

/** What an interval is about (kind, host, DPU, pair, service): at most one of each is ongoing. */
export type DisruptionSubject = Omit<DisruptionRecord, "id" | "start" | "end">;

/** The identity of a subject, as a map key. */
export function subjectKey(s: DisruptionSubject): string {
  return [s.kind, s.host, s.dpu ?? "", s.pair ?? "", s.service ?? ""].join("\u0000");
}

/** The log's records, with an index of the ongoing ones. */
export class DisruptionTable {
  private readonly byId = new Map<number, DisruptionRecord>();
  private readonly ongoing = new Map<string, DisruptionRecord>();
  private next = 1;

  /** Adds or replaces a record (as loaded, or restored by a rollback). */
  set(record: DisruptionRecord): void {
    const before = this.byId.get(record.id);
    if (before && before.end === null) this.ongoing.delete(subjectKey(before));
    this.byId.set(record.id, record);
    if (record.end === null) this.ongoing.set(subjectKey(record), record);
    this.next = Math.max(this.next, record.id + 1);
  }

  /** A new ongoing record of `subject` from `start`. */
  open(subject: DisruptionSubject, start: number): DisruptionRecord {
    const record: DisruptionRecord = { id: this.next++, ...subject, start, end: null };
    this.set(record);
    return record;
  }

  /** Ends an ongoing record at `end`. */
  close(record: DisruptionRecord, end: number): void {
    this.ongoing.delete(subjectKey(record));
    record.end = end;
  }

  /** Forgets a record. */
  delete(id: number): void {
    const record = this.byId.get(id);
    if (!record) return;
    this.byId.delete(id);
    if (record.end === null) this.ongoing.delete(subjectKey(record));
  }

  /** The ongoing record of a subject, if any. */
  ongoingOf(key: string): DisruptionRecord | undefined {
    return this.ongoing.get(key);
  }

  /** Every ongoing record. */
  allOngoing(): DisruptionRecord[] {
    return [...this.ongoing.values()];
  }

  /** Every record, in creation order. */
  all(): DisruptionRecord[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}
