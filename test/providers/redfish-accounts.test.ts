/** Claiming a DPU's management account (`accounts.ts`): factory password rotated once, then already claimed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claimAccount, InstantClock, RedfishError, type ClientClock } from "../../providers/redfish";
import { request, startTestFleet, type TestFleet } from "../emulator/helpers";
import { basicPort, redfishError, scriptedPortFixture, SESSIONS, startScriptedServer, type Handler } from "../support/redfish-ports";

const port = scriptedPortFixture();

describe("claiming an account", () => {
  const account = "/redfish/v1/AccountService/Accounts/root";
  const NEW = "n3w-Managed-Pass";

  const CHANGE_REQUIRED = [{ MessageId: "Base.1.18.PasswordChangeRequired", MessageArgs: [account], Message: "The password provided for this account must be changed." }];

  /**
   * A factory-fresh port. `requireIfMatch`: a PATCH without If-Match answers 428.
   * `restrictedSessions`: sessions made before the change stay limited to it (OpenBMC
   * lifts the limit; some ports may not), answering 403 PasswordChangeRequired.
   */
  function factoryPort(opts: { requireIfMatch?: boolean; restrictedSessions?: boolean } = {}): Handler[] {
    const passwords: Record<string, string> = { root: "0penBmc" };
    let mustChange = true;
    const restricted = new Set<string>();
    const port = basicPort({ passwords });
    return [
      port[0],
      (req) => {
        const reply = port[1](req);
        if (reply?.status === 201 && mustChange) {
          reply.body = { ...(reply.body as object), "@Message.ExtendedInfo": CHANGE_REQUIRED };
          restricted.add(String(reply.headers?.["X-Auth-Token"]));
        }
        return reply;
      },
      port[2],
      (req) =>
        opts.restrictedSessions && restricted.has(String(req.headers["x-auth-token"])) && req.url !== account
          ? { status: 403, body: { error: { code: "Base.1.18.PasswordChangeRequired", message: "change the password first", "@Message.ExtendedInfo": CHANGE_REQUIRED } } }
          : undefined,
      (req) => (req.method === "GET" && req.url === account ? { status: 200, body: { UserName: "root", PasswordChangeRequired: mustChange }, headers: { ETag: '"acc-1"' } } : undefined),
      (req) => {
        if (req.method !== "PATCH" || req.url !== account) return undefined;
        const ifMatch = req.headers["if-match"];
        if (ifMatch === undefined && opts.requireIfMatch) return { status: 428, body: redfishError("Base.1.18.PreconditionRequired", "If-Match required") };
        if (ifMatch !== undefined && ifMatch !== '"acc-1"') return { status: 412, body: redfishError("Base.1.18.PreconditionFailed", "stale") };
        passwords.root = (req.body as { Password: string }).Password;
        mustChange = false;
        return { status: 204 };
      },
      (req) => (req.method === "GET" && req.url === "/redfish/v1/Systems" && req.headers["x-auth-token"] ? { status: 200, body: { Members: [] } } : undefined),
    ];
  }

  const passwordsSent = () => port.server.seen.filter((r) => r.method === "POST" && r.url === SESSIONS).map((r) => (r.body as { Password: string }).Password);

  it("rotates the factory password and goes on in the factory session: no login with the new password, no logout of the old", async () => {
    port.server = await startScriptedServer(port.pki, factoryPort());
    const ep = { url: port.server.url, caPem: port.pki.caPem, username: "root" };
    const lines: string[] = [];
    const client = port.open({ log: (l) => lines.push(l) }, NEW);
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock() }, client)).resolves.toBe("rotated");
    const patch = port.server.seen.find((r) => r.method === "PATCH");
    expect(patch).toMatchObject({ url: account, body: { Password: NEW } });
    // The new password replaces the old whatever else the account holds: no read for an ETag.
    expect(patch?.headers["if-match"]).toBeUndefined();
    expect(port.server.seen.filter((r) => r.method === "GET" && r.url === account)).toEqual([]);
    expect(passwordsSent()).toEqual([NEW, "0penBmc"]);
    expect(port.server.seen.filter((r) => r.method === "DELETE")).toEqual([]);
    // The claimed client works in the session the factory login opened, and logs it out.
    await client.get("/redfish/v1/Systems");
    expect(port.server.seen.at(-1)?.headers["x-auth-token"]).toBe(patch?.headers["x-auth-token"]);
    await client.close();
    expect(port.server.seen.filter((r) => r.method === "DELETE").map((r) => r.url)).toEqual([`${SESSIONS}/s1`]);
    expect(lines).toEqual([]);
  });

  it("reads the ETag when the port insists on If-Match", async () => {
    port.server = await startScriptedServer(port.pki, factoryPort({ requireIfMatch: true }));
    const ep = { url: port.server.url, caPem: port.pki.caPem, username: "root" };
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock(), factoryFirst: true })).resolves.toBe("rotated");
    const patches = port.server.seen.filter((r) => r.method === "PATCH").map((r) => r.headers["if-match"]);
    expect(patches).toEqual([undefined, '"acc-1"']);
    expect(passwordsSent()).toEqual(["0penBmc"]);
  });

  it("logs in with the new password when the port keeps the factory session restricted after the change", async () => {
    port.server = await startScriptedServer(port.pki, factoryPort({ restrictedSessions: true }));
    const ep = { url: port.server.url, caPem: port.pki.caPem, username: "root" };
    const lines: string[] = [];
    const client = port.open({ log: (l) => lines.push(l) }, NEW);
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock(), factoryFirst: true }, client)).resolves.toBe("rotated");
    await expect(client.get("/redfish/v1/Systems")).resolves.toMatchObject({ body: { Members: [] } });
    expect(passwordsSent()).toEqual(["0penBmc", NEW]);
    // The restricted session is logged out, not left to fill the port's session table.
    expect(port.server.seen.filter((r) => r.method === "DELETE").map((r) => r.url)).toEqual([`${SESSIONS}/s1`]);
    expect(lines.join("\n")).toMatch(/keeps the claim's session restricted to the password change; logging in with the new password/);
    await client.close();
  });

  it("reports already-claimed when the managed password works, spending no failed login", async () => {
    port.server = await startScriptedServer(port.pki, factoryPort());
    const ep = { url: port.server.url, caPem: port.pki.caPem, username: "root" };
    await claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock() });
    const before = port.server.seen.length;
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock() })).resolves.toBe("already-claimed");
    const again = port.server.seen.slice(before).filter((r) => r.method === "POST" && r.url === SESSIONS);
    expect(again.map((r) => (r.body as { Password: string }).Password)).toEqual([NEW]);
  });

  it("factory first (a create): rotates with no refused login on a fresh port, and spends one refused factory login on a claimed one", async () => {
    port.server = await startScriptedServer(port.pki, factoryPort());
    const ep = { url: port.server.url, caPem: port.pki.caPem, username: "root" };
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock(), factoryFirst: true })).resolves.toBe("rotated");
    expect(passwordsSent()).toEqual(["0penBmc"]);
    port.server.seen.length = 0;
    await expect(claimAccount(ep, "0penBmc", NEW, { clock: new InstantClock(), factoryFirst: true })).resolves.toBe("already-claimed");
    expect(passwordsSent()).toEqual(["0penBmc", NEW]);
  });

  it("fails if neither the managed nor the factory password is accepted", async () => {
    port.server = await startScriptedServer(port.pki, basicPort({ passwords: { root: "someone-elses" } }));
    const clock = new InstantClock();
    const err = (await claimAccount({ url: port.server.url, caPem: port.pki.caPem, username: "root" }, "0penBmc", NEW, { clock }).catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    // A lockout answers like a wrong password: one wait of the lockout duration, one more round, then the error says so.
    expect(clock.sleeps).toEqual([60_000]);
    expect(err.message).toMatch(/also after waiting 60 s for a lockout to pass.*locked/);
    expect(err.status).toBe(401);
    expect(err.message).toContain(port.server.url);
    expect(err.message).not.toContain(NEW);
    expect(err.message).not.toContain("0penBmc");
  });
});

