import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NEW_PASSWORD, request, startTestFleet, type TestFleet } from "./helpers";

describe("management port auth", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
  });
  afterAll(() => f.emu.stop());

  it("answers the service root, $metadata and odata without credentials", async () => {
    for (const p of ["/redfish", "/redfish/v1", "/redfish/v1/", "/redfish/v1/$metadata", "/redfish/v1/odata"]) {
      const r = await request(f.emu.caPem, `${f.url("NV1")}${p}`);
      expect(r.status, p).toBe(200);
    }
  });

  it("fails if a protected resource is read without credentials: 401 with a Redfish error and WWW-Authenticate", async () => {
    const r = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems`);
    expect(r.status).toBe(401);
    expect(r.headers["www-authenticate"]).toMatch(/Basic/);
    expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/^Base\.1\.22\.1\./);
  });

  it("lets factory credentials only change their own password, then clears PasswordChangeRequired", async () => {
    const factory: [string, string] = ["admin", "N0tSecret"];
    const acct = `${f.url("AMD1")}/redfish/v1/AccountService/Accounts/admin`;
    const blocked = await request(f.emu.caPem, `${f.url("AMD1")}/redfish/v1/Systems`, { auth: factory });
    expect(blocked.status).toBe(403);
    expect(blocked.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PasswordChangeRequired");
    const own = await request(f.emu.caPem, acct, { auth: factory });
    expect(own.status).toBe(200);
    expect(own.body.PasswordChangeRequired).toBe(true);
    const session = await request(f.emu.caPem, `${f.url("AMD1")}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: "admin", Password: "N0tSecret" } });
    expect(session.status).toBe(201);
    expect(session.body["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PasswordChangeRequired");
    const changed = await request(f.emu.caPem, acct, { method: "PATCH", body: { Password: NEW_PASSWORD }, auth: factory });
    expect(changed.status).toBe(200);
    expect(changed.body.PasswordChangeRequired).toBe(false);
    const old = await request(f.emu.caPem, `${f.url("AMD1")}/redfish/v1/Systems`, { auth: factory });
    expect(old.status).toBe(401);
    const now = await request(f.emu.caPem, `${f.url("AMD1")}/redfish/v1/Systems`, { auth: ["admin", NEW_PASSWORD] });
    expect(now.status).toBe(200);
  });

  it("refuses the factory password as the new one (checked against the login just made), and the new one logs in at once", async () => {
    const ipu = `${f.url("IPU1")}/redfish/v1/AccountService/Accounts/admin`;
    const factory: [string, string] = ["admin", "1ntelIpu"];
    expect((await request(f.emu.caPem, ipu, { auth: factory })).status).toBe(200);
    const same = await request(f.emu.caPem, ipu, { method: "PATCH", body: { Password: "1ntelIpu" }, auth: factory });
    expect(same.status).toBe(400);
    expect(same.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PropertyValueFormatError");
    expect((await request(f.emu.caPem, ipu, { method: "PATCH", body: { Password: NEW_PASSWORD }, auth: factory })).status).toBe(200);
    expect((await request(f.emu.caPem, `${f.url("IPU1")}/redfish/v1/Systems`, { auth: ["admin", NEW_PASSWORD] })).status).toBe(200);
    expect((await request(f.emu.caPem, `${f.url("IPU1")}/redfish/v1/Systems`, { auth: factory })).status).toBe(401);
  });

  it("creates sessions with 201, X-Auth-Token and Location, and logs out with DELETE", async () => {
    await f.claim("NV1");
    const login = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: "root", Password: NEW_PASSWORD } });
    expect(login.status).toBe(201);
    const token = String(login.headers["x-auth-token"]);
    const location = String(login.headers.location);
    expect(location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/\d+$/);
    const withToken = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Managers`, { headers: { "X-Auth-Token": token } });
    expect(withToken.status).toBe(200);
    const out = await request(f.emu.caPem, `${f.url("NV1")}${location}`, { method: "DELETE", headers: { "X-Auth-Token": token } });
    expect(out.status).toBe(204);
    const after = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Managers`, { headers: { "X-Auth-Token": token } });
    expect(after.status).toBe(401);
  });

  it("fails if a login follows 5 failures: the account is locked for a simulated minute, even with the right password", async () => {
    await f.claim("NV2");
    const sessions = `${f.url("NV2")}/redfish/v1/SessionService/Sessions`;
    for (let i = 0; i < 5; i++) {
      const bad = await request(f.emu.caPem, sessions, { method: "POST", body: { UserName: "root", Password: `wrong-${i}` } });
      expect(bad.status).toBe(401);
    }
    const locked = await request(f.emu.caPem, sessions, { method: "POST", body: { UserName: "root", Password: NEW_PASSWORD } });
    expect(locked.status).toBe(401);
    expect(locked.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.AccessDenied");
    // The same answer as a wrong password: a lockout confirms no user name.
    expect(locked.body.error.message).toBe("invalid user name or password");
    const basic = await request(f.emu.caPem, `${f.url("NV2")}/redfish/v1/Systems`, { auth: ["root", NEW_PASSWORD] });
    expect(basic.status).toBe(401);
    await f.advance(61_000);
    const unlocked = await request(f.emu.caPem, sessions, { method: "POST", body: { UserName: "root", Password: NEW_PASSWORD } });
    expect(unlocked.status).toBe(201);
  });

  it("deletes accounts (their sessions end), but fails if the last Administrator would go", async () => {
    await f.call("NV1", "POST", "/redfish/v1/AccountService/Accounts", { UserName: "ops", Password: "ops-pass-12", RoleId: "Operator" });
    const login = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: "ops", Password: "ops-pass-12" } });
    expect(login.status).toBe(201);
    expect((await f.call("NV1", "DELETE", "/redfish/v1/AccountService/Accounts/ops")).status).toBe(204);
    const stale = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems`, { headers: { "X-Auth-Token": String(login.headers["x-auth-token"]) } });
    expect(stale.status).toBe(401);
    const last = await f.call("NV1", "DELETE", "/redfish/v1/AccountService/Accounts/root");
    expect(last.status).toBe(409);
    expect(last.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.ResourceCannotBeDeleted");
  });

  it("fails if a ReadOnly account writes: 403 InsufficientPrivilege", async () => {
    const created = await f.call("NV1", "POST", "/redfish/v1/AccountService/Accounts", { UserName: "viewer", Password: "viewer-pass-1", RoleId: "ReadOnly" });
    expect(created.status).toBe(201);
    const read = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems/Host`, { auth: ["viewer", "viewer-pass-1"] });
    expect(read.status).toBe(200);
    const write = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems/Host`, { method: "PATCH", body: { Boot: { BootSourceOverrideTarget: "Pxe" } }, auth: ["viewer", "viewer-pass-1"] });
    expect(write.status).toBe(403);
    expect(write.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.InsufficientPrivilege");
  });
});
