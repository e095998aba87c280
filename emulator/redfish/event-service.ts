/**
 * `EventService` as a DPU's BMC serves it (`simulation/event-service.ts` does the work):
 * the service with its `ServerSentEventUri`, `Subscriptions` (EventDestination: create,
 * read, change Context, delete), `SubmitTestEvent`, and the server-sent event stream itself,
 * which the port server opens for `GET /redfish/v1/EventService/SSE` (optionally
 * `$filter=RegistryPrefix eq 'TaskEvent' or MessageId eq 'TaskEvent.1.0.TaskCompletedOK'`).
 */
import type { ServerResponse } from "node:http";
import type { EventSubscriptionState } from "../model";
import { ServiceError } from "../service-error";
import { DELIVERY_RETRY, EVENT_REGISTRY_PREFIXES, eventOf, matches, type EventFilter } from "../simulation/event-service";
import { collection, link, noContent, ok, onlyWritable, V1, type BmcContext, type BmcRoutes } from "./bmc-kit";
import type { RenderContext, Resource } from "./resources";

/** Where the stream is. */
export const EVENT_STREAM_URI = `${V1}/EventService/SSE`;

const SUBSCRIPTIONS = `${V1}/EventService/Subscriptions`;

/** Seconds between the comments that keep an idle stream (and the proxies on its way) open. */
const KEEPALIVE_MS = 15_000;

function eventService(): Resource {
  return {
    "@odata.id": `${V1}/EventService`,
    "@odata.type": "#EventService.v1_7_2.EventService",
    Id: "EventService",
    Name: "Event Service",
    ServiceEnabled: true,
    Status: { State: "Enabled", Health: "OK" },
    DeliveryRetryAttempts: DELIVERY_RETRY.attempts,
    DeliveryRetryIntervalSeconds: DELIVERY_RETRY.intervalMs / 1000,
    EventFormatTypes: ["Event"],
    RegistryPrefixes: [...EVENT_REGISTRY_PREFIXES],
    ServerSentEventUri: EVENT_STREAM_URI,
    SSEFilterPropertiesSupported: { EventFormatType: false, MessageId: true, MetricReportDefinition: false, OriginResource: false, RegistryPrefix: true, ResourceType: false },
    Subscriptions: link(SUBSCRIPTIONS),
    Actions: { "#EventService.SubmitTestEvent": { target: `${V1}/EventService/Actions/EventService.SubmitTestEvent` } },
  };
}

function destination(s: EventSubscriptionState): Resource {
  return {
    "@odata.id": `${SUBSCRIPTIONS}/${s.id}`,
    "@odata.type": "#EventDestination.v1_8_0.EventDestination",
    Id: s.id,
    Name: `Event subscription ${s.id}`,
    Destination: s.destination,
    Protocol: "Redfish",
    SubscriptionType: "RedfishEvent",
    EventFormatType: "Event",
    Context: s.context,
    RegistryPrefixes: s.registryPrefixes,
    MessageIds: s.messageIds,
    DeliveryRetryPolicy: "TerminateAfterRetries",
    Status: { State: "Enabled", Health: "OK" },
  };
}

function member(c: RenderContext, id: string): EventSubscriptionState {
  const s = c.sim.events.subscriptions(c.serial).find((x) => x.id === id);
  if (!s) throw new ServiceError(404, "ResourceNotFound", ["EventDestination", id], `EventDestination '${id}' does not exist`);
  return s;
}

/** POST Subscriptions: 201 with Location. */
function subscribe(c: BmcContext): { status: number; headers: Record<string, string>; body: Resource } {
  onlyWritable(c.body, ["Destination", "Protocol", "Context", "RegistryPrefixes", "MessageIds", "EventFormatType", "SubscriptionType"]);
  if (c.body.EventFormatType !== undefined && c.body.EventFormatType !== "Event") {
    throw new ServiceError(400, "PropertyValueNotInList", [String(c.body.EventFormatType), "EventFormatType"], "EventFormatType must be Event");
  }
  if (c.body.SubscriptionType !== undefined && c.body.SubscriptionType !== "RedfishEvent") {
    throw new ServiceError(400, "PropertyValueNotInList", [String(c.body.SubscriptionType), "SubscriptionType"], "SubscriptionType must be RedfishEvent (use ServerSentEventUri for a stream)");
  }
  const s = c.sim.events.subscribe(c.serial, { destination: c.body.Destination, protocol: c.body.Protocol ?? "Redfish", context: c.body.Context, registryPrefixes: c.body.RegistryPrefixes, messageIds: c.body.MessageIds });
  const uri = `${SUBSCRIPTIONS}/${s.id}`;
  return { status: 201, headers: { Location: uri }, body: destination(s) };
}

