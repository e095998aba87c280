/**
 * Lockout as BMCs do it: counted per user name AND source address, one answer for every
 * refused login (unknown user, wrong password, locked), the policy shown in AccountService.
 */
import * as https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NEW_PASSWORD, startTestFleet, type TestFleet } from "./helpers";

interface Reply {
  status: number;
  headers: Record<string, unknown>;
  text: string;
}

/** One request from `localAddress` (a loopback address of this machine). */
function from(localAddress: string, ca: string, url: string, opts: { method?: string; body?: unknown; auth?: [string, string] } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { Accept: "application/json" };
    if (payload) headers["Content-Type"] = "application/json";
    if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth.join(":")).toString("base64")}`;
    const req = https.request(url, { method: opts.method ?? "GET", headers, ca, agent: false, localAddress }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** The parts of an answer that may differ between two refusals: dates and ids. */
function comparable(r: Reply): string {
  const { date: _date, ...headers } = r.headers;
  return JSON.stringify({ status: r.status, headers, text: r.text });
}

describe("login lockout", () => {
  let f: TestFleet;
  const ATTACKER = "127.0.0.2";
  const PROVIDER = "127.0.0.1";
  beforeAll(async () => {
    f = await startTestFleet();
    await f.claim("NV1");
  });
  afterAll(() => f.emu.stop());

  const login = (source: string, user: string, password: string): Promise<Reply> =>
    from(source, f.emu.caPem, `${f.url("NV1")}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: user, Password: password } });

  it("shows the policy in AccountService and the idle timeout in SessionService", async () => {
    const account = JSON.parse((await from(PROVIDER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/AccountService`, { auth: ["root", NEW_PASSWORD] })).text);
    expect(account).toMatchObject({ AccountLockoutThreshold: 5, AccountLockoutDuration: 60, AccountLockoutCounterResetAfter: 60 });
    const sessions = JSON.parse((await from(PROVIDER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/SessionService`, { auth: ["root", NEW_PASSWORD] })).text);
    expect(sessions.SessionTimeout).toBe(1800);
  });

  it("locks out only the address the failures come from: the provider's address still logs in", async () => {
    const started = performance.now();
    for (let i = 0; i < 5; i++) expect((await login(ATTACKER, "root", `wrong-${i}`)).status).toBe(401);
    // The attacker is locked out, even with the right password...
    expect((await login(ATTACKER, "root", NEW_PASSWORD)).status).toBe(401);
    expect((await from(ATTACKER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems`, { auth: ["root", NEW_PASSWORD] })).status).toBe(401);
    // ...while the provider, from another address, is not.
    expect((await login(PROVIDER, "root", NEW_PASSWORD)).status).toBe(201);
    expect((await from(PROVIDER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems`, { auth: ["root", NEW_PASSWORD] })).status).toBe(200);
    const account = JSON.parse((await from(PROVIDER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/AccountService/Accounts/root`, { auth: ["root", NEW_PASSWORD] })).text);
    expect(account.Locked).toBe(true); // locked for some address
    // The lockout lasts AccountLockoutDuration (simulated): then the attacker's address may try again.
    await f.advance(61_000);
    expect((await login(ATTACKER, "root", NEW_PASSWORD)).status).toBe(201);
    console.log(`lockout: 5 failures from ${ATTACKER} locked it; ${PROVIDER} logged in; ${Math.round(performance.now() - started)} ms for the sequence`);
  });

  it("answers an unknown user, a wrong password and a locked account alike, apart from the date", async () => {
    const unknown = await login(PROVIDER, "nobody", "wrong-password");
    const wrong = await login(PROVIDER, "root", "wrong-password");
    expect(unknown.status).toBe(401);
    expect(comparable(unknown)).toBe(comparable(wrong));
    for (let i = 0; i < 5; i++) await login(ATTACKER, "nobody", `wrong-${i}`);
    for (let i = 0; i < 5; i++) await login(ATTACKER, "root", `wrong-${i}`);
    const lockedUnknown = await login(ATTACKER, "nobody", "wrong-password");
    const lockedRoot = await login(ATTACKER, "root", NEW_PASSWORD);
    expect(comparable(lockedUnknown)).toBe(comparable(wrong));
    expect(comparable(lockedRoot)).toBe(comparable(wrong));
    expect(JSON.parse(wrong.text).error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.AccessDenied");
    // Basic auth answers the same way for both (its own URI in the message arguments).
    const basicUnknown = await from(PROVIDER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems`, { auth: ["nobody", "wrong-password"] });
    const basicWrong = await from(PROVIDER, f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems`, { auth: ["root", "wrong-password"] });
    expect(comparable(basicUnknown)).toBe(comparable(basicWrong));
  });

  it("forgets failures after AccountLockoutCounterResetAfter", async () => {
    await f.advance(61_000);
    for (let i = 0; i < 4; i++) await login(ATTACKER, "root", `wrong-${i}`);
    await f.advance(61_000);
    for (let i = 0; i < 4; i++) await login(ATTACKER, "root", `wrong-${i}`);
    expect((await login(ATTACKER, "root", NEW_PASSWORD)).status).toBe(201);
  });
});
