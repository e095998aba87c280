/** The client's request core (`client.ts`): ETags, retries, time limits, reachability, collections, read passes. */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as net from "node:net";
import { ConnectionError, InstantClock, RedfishClient, RedfishError, duringReadPass, type ClientOptions } from "../../providers/redfish";
import {
  authedGet,
  basicPort,
  makePki,
  PASSWORD,
  redfishError,
  SESSIONS,
  startScriptedServer,
  type Handler,
  type ScriptedServer,
  type TestPki,
} from "../support/redfish-ports";

let pki: TestPki;
let otherPki: TestPki;
let server: ScriptedServer;

beforeAll(async () => {
  [pki, otherPki] = await Promise.all([makePki(), makePki("some other CA")]);
});

afterEach(async () => {
  await server?.close();
});

function open(overrides: ClientOptions = {}, password = PASSWORD, caPem = pki.caPem): RedfishClient {
  return RedfishClient.open(
    { url: server.url, caPem, username: "root", password },
    { clock: new InstantClock(), random: () => 0.5, callTimeoutMs: 10_000, ...overrides },
  );
}

describe("updates with ETags", () => {
  it("sends If-Match with the ETag it reads first when none is given", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      authedGet("/redfish/v1/Systems/DPU", { Id: "DPU" }, '"etag-7"'),
      (req) => (req.method === "PATCH" ? { status: 204, headers: {} } : undefined),
    ]);
    const client = open();
    await client.patch("/redfish/v1/Systems/DPU", { AssetTag: "a" });
    await client.patch("/redfish/v1/Systems/DPU", { AssetTag: "b" }, '"etag-given"');
    const patches = server.seen.filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.headers["if-match"])).toEqual(['"etag-7"', '"etag-given"']);
    expect(patches[0].body).toEqual({ AssetTag: "a" });
    await client.close();
  });

  it("fails if the ETag is stale: 412 surfaces as RedfishError with the MessageId", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) =>
        req.method === "PATCH"
          ? { status: 412, body: redfishError("Base.1.18.PreconditionFailed", "The ETag supplied did not match the ETag required to change this resource.", "Try the operation again using the appropriate ETag.") }
          : undefined,
    ]);
    const client = open();
    const err = (await client.patch("/redfish/v1/Systems/DPU/Bios/Settings", { Attributes: {} }, '"old"').catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(412);
    expect(err.is("PreconditionFailed")).toBe(true);
    expect(err.resolution).toBe("Try the operation again using the appropriate ETag.");
    expect(err.uri).toBe("/redfish/v1/Systems/DPU/Bios/Settings");
    expect(err.message).toContain(server.url);
    expect(server.seen.filter((r) => r.method === "PATCH")).toHaveLength(1);
    await client.close();
  });

  it("reads and sends again when another writer changed the resource between its own read and the PATCH", async () => {
    let reads = 0;
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.method === "GET" && req.url === "/redfish/v1/Systems/Host" ? { status: 200, headers: { ETag: `"etag-${++reads}"` }, body: { Id: "Host" } } : undefined),
      // Another writer changes the host after the first read: only the latest ETag matches.
      (req) => (req.method === "PATCH" ? (req.headers["if-match"] === `"etag-${reads}"` && reads > 1 ? { status: 204, headers: {} } : { status: 412, body: redfishError("Base.1.18.PreconditionFailed", "stale") }) : undefined),
    ]);
    const client = open();
    await client.patch("/redfish/v1/Systems/Host", { Boot: { BootSourceOverrideEnabled: "Once" } });
    expect(server.seen.filter((r) => r.method === "PATCH").map((r) => r.headers["if-match"])).toEqual(['"etag-1"', '"etag-2"']);
    await client.close();
  });
});

