/**
 * The management controller's event log: what happened on a DPU (power actions, installs,
 * deploys and every other task, logins and failed logins, crashes), newest last, as the
 * Manager's `LogServices/EventLog` shows it. Like a BMC's journal it lives in the controller's
 * memory, wraps when full (`OverWritePolicy` WrapsWhenFull), and starts empty when the
 * emulator (the controller) restarts.
 *
 * Changes that go through a transaction log with `afterCommit`, so a refused change leaves
 * no entry; refused logins, which change no document, log at once with `record`. Listeners
 * (the EventService stream) see each entry as it is written.
 */
import type { Clock } from "../clock";

/** Entries a DPU keeps; the oldest go first. */
export const MAX_LOG_ENTRIES = 200;

/** What a caller says about an event. */
export interface LogEvent {
  /** OK, Warning or Critical. */
  severity: "OK" | "Warning" | "Critical";
  /** The registry message it is an instance of (`Registry.Major.Minor.Key`). */
  messageId: string;
  /** The message arguments. */
  args: string[];
  /** What happened, for people. */
  message: string;
  /** The resource it happened to, if one. */
  origin?: string;
}

/** An entry as the log keeps it. */
export interface LogEntryRecord extends LogEvent {
  /** Sequence number on its DPU, from 1. */
  id: number;
  /** Clock ms when it was written. */
  created: number;
}

interface DpuLog {
  entries: LogEntryRecord[];
  next: number;
}

/** Every DPU's event log. */
export class EventLog {
  private readonly logs = new Map<string, DpuLog>();
  private readonly listeners: Array<(serial: string, entry: LogEntryRecord) => void> = [];

  constructor(private readonly clock: Clock) {}

  /** Writes an entry now. */
  record(serial: string, event: LogEvent): LogEntryRecord {
    const log = this.logOf(serial);
    const entry: LogEntryRecord = { ...event, id: log.next++, created: this.clock.now() };
    log.entries.push(entry);
    if (log.entries.length > MAX_LOG_ENTRIES) log.entries.splice(0, log.entries.length - MAX_LOG_ENTRIES);
    for (const l of this.listeners) l(serial, entry);
    return entry;
  }

  /** Writes an entry once `txn` is committed (nothing if it is rolled back). */
  afterCommit(txn: { after: Array<() => void> }, serial: string, event: LogEvent): void {
    txn.after.push(() => this.record(serial, event));
  }

  /** The entries of a DPU, oldest first. */
  entries(serial: string): readonly LogEntryRecord[] {
    return this.logs.get(serial)?.entries ?? [];
  }

  /** One entry, if the log still holds it. */
  entry(serial: string, id: number): LogEntryRecord | undefined {
    return this.logs.get(serial)?.entries.find((e) => e.id === id);
  }

  /** Empties a DPU's log (LogService.ClearLog); numbering goes on, as BMCs do. */
  clear(serial: string): void {
    this.logOf(serial).entries = [];
  }

  /** Calls `fn` with every entry written from now on. */
  onRecord(fn: (serial: string, entry: LogEntryRecord) => void): void {
    this.listeners.push(fn);
  }

  private logOf(serial: string): DpuLog {
    let log = this.logs.get(serial);
    if (!log) this.logs.set(serial, (log = { entries: [], next: 1 }));
    return log;
  }
}
