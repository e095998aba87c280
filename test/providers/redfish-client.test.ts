import { afterEach, beforeAll, describe, expect, it } from "vitest";
import * as net from "node:net";
import {
  ConnectionError,
  InstantClock,
  OperationTimeoutError,
  RedfishClient,
  RedfishError,
  TaskFailedError,
  claimAccount,
  duringReadPass,
  taskReference,
  type ClientOptions,
} from "../../providers/redfish";
import { makePki, redfishError, startScriptedServer, type Handler, type ScriptedServer, type TestPki } from "./redfish-support";

const PASSWORD = "s3cret-Passw0rd";
const SESSIONS = "/redfish/v1/SessionService/Sessions";

let pki: TestPki;
let otherPki: TestPki;
let server: ScriptedServer;

beforeAll(async () => {
  [pki, otherPki] = await Promise.all([makePki(), makePki("some other CA")]);
});

afterEach(async () => {
  await server?.close();
});

/** A minimal port: open service root, sessions for root/PASSWORD, tokens tok-1, tok-2 ... */
function basicPort(opts: { expand?: boolean; passwords?: Record<string, string> } = {}): Handler[] {
  let issued = 0;
  const passwords = opts.passwords ?? { root: PASSWORD };
  return [
    (req) =>
      req.method === "GET" && req.url === "/redfish/v1"
        ? {
            status: 200,
            body: {
              "@odata.id": "/redfish/v1",
              Links: { Sessions: { "@odata.id": SESSIONS } },
              AccountService: { "@odata.id": "/redfish/v1/AccountService" },
              ProtocolFeaturesSupported: { ExpandQuery: { Levels: opts.expand ?? false, NoLinks: opts.expand ?? false, MaxLevels: 1 } },
            },
          }
        : undefined,
    (req) => {
      if (req.method !== "POST" || req.url !== SESSIONS) return undefined;
      const { UserName, Password } = req.body as { UserName: string; Password: string };
      if (passwords[UserName] !== Password) {
        return { status: 401, body: redfishError("Base.1.18.ResourceAtUriUnauthorized", `Login for ${UserName} with password ${Password} failed.`) };
      }
      issued++;
      return { status: 201, headers: { "X-Auth-Token": `tok-${issued}`, Location: `${SESSIONS}/s${issued}` }, body: { "@odata.id": `${SESSIONS}/s${issued}` } };
    },
    (req) => (req.method === "DELETE" && req.url.startsWith(`${SESSIONS}/`) ? { status: 204 } : undefined),
  ];
}

function open(overrides: ClientOptions = {}, password = PASSWORD, caPem = pki.caPem): RedfishClient {
  return RedfishClient.open(
    { url: server.url, caPem, username: "root", password },
    { clock: new InstantClock(), random: () => 0.5, callTimeoutMs: 10_000, ...overrides },
  );
}

const authedGet = (uri: string, body: unknown, etag = 'W/"1"'): Handler => (req) =>
  req.method === "GET" && req.url === uri && req.headers["x-auth-token"] ? { status: 200, body, headers: { ETag: etag } } : undefined;