describe("claiming an account on the emulated port when its sessions are full or its logins locked", () => {
  const NEW = "n3w-Managed-Pass";
  let fleet: TestFleet;
  beforeAll(async () => {
    fleet = await startTestFleet();
  });
  afterAll(() => fleet.emu.stop());

  /** The client's clock is the emulator's: waiting on it moves simulated time. */
  const clientClock = (): ClientClock & { sleeps: number[] } => {
    const sleeps: number[] = [];
    return {
      sleeps,
      now: () => fleet.clock.now(),
      sleep: async (ms) => {
        sleeps.push(ms);
        await fleet.advance(ms);
      },
    };
  };
  const login = (serial: string, user: string, password: string) =>
    request(fleet.emu.caPem, `${fleet.url(serial)}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: user, Password: password } });

  it("falls back to Basic authentication, says the sessions are full, and still changes the factory password", async () => {
    for (let i = 0; i < 70 && (await login("AMD1", "admin", "N0tSecret")).status === 201; i++);
    const lines: string[] = [];
    const ep = { url: fleet.url("AMD1"), caPem: fleet.emu.caPem, username: "admin" };
    await expect(claimAccount(ep, "N0tSecret", NEW, { log: (l) => lines.push(l) })).resolves.toBe("rotated");
    expect(lines.join("\n")).toMatch(/the port's sessions are full \(SessionLimitExceeded.*Basic authentication as 'admin'/);
    expect(lines.join("\n")).not.toContain("N0tSecret");
  });

  it("waits out a lockout of its own address (bounded by the operation timeout), then claims", async () => {
    for (let i = 0; i < 5; i++) expect((await login("NV1", "root", `wrong-${i}`)).status).toBe(401);
    const ep = { url: fleet.url("NV1"), caPem: fleet.emu.caPem, username: "root" };
    // Not enough operation time left to wait the lockout out: fails at once, saying why.
    const short = claimAccount(ep, "0penBmc", NEW, { clock: clientClock(), operationTimeoutMs: 30_000, lockoutWaitMs: 60_000 });
    await expect(short).rejects.toThrow(/neither the configured nor the factory password.*not waiting 60 s for a lockout to pass.*locked/);
    const lines: string[] = [];
    const clock = clientClock();
    await expect(claimAccount(ep, "0penBmc", NEW, { clock, log: (l) => lines.push(l), lockoutWaitMs: 60_000 })).resolves.toBe("rotated");
    expect(clock.sleeps).toEqual([60_000]);
    expect(lines.join("\n")).toMatch(/may have locked the account for this address.*waiting 60 s/);
  });
});
