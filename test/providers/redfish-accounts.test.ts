/** Claiming a DPU's management account (`accounts.ts`): factory password rotated once, then already claimed. */
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { claimAccount, InstantClock, RedfishError } from "../../providers/redfish";
import { basicPort, makePki, redfishError, SESSIONS, startScriptedServer, type Handler, type ScriptedServer, type TestPki } from "../support/redfish-ports";

let pki: TestPki;
let server: ScriptedServer;

beforeAll(async () => {
  pki = await makePki();
});

afterEach(async () => {
  await server?.close();
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
