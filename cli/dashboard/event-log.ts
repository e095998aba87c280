/**
 * The dashboard's event log: what the ports themselves logged and streamed (their
 * LogService entries, read in each refresh, and the events of their server-sent event
 * streams), one list for the fleet, newest last, each entry once however it arrived.
 * Per port a mark says which entries were taken, so the refresh hands over only newer
 * ones and a streamed event later read from the log is not listed twice.
 */
import { isNewer, type LogMark, type PortLogEntry } from "./port-log";

/** One entry of the event log, as the page shows it. */
export interface PortEvent {
  /** Unique in the log: `<host/nic>#<entry id>`. */
  key: string;
  /** Epoch ms the port says it happened (when it received it, if the port gave no time). */
  at: number;
  /** The DPU (`host/nic`) and its host. */
  dpu: string;
  host: string;
  /** OK, Warning or Critical, as the port says. */
  severity: string;
  messageId: string;
  /** The message text. */
  message: string;
  /** How it arrived: read from the port's log in a refresh, or pushed on its stream. */
  via: "log" | "stream";
}

/** How many entries the log keeps (the page filters these). */
export const EVENTS_KEPT = 500;

const NONE: LogMark = { id: -1, created: -Infinity };

export class FleetEventLog {
  private events: PortEvent[] = [];
  private readonly marks = new Map<string, LogMark>();

  /** Where the log of `dpu` was left: the refresh reads only entries after it. */
  mark(dpu: string): LogMark {
    return this.marks.get(dpu) ?? NONE;
  }

  /** Takes the entries a refresh read of `dpu`'s log (newer than its mark); returns those added. */
  fromLog(dpu: string, entries: PortLogEntry[], now = Date.now()): PortEvent[] {
    const mark = this.marks.get(dpu);
    // A port whose numbering went back (its controller restarted) starts a new log.
    const restarted = mark !== undefined && entries.length > 0 && entries.every((e) => Number.isInteger(Number(e.id)) && Number(e.id) <= mark.id);
    if (restarted) this.marks.delete(dpu);
    return this.add(dpu, entries, "log", now);
  }

  /**
   * Takes one event of `dpu`'s stream. `entryId` is the log entry it is (the number after
   * the port's serial in `EventId`), or undefined for an event the port does not log
   * (a test event): that one is listed under the event's own id and moves no mark.
   */
  fromStream(dpu: string, entry: PortLogEntry, logged: boolean, now = Date.now()): PortEvent[] {
    if (logged) return this.add(dpu, [entry], "stream", now);
    const event = this.eventOf(dpu, entry, "stream", now);
    if (this.events.some((e) => e.key === event.key)) return [];
    this.keep([event]);
    return [event];
  }

  /** The kept entries, oldest first. */
  latest(): PortEvent[] {
    return this.events;
  }

  private add(dpu: string, entries: PortLogEntry[], via: PortEvent["via"], now: number): PortEvent[] {
    const mark = { ...this.mark(dpu) };
    const added: PortEvent[] = [];
    for (const entry of entries) {
      if (!isNewer(entry, mark)) continue;
      added.push(this.eventOf(dpu, entry, via, now));
      const id = Number(entry.id);
      if (Number.isInteger(id)) mark.id = Math.max(mark.id, id);
      if (entry.created > mark.created) mark.created = entry.created;
    }
    this.marks.set(dpu, mark);
    this.keep(added);
    return added;
  }

  private eventOf(dpu: string, entry: PortLogEntry, via: PortEvent["via"], now: number): PortEvent {
    return {
      key: `${dpu}#${entry.id}`,
      at: Number.isNaN(entry.created) ? now : entry.created,
      dpu,
      host: dpu.split("/")[0],
      severity: entry.severity,
      messageId: entry.messageId,
      message: messageText(entry),
      via,
    };
  }

  private keep(added: PortEvent[]): void {
    if (added.length === 0) return;
    this.events = [...this.events, ...added].sort((a, b) => a.at - b.at).slice(-EVENTS_KEPT);
  }
}

/**
 * The entry's text: the port's own rendering of its registry message; for a port that
 * gives only the MessageId, that id with its arguments (the ports serve no message
 * registry to resolve it from).
 */
export function messageText(entry: Pick<PortLogEntry, "message" | "messageId" | "args">): string {
  if (entry.message) return entry.message;
  return entry.args.length ? `${entry.messageId} (${entry.args.join(", ")})` : entry.messageId;
}
