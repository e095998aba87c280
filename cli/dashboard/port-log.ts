/**
 * A port's own log, read in the refresh's read pass: the entries of the Manager's
 * LogServices (the port's event log) and where its EventService streams events
 * (`ServerSentEventUri`). Both come from the expanded read the refresh takes anyway (a
 * LogEntryCollection's members are auto-expanded), so reading them sends no request of
 * its own; only entries newer than the ones already taken are kept (all of them when the
 * port's numbering went back: its controller restarted).
 */
import { asRecord, linkOf, locate, type RedfishClient } from "../../providers/redfish";

type Body = Record<string, unknown>;

/** One log entry as the port gave it. */
export interface PortLogEntry {
  /** The entry's Id in its log (a sequence number on the emulated ports). */
  id: string;
  /** Epoch ms of `Created`; NaN when the port gave none. */
  created: number;
  severity: string;
  messageId: string;
  message: string;
  args: string[];
}

/** Where a reader left a port's log: the newest entry taken. */
export interface LogMark {
  /** The highest numeric entry Id taken (-1: none yet). */
  id: number;
  /** The newest `Created` taken, for ports whose Ids are not numbers. */
  created: number;
}

/** What a refresh read of a port's log. */
export interface PortLog {
  /** Entries newer than the mark given, oldest first. */
  entries: PortLogEntry[];
  /** The port's `ServerSentEventUri`, when it offers a stream. */
  streamUri: string | null;
  /** The password the read worked with (the stream logs in with the same). */
  password: string;
}

/** True when `entry` is newer than `mark`. */
export function isNewer(entry: { id: string; created: number }, mark: LogMark): boolean {
  const id = Number(entry.id);
  return Number.isInteger(id) ? id > mark.id : entry.created > mark.created;
}

/** The log entries after `mark` and the stream's URI of the port `client` reads (inside a read pass). */
export async function readPortLog(client: RedfishClient, password: string, mark: LogMark): Promise<PortLog> {
  const root = await client.serviceRoot();
  const [entries, streamUri] = await Promise.all([logEntries(client, mark), streamUriOf(client, root)]);
  return { entries, streamUri, password };
}

async function logEntries(client: RedfishClient, mark: LogMark): Promise<PortLogEntry[]> {
  const manager = (await locate(client)).manager;
  if (!manager) return [];
  const services = linkOf(asRecord((await client.get<Body>(manager)).body).LogServices);
  if (!services) return [];
  const logs = await client.getCollection<Body>(services);
  const lists = await Promise.all(
    logs.map(async (log) => {
      const entries = linkOf(asRecord(log.body).Entries);
      return entries ? (await client.getCollection<Body>(entries)).map((m) => entryOf(asRecord(m.body))) : [];
    }),
  );
  const all = lists.flat();
  // Numbering that went back below the mark means the controller restarted with a new log: all of it is new.
  const ids = all.map((e) => Number(e.id)).filter(Number.isInteger);
  if (ids.length > 0 && ids.length === all.length && Math.max(...ids) < mark.id) return all;
  return all.filter((e) => isNewer(e, mark));
}

function entryOf(b: Body): PortLogEntry {
  const text = (v: unknown): string => (typeof v === "string" ? v : "");
  return {
    id: String(b.Id ?? ""),
    created: Date.parse(text(b.Created)),
    severity: text(b.Severity) || text(b.MessageSeverity) || "OK",
    messageId: text(b.MessageId),
    message: text(b.Message),
    args: Array.isArray(b.MessageArgs) ? b.MessageArgs.map(String) : [],
  };
}

async function streamUriOf(client: RedfishClient, root: Body): Promise<string | null> {
  const service = linkOf(root.EventService);
  if (!service) return null;
  const uri = asRecord((await client.get<Body>(service)).body).ServerSentEventUri;
  return typeof uri === "string" && uri !== "" ? uri : null;
}
