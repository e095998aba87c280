/**
 * The EventService of every port: what happened on a DPU (each entry of its event log:
 * tasks started and ended, logins, failed logins, lockouts, crashes, certificate changes) as
 * Redfish events, pushed to the subscriptions clients created (EventDestination, kept in the
 * DPU's document) and streamed to the clients that hold the port's server-sent event stream
 * open. A subscription or a stream may narrow what it gets by registry prefix and message id.
 *
 * Push delivery is an HTTP(S) POST of the event to the subscription's `Destination`, tried
 * `DELIVERY_RETRY.attempts` times `DELIVERY_RETRY.intervalMs` apart; then the subscription is
 * deleted and the log says so (DeliveryRetryPolicy TerminateAfterRetries). Any http(s)
 * destination is accepted, as a BMC accepts it, but only loopback ones are reached: the
 * emulated management network is the loopback interface, and a lab emulator must not become a
 * client that posts wherever a request says. Others fail every try, as an unroutable
 * destination does on a real management network.
 */
import { isIP } from "node:net";
import type { EventSubscriptionState } from "../model";
import { notFound, ServiceError } from "../service-error";
import type { SimulationCore } from "./core";
import type { LogEntryRecord } from "./event-log";

/** Subscriptions a port keeps at most (503 EventSubscriptionLimitExceeded beyond). */
export const MAX_SUBSCRIPTIONS = 8;

/** How push delivery retries (real time: it is network behaviour). */
export const DELIVERY_RETRY = { attempts: 3, intervalMs: 5_000 } as const;

/** The registries the events' messages come from. */
export const EVENT_REGISTRY_PREFIXES = ["Base", "TaskEvent", "ResourceEvent"] as const;

/** A Redfish event (`Event.v1_7_0`) as delivered and streamed. */
export interface RedfishEvent {
  "@odata.type": string;
  Id: string;
  Name: string;
  Context?: string;
  Events: Array<Record<string, unknown>>;
}

/** What narrows the events a subscriber gets: empty lists take everything. */
export interface EventFilter {
  registryPrefixes: string[];
  messageIds: string[];
}

/** True when `filter` lets the event of `messageId` through. */
export function matches(filter: EventFilter, messageId: string): boolean {
  const prefix = messageId.split(".")[0];
  if (filter.registryPrefixes.length > 0 && !filter.registryPrefixes.includes(prefix)) return false;
  return filter.messageIds.length === 0 || filter.messageIds.some((id) => sameMessage(id, messageId));
}

/** Same registry and message key, whatever the versions (`TaskEvent.TaskStarted` matches `TaskEvent.1.0.TaskStarted`). */
function sameMessage(a: string, b: string): boolean {
  const parts = (id: string): [string, string] => {
    const p = id.split(".");
    return [p[0], p[p.length - 1]];
  };
  const [pa, ka] = parts(a);
  const [pb, kb] = parts(b);
  return pa === pb && ka === kb;
}

/** The event of a log entry, as one subscriber (its Context) gets it. */
export function eventOf(serial: string, entry: LogEntryRecord, context?: string): RedfishEvent {
  const record: Record<string, unknown> = {
    // Test events are not log entries: their own numbering keeps every EventId unique.
    EventId: entry.id > 0 ? `${serial}-${entry.id}` : `${serial}-test${-entry.id}`,
    EventTimestamp: new Date(entry.created).toISOString().replace(/\.\d{3}Z$/, "+00:00"),
    MessageSeverity: entry.severity,
    Message: entry.message,
    MessageId: entry.messageId,
    MessageArgs: entry.args,
  };
  if (entry.origin) record.OriginOfCondition = { "@odata.id": entry.origin };
  const event: RedfishEvent = { "@odata.type": "#Event.v1_7_0.Event", Id: String(entry.id), Name: "Event", Events: [record] };
  if (context !== undefined) event.Context = context;
  return event;
}

/** Subscriptions, streams and delivery of every port's events. */
export class EventService {
  private tests = 0;
  private readonly streams = new Map<string, Set<{ filter: EventFilter; send: (event: RedfishEvent) => void }>>();

  constructor(
    private readonly core: SimulationCore,
    private readonly post: (url: string, body: string) => Promise<void> = postJson,
  ) {
    core.eventLog.onRecord((serial, entry) => this.publish(serial, entry));
  }