describe("retries", () => {
  it("waits out a port answering 503, honouring Retry-After", async () => {
    let unavailable = 3;
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) =>
        req.url === "/redfish/v1/Systems" && unavailable-- > 0
          ? { status: 503, headers: { "Retry-After": "2" }, body: redfishError("Base.1.18.ServiceTemporarilyUnavailable", "busy") }
          : undefined,
      authedGet("/redfish/v1/Systems", { Members: [] }),
    ]);
    const clock = new InstantClock();
    const lines: string[] = [];
    const client = open({ clock, log: (line) => lines.push(line) });
    await expect(client.get("/redfish/v1/Systems")).resolves.toMatchObject({ body: { Members: [] } });
    expect(clock.sleeps).toHaveLength(3);
    expect(clock.sleeps.every((ms) => ms >= 2000)).toBe(true);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain("GET /redfish/v1/Systems failed (status 503); retry 1/8");
    expect(lines.join("\n")).not.toMatch(/tok-1|s3cret/);
    await client.close();
  });

  it("backs off exponentially with jitter between retries", async () => {
    let unavailable = 4;
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" && unavailable-- > 0 ? { status: 503 } : undefined),
      authedGet("/redfish/v1/Systems", {}),
    ]);
    const lowJitter = new InstantClock();
    await open({ clock: lowJitter, random: () => 0 }).get("/redfish/v1/Systems");
    expect(lowJitter.sleeps).toEqual([50, 100, 200, 400]);
    unavailable = 4;
    const highJitter = new InstantClock();
    await open({ clock: highJitter, random: () => 0.999 }).get("/redfish/v1/Systems");
    expect(highJitter.sleeps).toEqual([100, 200, 400, 800]);
  });

  it("fails if the port stays unavailable beyond the retries", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" ? { status: 503, body: redfishError("Base.1.18.ServiceTemporarilyUnavailable", "busy") } : undefined),
    ]);
    const client = open({ retries: 2 });
    const err = await client.get("/redfish/v1/Systems").catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, messageId: "Base.1.18.ServiceTemporarilyUnavailable" });
    expect(server.seen.filter((r) => r.url === "/redfish/v1/Systems")).toHaveLength(3);
    await client.close();
  });

  it("retries an idempotent GET whose connection dropped", async () => {
    let drops = 1;
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" && drops-- > 0 ? { status: 0, drop: true } : undefined),
      authedGet("/redfish/v1/Systems", { ok: true }),
    ]);
    const client = open();
    await expect(client.get("/redfish/v1/Systems")).resolves.toMatchObject({ body: { ok: true } });
    expect(server.seen.filter((r) => r.url === "/redfish/v1/Systems")).toHaveLength(2);
    await client.close();
  });

  it("logs in again when the login's connection dropped, though it may have arrived: a lost session only expires", async () => {
    let drops = 1;
    server = await startScriptedServer(pki, [
      (req) => (req.method === "POST" && req.url === SESSIONS && drops-- > 0 ? { status: 0, drop: true } : undefined),
      ...basicPort(),
      authedGet("/redfish/v1/Systems", { ok: true }),
    ]);
    const client = open();
    await expect(client.get("/redfish/v1/Systems")).resolves.toMatchObject({ body: { ok: true } });
    expect(server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(2);
    await client.close();
  });

  it("fails if a non-idempotent POST loses its connection: it is not sent twice", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.method === "POST" && req.url === "/redfish/v1/Oem/SmartFleet/Services" ? { status: 0, drop: true } : undefined),
    ]);
    const client = open();
    await client.login();
    const err = await client.post("/redfish/v1/Oem/SmartFleet/Services", { Name: "dfw" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).failure).toBe("reset");
    expect(server.seen.filter((r) => r.url === "/redfish/v1/Oem/SmartFleet/Services")).toHaveLength(1);
    await client.close();
  });

  it("fails if a non-idempotent POST answers a server error: it is not retried", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.method === "POST" && req.url === "/redfish/v1/Oem/SmartFleet/Services" ? { status: 500, body: redfishError("Base.1.18.InternalError", "boom") } : undefined),
    ]);
    const client = open();
    await expect(client.post("/redfish/v1/Oem/SmartFleet/Services", { Name: "dfw" })).rejects.toMatchObject({ status: 500, messageId: "Base.1.18.InternalError" });
    expect(server.seen.filter((r) => r.url === "/redfish/v1/Oem/SmartFleet/Services")).toHaveLength(1);
    await client.close();
  });

  it("accepts a retried PATCH that answers 412 because the first attempt had landed", async () => {
    let patches = 0;
    let current = { AssetTag: "old" };
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => {
        if (req.url !== "/redfish/v1/Systems/DPU") return undefined;
        if (req.method === "GET") return { status: 200, body: current, headers: { ETag: patches ? '"2"' : '"1"' } };
        patches++;
        if (patches === 1) {
          current = req.body as { AssetTag: string };
          return { status: 0, drop: true };
        }
        return { status: 412, body: redfishError("Base.1.18.PreconditionFailed", "stale") };
      },
    ]);
    const client = open();
    await expect(client.patch("/redfish/v1/Systems/DPU", { AssetTag: "new" })).resolves.toMatchObject({ body: { AssetTag: "new" } });
    expect(patches).toBe(2);
    await client.close();
  });
});

