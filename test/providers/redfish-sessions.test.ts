/** The client's sessions (`sessions.ts`): one shared login, re-login on 401, Basic when no slot is left, logout on close. */
import { describe, expect, it } from "vitest";
import { RedfishError } from "../../providers/redfish";
import { authedGet, basicPort, PASSWORD, redfishError, SESSIONS, scriptedPortFixture, startScriptedServer } from "../support/redfish-ports";

const port = scriptedPortFixture();

const open = port.open;

describe("sessions", () => {
  it("logs in once through the SessionService and reuses the session token", async () => {
    port.server = await startScriptedServer(port.pki, [...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    await client.get("/redfish/v1/Systems");
    await client.get("/redfish/v1/Systems");
    await Promise.all([client.get("/redfish/v1/Systems"), client.get("/redfish/v1/Systems")]);
    expect(port.server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(1);
    const gets = port.server.seen.filter((r) => r.url === "/redfish/v1/Systems");
    // The two concurrent reads of one URI share a request.
    expect(gets.map((r) => r.headers["x-auth-token"])).toEqual(["tok-1", "tok-1", "tok-1"]);
    await client.close();
  });

  it("shares one login between concurrent first requests", async () => {
    port.server = await startScriptedServer(port.pki, [...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    await Promise.all(Array.from({ length: 5 }, () => client.get("/redfish/v1/Systems")));
    expect(port.server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(1);
    await client.close();
  });

  it("logs in again once when the session is rejected with 401", async () => {
    let rejectedOnce = false;
    port.server = await startScriptedServer(port.pki, [
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
    expect(port.server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(2);
    await client.close();
  });

  it("fails if the session is rejected again right after a fresh login", async () => {
    port.server = await startScriptedServer(port.pki, [
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" ? { status: 401, body: redfishError("Base.1.18.NoValidSession", "No valid session.") } : undefined),
    ]);
    const client = open();
    const err = await client.get("/redfish/v1/Systems").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedfishError);
    expect(err).toMatchObject({ status: 401, messageId: "Base.1.18.NoValidSession", endpoint: port.server.url });
    expect(port.server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(2);
    await client.close();
  });

  it("falls back to Basic authentication when the port has no session slot left", async () => {
    port.server = await startScriptedServer(port.pki, [
      (req) => (req.method === "POST" && req.url === SESSIONS ? { status: 503, body: redfishError("Base.1.18.SessionLimitExceeded", "too many sessions; delete one first") } : undefined),
      ...basicPort(),
      (req) => (req.url === "/redfish/v1/Systems" ? { status: 200, body: { auth: req.headers.authorization } } : undefined),
    ]);
    const client = open();
    const { body } = await client.get<{ auth: string }>("/redfish/v1/Systems");
    expect(body.auth).toBe(`Basic ${Buffer.from(`root:${PASSWORD}`).toString("base64")}`);
    expect(port.server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS)).toHaveLength(1);
    await client.close();
    expect(port.server.seen.filter((r) => r.method === "DELETE")).toHaveLength(0);
  });

  it("logs out by deleting its session on close", async () => {
    port.server = await startScriptedServer(port.pki, [...basicPort(), authedGet("/redfish/v1/Systems", { Members: [] })]);
    const client = open();
    await client.get("/redfish/v1/Systems");
    await client.close();
    const logout = port.server.seen.find((r) => r.method === "DELETE");
    expect(logout).toMatchObject({ url: `${SESSIONS}/s1` });
    expect(logout?.headers["x-auth-token"]).toBe("tok-1");
  });

  it("fails if the password is wrong, without the password in the error", async () => {
    port.server = await startScriptedServer(port.pki, basicPort());
    const client = open({}, "wrong-Passw0rd");
    const err = (await client.login().catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(401);
    expect(err.messageId).toBe("Base.1.18.ResourceAtUriUnauthorized");
    expect(err.message).toContain(port.server.url);
    expect(err.message).not.toContain("wrong-Passw0rd");
    expect(JSON.stringify(err)).not.toContain("wrong-Passw0rd");
    await client.close();
  });
});
