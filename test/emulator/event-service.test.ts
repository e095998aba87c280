/**
 * EventService: server-sent events and push subscriptions carry what happens on a DPU (tasks,
 * logins, test events) as Redfish events, filtered by registry and message; bad subscriptions
 * answer the Base messages; a destination that keeps failing loses its subscription.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NEW_PASSWORD, startTestFleet, type TestFleet } from "./helpers";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const V1 = "/redfish/v1";

/** An open event stream: the events parsed from its `data:` lines so far. */
interface Stream {
  events: Body[];
  raw: string[];
  next(count?: number): Promise<Body[]>;
  close(): void;
}

function openStream(f: TestFleet, serial: string, query = "", lastEventId?: string): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const user = serial === "NV1" ? "root" : "admin";
    const req = https.request(`${f.url(serial)}${V1}/EventService/SSE${query}`, {
      ca: f.emu.caPem,
      agent: false,
      headers: {
        Accept: "text/event-stream",
        Authorization: `Basic ${Buffer.from(`${user}:${NEW_PASSWORD}`).toString("base64")}`,
        ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}),
      },
    });
    req.on("response", (res) => {
      if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
      const stream: Stream = {
        events: [],
        raw: [],
        async next(count = 1) {
          for (let i = 0; i < 200 && stream.events.length < count; i++) await new Promise((r) => setTimeout(r, 10));
          return stream.events.splice(0, count);
        },
        close: () => req.destroy(),
      };
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const record = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          stream.raw.push(record);
          const data = record.split("\n").find((l) => l.startsWith("data: "));
          if (data) stream.events.push(JSON.parse(data.slice(6)));
        }
      });
      res.on("error", () => undefined);
      resolve(stream);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A loopback HTTP server collecting what is POSTed to it. */
async function receiver(): Promise<{ url: string; received: Body[]; close(): Promise<void> }> {
  const received: Body[] = [];
  const server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      received.push(JSON.parse(text));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, received, close: () => new Promise((r) => server.close(() => r())) };
}

