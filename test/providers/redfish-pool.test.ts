import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { clientFor, closeAllClients, pooledClientCount, releaseClient } from "../../providers/redfish";
import { makePki, startScriptedServer, type ScriptedServer, type TestPki } from "../support/redfish-ports";

const SESSIONS = "/redfish/v1/SessionService/Sessions";
let pki: TestPki;
let server: ScriptedServer;
let issued = 0;

beforeAll(async () => {
  pki = await makePki();
});

afterEach(async () => {
  await closeAllClients();
  await server?.close();
});

async function start(): Promise<void> {
  server = await startScriptedServer(pki, [
    (req) => (req.url === "/redfish/v1" ? { status: 200, body: { Links: { Sessions: { "@odata.id": SESSIONS } } } } : undefined),
    (req) => {
      if (req.method !== "POST" || req.url !== SESSIONS) return undefined;
      issued++;
      return { status: 201, headers: { "X-Auth-Token": `t${issued}`, Location: `${SESSIONS}/${issued}` } };
    },
    (req) => (req.method === "DELETE" ? { status: 204 } : undefined),
    (req) => (req.url === "/redfish/v1/Systems" ? { status: 200, body: { Members: [] } } : undefined),
  ]);
}

const ep = (password = "pw-one-1") => ({ url: server.url, caPem: pki.caPem, username: "root", password });

describe("client pool", () => {
  it("hands every resource of a port the same client, so they share one session", async () => {
    await start();
    const a = clientFor(ep());
    const b = clientFor({ ...ep(), url: `${server.url}/` });
    expect(b).toBe(a);
    await Promise.all([a.get("/redfish/v1/Systems"), b.get("/redfish/v1/Systems")]);
    expect(server.seen.filter((r) => r.method === "POST")).toHaveLength(1);
    expect(pooledClientCount()).toBe(1);
  });

  it("replaces and logs out the pooled client when the password changes (after a claim)", async () => {
    await start();
    const before = clientFor(ep("pw-one-1"));
    await before.get("/redfish/v1/Systems");
    const after = clientFor(ep("pw-two-2"));
    expect(after).not.toBe(before);
    await after.get("/redfish/v1/Systems");
    await releaseClient(server.url, "root");
    const logins = server.seen.filter((r) => r.method === "POST").map((r) => (r.body as { Password: string }).Password);
    expect(logins).toEqual(["pw-one-1", "pw-two-2"]);
    expect(server.seen.filter((r) => r.method === "DELETE")).toHaveLength(2);
    expect(pooledClientCount()).toBe(0);
  });
});