describe("time limits and reachability", () => {
  it("fails if one call gets no answer within the per-call timeout", async () => {
    // The only exchange is the hanging one, so a slow machine cannot fail it elsewhere.
    server = await startScriptedServer(pki, [(req) => (req.url === "/redfish/v1" ? { status: 0, hang: true } : undefined)]);
    const client = open({ callTimeoutMs: 300, retries: 0 });
    const err = (await client.serviceRoot().catch((e: unknown) => e)) as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.failure).toBe("timeout");
    expect(err.message).toContain(server.url);
    expect(server.seen).toHaveLength(1);
    await client.close();
  });

  it("retries an idempotent call that timed out, then gives up at the retry limit", async () => {
    server = await startScriptedServer(pki, [(req) => (req.url === "/redfish/v1" ? { status: 0, hang: true } : undefined)]);
    const client = open({ callTimeoutMs: 100, retries: 2 });
    await expect(client.serviceRoot()).rejects.toMatchObject({ failure: "timeout" });
    // Counted on the client: on a loaded machine a handshake may not finish in 100 ms.
    expect(client.requestCount).toBe(3);
    await client.close();
  });

  it("fails if the port is unreachable, naming the endpoint", async () => {
    const port = await freePort();
    server = await startScriptedServer(pki, []);
    const url = `https://127.0.0.1:${port}`;
    const client = RedfishClient.open({ url, caPem: pki.caPem, username: "root", password: PASSWORD }, { clock: new InstantClock(), retries: 2 });
    const err = (await client.get("/redfish/v1/Systems").catch((e: unknown) => e)) as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.failure).toBe("refused");
    expect(err.endpoint).toBe(url);
    expect(err.message).toContain(url);
    await client.close();
  });

  it("fails if the port's certificate is not signed by the configured CA, without retrying", async () => {
    server = await startScriptedServer(pki, basicPort());
    const client = open({}, PASSWORD, otherPki.caPem);
    const err = (await client.serviceRoot().catch((e: unknown) => e)) as ConnectionError;
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.failure).toBe("tls");
    expect(err.message).toContain(server.url);
    expect(server.seen).toHaveLength(0);
    await client.close();
  });

  it("fails if the endpoint is not HTTPS", () => {
    expect(() => RedfishClient.open({ url: "http://127.0.0.1:1", caPem: pki.caPem, username: "root", password: PASSWORD })).toThrow(ConnectionError);
  });
});

describe("collections", () => {
  it("reads a whole collection in one request when the root says $expand works", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort({ expand: true }),
      authedGet("/redfish/v1/Systems?$expand=.($levels=1)", {
        Members: [
          { "@odata.id": "/redfish/v1/Systems/A", Id: "A", "@odata.etag": '"a"' },
          { "@odata.id": "/redfish/v1/Systems/B", Id: "B" },
        ],
      }),
    ]);
    const client = open();
    const members = await client.getCollection<{ Id: string }>("/redfish/v1/Systems");
    expect(members.map((m) => [m.uri, m.body.Id, m.etag])).toEqual([
      ["/redfish/v1/Systems/A", "A", '"a"'],
      ["/redfish/v1/Systems/B", "B", undefined],
    ]);
    expect(server.seen.filter((r) => r.url.startsWith("/redfish/v1/Systems"))).toHaveLength(1);
    await client.close();
  });

  it("reads members one by one when the port does not expand", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      authedGet("/redfish/v1/Systems", { Members: [{ "@odata.id": "/redfish/v1/Systems/A" }] }),
      authedGet("/redfish/v1/Systems/A", { Id: "A" }),
    ]);
    const client = open();
    expect(await client.getCollection("/redfish/v1/Systems")).toEqual([{ uri: "/redfish/v1/Systems/A", body: { Id: "A" }, etag: 'W/"1"' }]);
    await client.close();
  });
});

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe("read passes on ports that do not expand", () => {
  const refuseExpand = (status: number): Handler => (req) =>
    req.url.startsWith("/redfish/v1?") ? { status, body: redfishError(status === 501 ? "Base.1.18.QueryNotSupported" : "Base.1.18.InternalError", "no") } : undefined;

  it("reads resource by resource when the port refuses the snapshot query (501), and says so once", async () => {
    server = await startScriptedServer(pki, [refuseExpand(501), ...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const lines: string[] = [];
    const client = open({ log: (l) => lines.push(l) });
    await duringReadPass(() => client.get("/redfish/v1/Systems"));
    await duringReadPass(() => client.get("/redfish/v1/Systems"));
    expect(server.seen.filter((r) => r.url.includes("$expand"))).toHaveLength(1);
    expect(server.seen.filter((r) => r.url === "/redfish/v1/Systems")).toHaveLength(2);
    expect(lines.filter((l) => /answered 501 to \$expand; reading resources one by one/.test(l))).toHaveLength(1);
    await client.close();
  });

  it("fails the read when the port answers the snapshot query with a server error", async () => {
    server = await startScriptedServer(pki, [refuseExpand(500), ...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    const err = (await duringReadPass(() => client.get("/redfish/v1/Systems")).catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(500);
    expect(err.message).toContain(server.url);
    await client.close();
  });
});