async function until(check: () => boolean, ms = 3_000): Promise<void> {
  for (const start = Date.now(); !check(); ) {
    if (Date.now() - start > ms) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

function messageId(body: Body): string {
  return String(body?.error?.["@Message.ExtendedInfo"]?.[0]?.MessageId ?? "");
}

describe("EventService", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    await f.claim("NV1");
    await f.claim("AMD1");
  });
  afterAll(() => f.emu.stop());

  it("advertises its stream, filters and subscriptions", async () => {
    const root = (await f.call("NV1", "GET", V1)).body;
    const svc = (await f.call("NV1", "GET", root.EventService["@odata.id"])).body;
    expect(svc).toMatchObject({ ServiceEnabled: true, ServerSentEventUri: `${V1}/EventService/SSE`, SSEFilterPropertiesSupported: { RegistryPrefix: true, MessageId: true } });
    expect((await f.call("NV1", "GET", svc.Subscriptions["@odata.id"])).body.Members).toEqual([]);
  });

  it("streams what happens as server-sent events, filtered by $filter", async () => {
    const all = await openStream(f, "NV1");
    const done = await openStream(f, "NV1", `?$filter=${encodeURIComponent("MessageId eq 'TaskEvent.1.0.TaskCompletedOK'")}`);
    expect(all.raw[0]).toMatch(/^: /);
    await f.call("NV1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
    const [started] = await all.next();
    expect(started).toMatchObject({ "@odata.type": "#Event.v1_7_0.Event", Events: [{ MessageId: "TaskEvent.1.0.TaskStarted", MessageSeverity: "OK" }] });
    expect(started.Events[0].Message).toMatch(/^Host ForceRestart: started/);
    expect(started.Events[0].OriginOfCondition["@odata.id"]).toMatch(/^\/redfish\/v1\/TaskService\/Tasks\/\d+$/);
    await f.advance(60_000);
    const [completed] = await done.next();
    expect(completed.Events[0].MessageId).toBe("TaskEvent.1.0.TaskCompletedOK");
    expect(done.events).toEqual([]);
    await f.call("NV1", "POST", `${V1}/EventService/Actions/EventService.SubmitTestEvent`, { Message: "hello" });
    const events = await all.next(2);
    expect(events.map((e) => e.Events[0].MessageId)).toEqual(["TaskEvent.1.0.TaskCompletedOK", "ResourceEvent.1.4.3.TestMessage"]);
    all.close();
    done.close();
  });

  it("replays what a client missed when it reconnects with Last-Event-ID", async () => {
    const first = await openStream(f, "NV1", `?$filter=${encodeURIComponent("RegistryPrefix eq 'ResourceEvent'")}`);
    await f.call("NV1", "POST", `${V1}/EventService/Actions/EventService.SubmitTestEvent`, {});
    await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "Nmi" });
    const [test, nmi] = await first.next(2);
    expect(test.Events[0].EventId).toMatch(/^NV1-test\d+$/);
    expect(nmi.Events[0].MessageId).toBe("ResourceEvent.1.4.3.ResourceErrorsDetected");
    const seen = first.raw.at(-1)!.split("\n")[0].slice(4);
    first.close();
    await f.call("NV1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
    await f.advance(60_000);
    await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "Nmi" });
    const again = await openStream(f, "NV1", `?$filter=${encodeURIComponent("RegistryPrefix eq 'ResourceEvent'")}`, seen);
    const missed = await again.next();
    expect(missed.map((e) => e.Events[0].MessageId)).toEqual(["ResourceEvent.1.4.3.ResourceErrorsDetected"]);
    expect(missed[0].Events[0].EventId).not.toBe(seen);
    again.close();
  });

  it("refuses a stream query it cannot filter by and a write to the stream", async () => {
    await expect(openStream(f, "NV1", `?$filter=${encodeURIComponent("Severity eq 'OK'")}`)).rejects.toThrow(/400/);
    expect((await f.call("NV1", "POST", `${V1}/EventService/SSE`, {})).status).toBe(405);
  });

  it("pushes events to a subscription's destination with its Context, and stops once it is deleted", async () => {
    const sink = await receiver();
    try {
      const created = await f.call("AMD1", "POST", `${V1}/EventService/Subscriptions`, { Destination: sink.url, Protocol: "Redfish", Context: "rack-7", RegistryPrefixes: ["TaskEvent"] });
      expect(created.status).toBe(201);
      const uri = String(created.headers.location);
      expect(created.body).toMatchObject({ Destination: sink.url, Context: "rack-7", RegistryPrefixes: ["TaskEvent"], DeliveryRetryPolicy: "TerminateAfterRetries" });
      await f.call("AMD1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
      await until(() => sink.received.length >= 1);
      expect(sink.received[0]).toMatchObject({ Context: "rack-7", Events: [{ MessageId: "TaskEvent.1.0.TaskStarted" }] });
      const patched = await f.call("AMD1", "PATCH", uri, { Context: "rack-8" });
      expect(patched.body.Context).toBe("rack-8");
      await f.call("AMD1", "POST", `${V1}/EventService/Actions/EventService.SubmitTestEvent`, {});
      await f.advance(60_000);
      await until(() => sink.received.length >= 2);
      expect(sink.received.map((e) => e.Events[0].MessageId)).toEqual(["TaskEvent.1.0.TaskStarted", "TaskEvent.1.0.TaskCompletedOK"]);
      expect(sink.received[1].Context).toBe("rack-8");
      expect((await f.call("AMD1", "DELETE", uri)).status).toBe(204);
      expect((await f.call("AMD1", "GET", uri)).status).toBe(404);
      await f.call("AMD1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
      await f.advance(60_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.received).toHaveLength(2);
    } finally {
      await sink.close();
    }
  });

  it("refuses a destination that is no http(s) URL, another protocol or an unknown registry with the Base messages", async () => {
    const post = (body: Body) => f.call("AMD1", "POST", `${V1}/EventService/Subscriptions`, body);
    const ftp = await post({ Destination: "ftp://127.0.0.1/events", Protocol: "Redfish" });
    expect(ftp.status).toBe(400);
    expect(messageId(ftp.body)).toMatch(/PropertyValueFormatError$/);
    expect(messageId((await post({ Destination: "http://127.0.0.1:9/e", Protocol: "SNMPv2c" })).body)).toMatch(/PropertyValueNotInList$/);
    expect(messageId((await post({ Destination: "http://127.0.0.1:9/e", Protocol: "Redfish", RegistryPrefixes: ["OpenBMC"] })).body)).toMatch(/PropertyValueNotInList$/);
    expect(messageId((await post({ Protocol: "Redfish" })).body)).toMatch(/PropertyMissing$/);
    expect(messageId((await post({ Destination: "http://127.0.0.1:9/e", Protocol: "Redfish", HttpHeaders: [] })).body)).toMatch(/PropertyUnknown$/);
  });

  it("terminates a subscription whose destination keeps failing (a closed port, an address off loopback), and logs it", async () => {
    const sink = await receiver();
    const dead = sink.url;
    await sink.close();
    const closed = await f.call("AMD1", "POST", `${V1}/EventService/Subscriptions`, { Destination: dead, Protocol: "Redfish" });
    const far = await f.call("AMD1", "POST", `${V1}/EventService/Subscriptions`, { Destination: "https://203.0.113.9/events", Protocol: "Redfish" });
    expect([closed.status, far.status]).toEqual([201, 201]);
    await f.call("AMD1", "POST", `${V1}/EventService/Actions/EventService.SubmitTestEvent`, {});
    await new Promise((r) => setTimeout(r, 10_500));
    for (const created of [closed, far]) expect((await f.call("AMD1", "GET", String(created.headers.location))).status).toBe(404);
    const log = (await f.call("AMD1", "GET", `${V1}/Managers/BMC/LogServices/EventLog/Entries`)).body.Members as Body[];
    const terminated = log.filter((e) => e.MessageId === "Base.1.22.1.SubscriptionTerminated" && /terminated after 3 failed deliveries/.test(e.Message));
    expect(terminated.map((e) => e.Message).join("\n")).toMatch(/203\.0\.113\.9/);
    expect(terminated).toHaveLength(2);
  }, 30_000);
});