describe("sessions", () => {
  it("logs in once through the SessionService and reuses the session token", async () => {
    server = await startScriptedServer(pki, [...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    await client.get("/redfish/v1/Systems");
    await client.get("/redfish/v1/Systems");
    await Promise.all([client.get("/redfish/v1/Systems"), client.get("/redfish/v1/Systems")]);
    expect(server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(1);
    const gets = server.seen.filter((r) => r.url === "/redfish/v1/Systems");
    // The two concurrent reads of one URI share a request.
    expect(gets.map((r) => r.headers["x-auth-token"])).toEqual(["tok-1", "tok-1", "tok-1"]);
    await client.close();
  });

  it("shares one login between concurrent first requests", async () => {
    server = await startScriptedServer(pki, [...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    await Promise.all(Array.from({ length: 5 }, () => client.get("/redfish/v1/Systems")));
    expect(server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(1);
    await client.close();
  });

  it("logs in again once when the session is rejected with 401", async () => {
    let rejectedOnce = false;
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => {
        if (req.url !== "/redfish/v1/Systems") return undefined;
        if (!rejectedOnce) {
          rejectedOnce = true;
          return { status: 401, body: redfishError("Base.1.18.NoValidSession", "There is no valid session established with the implementation.") };
        }
        return { status: 200, body: { token: req.headers["x-auth-token"] } };
      },
    ]);
    const client = open();
    const { body } = await client.get<{ token: string }>("/redfish/v1/Systems");
    expect(body.token).toBe("tok-2");
    expect(server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(2);
    await client.close();
  });

  it("fails if the session is rejected again right after a fresh login", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" ? { status: 401, body: redfishError("Base.1.18.NoValidSession", "No valid session.") } : undefined),
    ]);
    const client = open();
    const err = await client.get("/redfish/v1/Systems").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedfishError);
    expect(err).toMatchObject({ status: 401, messageId: "Base.1.18.NoValidSession", endpoint: server.url });
    expect(server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(2);
    await client.close();
  });

  it("falls back to Basic authentication when the port has no session slot left", async () => {
    server = await startScriptedServer(pki, [
      (req) => (req.method === "POST" && req.url === SESSIONS ? { status: 503, body: redfishError("Base.1.18.SessionLimitExceeded", "too many sessions; delete one first") } : undefined),
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" ? { status: 200, body: { auth: req.headers.authorization } } : undefined),
    ]);
    const client = open();
    const { body } = await client.get<{ auth: string }>("/redfish/v1/Systems");
    expect(body.auth).toBe(`Basic ${Buffer.from(`root:${PASSWORD}`).toString("base64")}`);
    expect(server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(1);
    await client.close();
    expect(server.seen.filter((r) => r.method === "DELETE")).toHaveLength(0);
  });

  it("logs out by deleting its session on close", async () => {
    server = await startScriptedServer(pki, [...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    await client.get("/redfish/v1/Systems");
    await client.close();
    const logout = server.seen.find((r) => r.method === "DELETE");
    expect(logout).toMatchObject({ url: `${SESSIONS}/s1` });
    expect(logout?.headers["x-auth-token"]).toBe("tok-1");
  });

  it("fails if the password is wrong, without the password in the error", async () => {
    server = await startScriptedServer(pki, basicPort());
    const client = open({}, "wrong-Passw0rd");
    const err = (await client.login().catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(401);
    expect(err.messageId).toBe("Base.1.18.ResourceAtUriUnauthorized");
    expect(err.message).toContain(server.url);
    expect(err.message).not.toContain("wrong-Passw0rd");
    expect(JSON.stringify(err)).not.toContain("wrong-Passw0rd");
    await client.close();
  });
});

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
});

describe("tasks", () => {
  const monitor = "/redfish/v1/TaskService/TaskMonitors/7";
  const taskUri = "/redfish/v1/TaskService/Tasks/7";
  const task = (state: string, pct: number, messages: unknown[] = []) => ({ "@odata.id": taskUri, Id: "7", TaskState: state, PercentComplete: pct, Messages: messages });

  it("follows a task monitor to Completed and reports progress", async () => {
    const states = [task("Running", 10), task("Running", 60)];
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === monitor ? (states.length ? { status: 202, body: states.shift(), headers: { Location: monitor } } : { status: 200, body: task("Completed", 100) }) : undefined),
    ]);
    const clock = new InstantClock();
    const client = open({ clock });
    const progress: number[] = [];
    const done = await client.waitForTask(monitor, { onProgress: (p) => progress.push(p) });
    expect(done).toMatchObject({ state: "Completed", uri: taskUri, monitor, percentComplete: 100 });
    expect(progress).toEqual([10, 60, 100]);
    expect(clock.sleeps).toHaveLength(2);
    expect(clock.sleeps[1]).toBeGreaterThan(clock.sleeps[0]);
    await client.close();
  });

  it("names the task a 202 started, so it can be kept and waited on later", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.method === "POST" && req.url === "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate" ? { status: 202, headers: { Location: monitor }, body: task("New", 0) } : undefined),
      (req) => (req.url === taskUri ? { status: 200, body: task("Completed", 100) } : undefined),
    ]);
    const client = open();
    const started = await client.post("/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: "http://images.lab/os.bfb" });
    const ref = taskReference(started);
    expect(ref).toEqual({ monitor, task: taskUri, uri: taskUri });
    expect(taskReference({ status: 201, body: {} })).toBeUndefined();
    expect(await client.waitForTask(ref?.uri ?? "")).toMatchObject({ state: "Completed" });
    await client.close();
  });

  it("returns what a create task made: the monitor's final 201 with its Location", async () => {
    const service = "/redfish/v1/Oem/SmartFleet/Services/dfw";
    let polls = 0;
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === monitor ? (polls++ === 0 ? { status: 202, body: task("Running", 50) } : { status: 201, headers: { Location: service }, body: { "@odata.id": service, Id: "dfw" } }) : undefined),
      (req) => (req.url === taskUri ? { status: 200, body: task("Completed", 100) } : undefined),
    ]);
    const client = open();
    const done = await client.waitForTask(monitor);
    expect(done).toMatchObject({ state: "Completed", uri: taskUri, monitor, resultLocation: service, result: { Id: "dfw" } });
    await client.close();
  });

  it("resumes waiting from a task URI kept by an earlier run", async () => {
    const states = ["Running", "Completed"];
    server = await startScriptedServer(pki, [...basicPort(), (req) => (req.url === taskUri ? { status: 200, body: task(states.shift() ?? "Completed", 100) } : undefined)]);
    const client = open();
    expect(await client.waitForTask(taskUri)).toMatchObject({ state: "Completed", uri: taskUri });
    await client.close();
  });

  it("reads the task resource when the monitor has already gone", async () => {
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === monitor && server.seen.filter((r) => r.url === monitor).length === 1 ? { status: 202, body: task("Running", 5) } : undefined),
      (req) => (req.url === taskUri ? { status: 200, body: task("Completed", 100) } : undefined),
    ]);
    const client = open();
    expect(await client.waitForTask(monitor)).toMatchObject({ state: "Completed", uri: taskUri });
    await client.close();
  });

  it("finds the task through the TaskService when a kept monitor has expired", async () => {
    server = await startScriptedServer(pki, [
      (req) => (req.url === "/redfish/v1" ? { status: 200, body: { Links: { Sessions: { "@odata.id": SESSIONS } }, Tasks: { "@odata.id": "/redfish/v1/TaskService" } } } : undefined),
      ...basicPort().slice(1),
      authedGet("/redfish/v1/TaskService", { Tasks: { "@odata.id": "/redfish/v1/TaskService/Tasks" } }),
      authedGet("/redfish/v1/TaskService/Tasks", { Members: [{ "@odata.id": "/redfish/v1/TaskService/Tasks/6" }, { "@odata.id": taskUri }] }),
      authedGet("/redfish/v1/TaskService/Tasks/6", { ...task("Completed", 100), "@odata.id": "/redfish/v1/TaskService/Tasks/6", TaskMonitor: "/redfish/v1/TaskService/TaskMonitors/6" }),
      authedGet(taskUri, { ...task("Completed", 100), TaskMonitor: monitor }),
    ]);
    const client = open();
    expect(await client.waitForTask(monitor)).toMatchObject({ state: "Completed", uri: taskUri, monitor });
    await client.close();
  });

  it("fails if the task ends Exception, with the task's MessageId", async () => {
    const failure = { MessageId: "Update.1.1.TransferFailed", Message: "Transfer of image 'http://images.lab/x.bfb' failed: checksum mismatch.", Resolution: "Check the image checksum.", MessageSeverity: "Critical" };
    server = await startScriptedServer(pki, [
      ...basicPort(),
      (req) => (req.url === monitor ? { status: 200, body: task("Exception", 40, [{ MessageId: "TaskEvent.1.0.TaskStarted", Message: "started", MessageSeverity: "OK" }, failure]) } : undefined),
    ]);
    const client = open();
    const err = (await client.waitForTask(monitor).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.messageId).toBe("Update.1.1.TransferFailed");
    expect(err.message).toContain("checksum mismatch");
    expect(err.message).toContain(server.url);
    expect(err.task.state).toBe("Exception");
    expect(err.uri).toBe(taskUri);
    await client.close();
  });

  it("fails if a task outlives the operation timeout", async () => {
    server = await startScriptedServer(pki, [...basicPort(), (req) => (req.url === monitor ? { status: 202, body: task("Running", 1) } : undefined)]);
    const client = open({ operationTimeoutMs: 60_000 });
    const err = await client.waitForTask(monitor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationTimeoutError);
    expect((err as Error).message).toContain(server.url);
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

describe("claiming an account", () => {
  const account = "/redfish/v1/AccountService/Accounts/root";
  const NEW = "n3w-Managed-Pass";

  function factoryPort(): Handler[] {
    const passwords: Record<string, string> = { root: "0penBmc" };
    let mustChange = true;
    const port = basicPort({ passwords });
    return [
      port[0],
      (req) => {
        const reply = port[1](req);
        if (reply?.status === 201 && mustChange) {
          reply.body = {
            ...(reply.body as object),
            "@Message.ExtendedInfo": [{ MessageId: "Base.1.18.PasswordChangeRequired", MessageArgs: [account], Message: "The password provided for this account must be changed." }],
          };
        }
        return reply;
      },
      port[2],
      (req) => (req.method === "GET" && req.url === account ? { status: 200, body: { UserName: "root", PasswordChangeRequired: mustChange }, headers: { ETag: '"acc-1"' } } : undefined),
      (req) => {
        if (req.method !== "PATCH" || req.url !== account) return undefined;
        if (req.headers["if-match"] !== '"acc-1"') return { status: 412, body: redfishError("Base.1.18.PreconditionFailed", "stale") };
        passwords.root = (req.body as { Password: string }).Password;
        mustChange = false;
        return { status: 204 };
      },
    ];
  }

  it("rotates the factory password and then logs in with the new one", async () => {
    server = await startScriptedServer(pki, factoryPort());
    const ep = { url: server.url, caPem: pki.caPem, username: "root" };
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock() })).resolves.toBe("rotated");
    const patch = server.seen.find((r) => r.method === "PATCH");
    expect(patch).toMatchObject({ url: account, body: { Password: NEW } });
    expect(patch?.headers["if-match"]).toBe('"acc-1"');
    const logins = server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS).map((r) => (r.body as { Password: string }).Password);
    expect(logins).toEqual([NEW, "0penBmc", NEW]);
  });

  it("reports already-claimed when the managed password works, spending no failed login", async () => {
    server = await startScriptedServer(pki, factoryPort());
    const ep = { url: server.url, caPem: pki.caPem, username: "root" };
    await claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock() });
    const before = server.seen.length;
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock() })).resolves.toBe("already-claimed");
    const again = server.seen.slice(before).filter((r) => r.method === "POST" && r.url === SESSIONS);
    expect(again.map((r) => (r.body as { Password: string }).Password)).toEqual([NEW]);
  });

  it("fails if neither the managed nor the factory password is accepted", async () => {
    server = await startScriptedServer(pki, basicPort({ passwords: { root: "someone-elses" } }));
    const err = (await claimAccount({ url: server.url, caPem: pki.caPem, username: "root" }, "0penBmc", NEW).catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(401);
    expect(err.message).toContain(server.url);
    expect(err.message).not.toContain(NEW);
    expect(err.message).not.toContain("0penBmc");
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