/**
 * The filter of a stream from its `$filter`: `RegistryPrefix eq '<p>'` and `MessageId eq '<id>'`
 * terms joined by `or` (400 QueryParameterValueFormatError for anything else).
 */
export function streamFilter(query: URLSearchParams): EventFilter {
  const filter: EventFilter = { registryPrefixes: [], messageIds: [] };
  for (const [key, value] of query) {
    if (key !== "$filter") {
      if (key.startsWith("$") || key === "only") throw new ServiceError(400, "QueryNotSupportedOnResource", [], `the event stream takes only $filter, not ${key}`);
      continue;
    }
    for (const term of value.split(/\s+or\s+/)) {
      const m = /^\s*\(?\s*(RegistryPrefix|MessageId)\s+eq\s+'([A-Za-z0-9.]+)'\s*\)?\s*$/.exec(term);
      if (!m) throw new ServiceError(400, "QueryParameterValueFormatError", [value, "$filter"], "the stream's $filter takes RegistryPrefix eq '<prefix>' and MessageId eq '<id>' terms joined by or");
      (m[1] === "RegistryPrefix" ? filter.registryPrefixes : filter.messageIds).push(m[2]);
    }
  }
  return filter;
}

/**
 * The stream's answer: 200 `text/event-stream`, then one `id:`/`data:` record per event as it
 * happens, a comment every 15 s while idle, until the client goes away. A client that
 * reconnects with `Last-Event-ID` (an id this port sent) first gets what it missed that the
 * event log still holds.
 */
export function eventStream(c: RenderContext, query: URLSearchParams, lastEventId?: string | string[]): { status: number; headers: Record<string, string>; stream: (res: ServerResponse) => void } {
  const filter = streamFilter(query);
  const after = missedSince(c, lastEventId);
  return {
    status: 200,
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", Connection: "keep-alive" },
    stream: (res) => {
      res.write(": smartfleet event stream\n\n");
      const write = (event: ReturnType<typeof eventOf>): void => {
        res.write(`id: ${(event.Events[0] as { EventId: string }).EventId}\ndata: ${JSON.stringify(event)}\n\n`);
      };
      if (after !== undefined) {
        for (const e of c.sim.eventLog.entries(c.serial)) if (e.id > after && matches(filter, e.messageId)) write(eventOf(c.serial, e));
      }
      const close = c.sim.events.openStream(c.serial, filter, write);
      const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
      keepalive.unref();
      res.on("close", () => {
        clearInterval(keepalive);
        close();
      });
    },
  };
}

/** The log entry id after which a reconnecting client missed events (`Last-Event-ID: <serial>-<id>`); undefined for none or another port's id. */
function missedSince(c: RenderContext, header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const m = value === undefined ? null : /^(.+)-(\d+)$/.exec(value.trim());
  return m && m[1] === c.serial ? Number(m[2]) : undefined;
}

/** The routes of the event service and its subscriptions (the stream is the port server's). */
export function eventServiceRoutes(): BmcRoutes {
  return [
    [`${V1}/EventService`, { GET: () => ok(eventService()) }],
    [SUBSCRIPTIONS, {
      GET: (c) => ok(collection(SUBSCRIPTIONS, "EventDestinationCollection", "Event Subscriptions", c.sim.events.subscriptions(c.serial).map((s) => `${SUBSCRIPTIONS}/${s.id}`))),
      POST: (c) => subscribe(c),
    }],
    [`${SUBSCRIPTIONS}/{id}`, {
      GET: (c) => ok(destination(member(c, c.params.id))),
      PATCH: (c) => {
        member(c, c.params.id);
        onlyWritable(c.body, ["Context"], ["Destination", "Protocol", "RegistryPrefixes", "MessageIds", "EventFormatType", "SubscriptionType", "Id"]);
        if (c.body.Context !== undefined) c.sim.events.patchSubscription(c.serial, c.params.id, c.body.Context);
        return ok(destination(member(c, c.params.id)));
      },
      DELETE: (c) => {
        c.sim.events.unsubscribe(c.serial, c.params.id);
        return noContent();
      },
    }],
    [`${V1}/EventService/Actions/EventService.SubmitTestEvent`, {
      POST: (c) => {
        const message = c.body.Message === undefined ? "Test message." : c.body.Message;
        if (typeof message !== "string") throw new ServiceError(400, "ActionParameterValueTypeError", [JSON.stringify(message), "Message", "EventService.SubmitTestEvent"], "Message must be a string");
        c.sim.events.submitTest(c.serial, message);
        return noContent();
      },
    }],
  ];
}