  /** Creates a subscription (checked: loopback http(s) destination, protocol Redfish, known prefixes). */
  subscribe(serial: string, spec: { destination: unknown; protocol: unknown; context: unknown; registryPrefixes: unknown; messageIds: unknown }): EventSubscriptionState {
    const destination = checkDestination(spec.destination);
    if (spec.protocol !== "Redfish") throw new ServiceError(400, "PropertyValueNotInList", [String(spec.protocol), "Protocol"], "Protocol must be Redfish");
    const context = spec.context === undefined ? "" : checkString("Context", spec.context, 256);
    const registryPrefixes = checkList("RegistryPrefixes", spec.registryPrefixes, (v) => (EVENT_REGISTRY_PREFIXES as readonly string[]).includes(v));
    const messageIds = checkList("MessageIds", spec.messageIds, (v) => /^[A-Za-z]+(\.\d+\.\d+(\.\d+)?)?\.[A-Za-z]+$/.test(v));
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const subscriptions = d.bmc?.subscriptions ?? [];
      if (subscriptions.length >= MAX_SUBSCRIPTIONS) throw new ServiceError(503, "EventSubscriptionLimitExceeded", [], `a port keeps at most ${MAX_SUBSCRIPTIONS} subscriptions; delete one first`);
      const next = subscriptions.reduce((n, s) => Math.max(n, Number(s.id)), 0) + 1;
      const sub: EventSubscriptionState = { id: String(next), destination, context, registryPrefixes, messageIds };
      d.bmc = { ...d.bmc, subscriptions: [...subscriptions, sub] };
      return sub;
    });
  }

  /** Sends a test event (EventService.SubmitTestEvent) to a port's subscribers and streams; it is not logged. */
  submitTest(serial: string, message: string): void {
    this.tests++;
    this.publish(serial, { id: -this.tests, created: this.core.clock.now(), severity: "OK", messageId: "ResourceEvent.1.4.3.TestMessage", args: [], message });
  }

  /** A port's subscriptions. */
  subscriptions(serial: string): EventSubscriptionState[] {
    return this.core.docOf(serial).bmc?.subscriptions ?? [];
  }

  /** Changes a subscription's Context. */
  patchSubscription(serial: string, id: string, context: unknown): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const sub = d.bmc?.subscriptions?.find((s) => s.id === id);
      if (!sub) throw notFound("EventDestination", id);
      sub.context = checkString("Context", context, 256);
    });
  }

  /** Deletes a subscription. */
  unsubscribe(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const subscriptions = d.bmc?.subscriptions ?? [];
      if (!subscriptions.some((s) => s.id === id)) throw notFound("EventDestination", id);
      d.bmc = { ...d.bmc, subscriptions: subscriptions.filter((s) => s.id !== id) };
    });
  }

  /** Opens a server-sent event stream of a port; returns how to close it. */
  openStream(serial: string, filter: EventFilter, send: (event: RedfishEvent) => void): () => void {
    let set = this.streams.get(serial);
    if (!set) this.streams.set(serial, (set = new Set()));
    const stream = { filter, send };
    set.add(stream);
    return () => set.delete(stream);
  }

  /** Streams open on a port now. */
  streamCount(serial: string): number {
    return this.streams.get(serial)?.size ?? 0;
  }

  private publish(serial: string, entry: LogEntryRecord): void {
    for (const s of this.streams.get(serial) ?? []) if (matches(s.filter, entry.messageId)) s.send(eventOf(serial, entry));
    if (!this.core.has(serial)) return;
    for (const sub of this.subscriptions(serial)) {
      if (matches({ registryPrefixes: sub.registryPrefixes, messageIds: sub.messageIds }, entry.messageId)) {
        void this.deliver(serial, sub, JSON.stringify(eventOf(serial, entry, sub.context)));
      }
    }
  }

  private async deliver(serial: string, sub: EventSubscriptionState, body: string): Promise<void> {
    for (let attempt = 1; attempt <= DELIVERY_RETRY.attempts; attempt++) {
      try {
        if (!isLoopback(sub.destination)) throw new Error(`${sub.destination} is not reachable from the emulated management network`);
        await this.post(sub.destination, body);
        return;
      } catch {
        if (attempt < DELIVERY_RETRY.attempts) await new Promise((r) => setTimeout(r, DELIVERY_RETRY.intervalMs).unref());
      }
    }
    // DeliveryRetryPolicy TerminateAfterRetries: the subscription goes, and the log says so.
    try {
      this.unsubscribe(serial, sub.id);
    } catch {
      return; // already deleted by a client
    }
    this.core.eventLog.record(serial, {
      severity: "Warning",
      messageId: "Base.1.22.1.SubscriptionTerminated",
      args: [],
      message: `event subscription ${sub.id} to ${sub.destination} terminated after ${DELIVERY_RETRY.attempts} failed deliveries`,
    });
  }
}

/** POSTs JSON; rejects on a network error or a status outside 2xx. */
async function postJson(url: string, body: string): Promise<void> {
  const res = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body, signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
}

function checkDestination(value: unknown): string {
  if (typeof value !== "string") throw new ServiceError(400, value === undefined ? "PropertyMissing" : "PropertyValueTypeError", value === undefined ? ["Destination"] : [JSON.stringify(value), "Destination"], "Destination must be an http(s) URL");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ServiceError(400, "PropertyValueFormatError", [value, "Destination"], "Destination must be an http(s) URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new ServiceError(400, "PropertyValueFormatError", [value, "Destination"], "Destination must be an http(s) URL");
  return url.toString();
}

/** True when a destination is on the loopback interface (the only network the emulator reaches). */
function isLoopback(destination: string): boolean {
  const host = new URL(destination).hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || (isIP(host) === 4 && host.startsWith("127.")) || host === "::1";
}

function checkString(property: string, value: unknown, max: number): string {
  if (typeof value !== "string") throw new ServiceError(400, "PropertyValueTypeError", [JSON.stringify(value), property], `${property} must be a string`);
  if (value.length > max) throw new ServiceError(400, "StringValueTooLong", [property, String(max)], `${property} is at most ${max} characters`);
  return value;
}

function checkList(property: string, value: unknown, valid: (v: string) => boolean): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) throw new ServiceError(400, "PropertyValueTypeError", [JSON.stringify(value), property], `${property} must be an array of strings`);
  for (const v of value as string[]) if (!valid(v)) throw new ServiceError(400, "PropertyValueNotInList", [v, property], `${property} has no '${v}' here`);
  return [...(value as string[])];
}
