/**
 * The ports' server-sent event streams (`EventService.ServerSentEventUri`), for the
 * ports worth watching between refreshes: at most `max` open at once, because a held TLS
 * stream costs the server a socket and its buffers (measured at 1,000 DPUs, RSS after three
 * refreshes: no stream 221 MiB, 64 streams 238 MiB, 1,000 streams 309 MiB), each logged in as the refresh read the port (Basic authentication, the
 * password that worked), reconnected with exponential backoff and `Last-Event-ID` so a
 * reconnect replays what the port still holds. Ports not followed still show their log
 * entries, read in every refresh.
 */
import * as https from "node:https";
import * as tls from "node:tls";
import type { PortLogEntry } from "./port-log";

/** One port to follow. */
export interface StreamTarget {
  /** The DPU (`host/nic`). */
  dpu: string;
  /** The port's base URL (`https://addr:port`). */
  url: string;
  /** Its ServerSentEventUri. */
  uri: string;
  username: string;
  password: string;
}

/** Receives each streamed event; `logged` when it is an entry of the port's log (not a test event). */
export type OnPortEvent = (dpu: string, entry: PortLogEntry, logged: boolean) => void;

/** Streams open at most, by default. */
export const MAX_STREAMS = 64;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;
/** A stream silent this long (the emulated ports comment every 15 s) is cut and reopened. */
const SILENCE_MS = 45_000;

export class PortStreams {
  private readonly open = new Map<string, PortStream>();
  private readonly agent: https.Agent;

  constructor(
    caPem: string,
    private readonly onEvent: OnPortEvent,
    private readonly max = MAX_STREAMS,
  ) {
    // One secure context and one agent for every stream: the CA is parsed once.
    this.agent = new https.Agent({ secureContext: tls.createSecureContext({ ca: caPem }), keepAlive: false, maxSockets: Infinity });
  }

  /** Follows the first `max` of `wanted` (in that order of preference); closes the streams of the others. */
  follow(wanted: StreamTarget[]): void {
    const keep = new Map(wanted.slice(0, this.max).map((t) => [t.dpu, t]));
    for (const [dpu, stream] of this.open) {
      const target = keep.get(dpu);
      if (!target || !stream.sameTarget(target)) {
        stream.stop();
        this.open.delete(dpu);
      }
    }
    for (const [dpu, target] of keep) if (!this.open.has(dpu)) this.open.set(dpu, new PortStream(target, this.agent, this.onEvent));
  }

  /** The DPUs followed now. */
  followed(): string[] {
    return [...this.open.keys()];
  }

  close(): void {
    for (const stream of this.open.values()) stream.stop();
    this.open.clear();
    this.agent.destroy();
  }
}

/** One port's stream, reopened until stopped. */
class PortStream {
  private request: ReturnType<typeof https.request> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private silence: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastEventId: string | undefined;
  private stopped = false;

  constructor(
    private readonly target: StreamTarget,
    private readonly agent: https.Agent,
    private readonly onEvent: OnPortEvent,
  ) {
    this.connect();
  }

  sameTarget(t: StreamTarget): boolean {
    return t.url === this.target.url && t.uri === this.target.uri && t.username === this.target.username && t.password === this.target.password;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.silence);
    this.request?.destroy();
  }

  private connect(): void {
    const { url, uri, username, password } = this.target;
    const headers: Record<string, string> = {
      accept: "text/event-stream",
      authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`,
    };
    if (this.lastEventId) headers["last-event-id"] = this.lastEventId;
    const request = https.request(new URL(uri, url), { agent: this.agent, headers }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return this.retry();
      }
      this.failures = 0;
      this.heard();
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        this.heard();
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          this.record(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      });
      res.on("end", () => this.retry());
      res.on("error", () => this.retry());
    });
    request.on("error", () => this.retry());
    request.end();
    this.request = request;
  }

  /** Restarts the silence timer: a stream that stops even commenting is dead. */
  private heard(): void {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => this.request?.destroy(), SILENCE_MS);
    this.silence.unref();
  }

  private retry(): void {
    clearTimeout(this.silence);
    if (this.stopped || this.retryTimer) return;
    this.request?.destroy();
    const delay = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.failures++) * (0.5 + Math.random() / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) this.connect();
    }, delay);
    this.retryTimer.unref();
  }

  /** One `id:`/`data:` record of the stream (comments and other fields ignored). */
  private record(block: string): void {
    let data = "";
    for (const line of block.split("\n")) {
      if (line.startsWith("id:")) this.lastEventId = line.slice(3).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trimStart();
    }
    if (!data) return;
    let body: { Events?: unknown };
    try {
      body = JSON.parse(data) as { Events?: unknown };
    } catch {
      return;
    }
    for (const e of Array.isArray(body.Events) ? body.Events : []) {
      const { entry, logged } = entryOfEvent(e as Record<string, unknown>);
      this.onEvent(this.target.dpu, entry, logged);
    }
  }
}

/**
 * A Redfish event record as a log entry. `EventId` is `<serial>-<log entry id>` for what
 * the port logged (so it is recognised when the refresh reads it from the log), anything
 * else for what it did not.
 */
export function entryOfEvent(e: Record<string, unknown>): { entry: PortLogEntry; logged: boolean } {
  const text = (v: unknown): string => (typeof v === "string" ? v : "");
  const eventId = text(e.EventId);
  const logId = /-(\d+)$/.exec(eventId)?.[1];
  return {
    entry: {
      id: logId ?? eventId,
      created: Date.parse(text(e.EventTimestamp)),
      severity: text(e.MessageSeverity) || "OK",
      messageId: text(e.MessageId),
      message: text(e.Message),
      args: Array.isArray(e.MessageArgs) ? e.MessageArgs.map(String) : [],
    },
    logged: logId !== undefined,
  };
}
