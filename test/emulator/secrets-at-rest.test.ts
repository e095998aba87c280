/**
 * Secrets at rest: the state files hold no password or session token, are owner-only, and
 * the admin API returns neither.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { admin, NEW_PASSWORD, request, startTestFleet, tempStateDir } from "./helpers";

const FACTORY = ["0penBmc", "N0tSecret", "1ntelIpu"];
const DB_FILES = ["state.db", "state.db-wal", "state.db-shm"];

/** How often each secret appears in the bytes of the database files. */
function hits(stateDir: string, secrets: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const bytes = DB_FILES.map((f) => path.join(stateDir, f)).filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f));
  for (const secret of secrets) {
    let n = 0;
    for (const b of bytes) for (let at = b.indexOf(secret); at >= 0; at = b.indexOf(secret, at + 1)) n++;
    counts[secret] = n;
  }
  return counts;
}

/** Every key anywhere in a JSON value. */
function keys(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keys(v, out);
  else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) (out.add(k), keys(v, out));
  return out;
}

describe("secrets at rest", () => {
  it("keeps passwords and session tokens out of state.db and its WAL, owner-only, and out of the admin API", async () => {
    const stateDir = tempStateDir();
    fs.chmodSync(stateDir, 0o755);
    const f = await startTestFleet({ stateDir });
    const tokens: string[] = [];
    try {
      await f.claim("NV1");
      await f.claim("AMD1");
      for (let i = 0; i < 5; i++) {
        const login = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: "root", Password: NEW_PASSWORD } });
        expect(login.status).toBe(201);
        tokens.push(String(login.headers["x-auth-token"]));
      }
      const factoryLogin = await request(f.emu.caPem, `${f.url("NV2")}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: "root", Password: "0penBmc" } });
      tokens.push(String(factoryLogin.headers["x-auth-token"]));
      // Plenty of writes: each rewrites the DPU's document.
      for (let i = 0; i < 20; i++) await f.call("NV1", "PATCH", "/redfish/v1/Systems/Host", { Boot: { BootSourceOverrideTarget: i % 2 ? "Pxe" : "Hdd", BootSourceOverrideEnabled: "Once" } });
      const counts = hits(stateDir, [NEW_PASSWORD, ...FACTORY, ...tokens]);
      console.log(`plain-text secrets in state.db/-wal/-shm: ${JSON.stringify(counts)}`);
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
      expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
      for (const file of DB_FILES.filter((x) => fs.existsSync(path.join(stateDir, x)))) expect(fs.statSync(path.join(stateDir, file)).mode & 0o777, file).toBe(0o600);
      expect(fs.existsSync(path.join(stateDir, "state.db-wal"))).toBe(true);

      for (const serial of ["NV1", "NV2", "AMD1"]) {
        for (const route of [`/admin/v1/dpus/${serial}/state`, `/admin/v1/dpus/${serial}/faults`, "/admin/v1/dpus", "/admin/v1/counters"]) {
          const answer = await admin(f.emu, "GET", route);
          expect(answer.status, route).toBe(200);
          const text = JSON.stringify(answer.body);
          for (const secret of [NEW_PASSWORD, ...FACTORY, ...tokens]) expect(text, route).not.toContain(secret);
          for (const k of keys(answer.body)) expect(k, route).not.toMatch(/^(password|passwordHash|token|tokenHash)$/i);
        }
      }
      for (const kind of ["hostname"]) {
        const drift = await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind, value: "x" });
        for (const k of keys(drift.body)) expect(k).not.toMatch(/^(password|passwordHash|token|tokenHash)$/i);
      }
      // A session is still identifiable: the fingerprint is the SHA-256 of its token.
      const state = (await admin(f.emu, "GET", "/admin/v1/dpus/NV1/state")).body.state as { sessions: Array<{ fingerprint: string }> };
      const { createHash } = await import("node:crypto");
      expect(state.sessions.map((s) => s.fingerprint)).toContain(createHash("sha256").update(tokens[0]).digest("hex"));
    } finally {
      await f.emu.stop();
    }
    // Modes are restored on the next start even when someone loosened them.
    fs.chmodSync(stateDir, 0o755);
    fs.chmodSync(path.join(stateDir, "state.db"), 0o644);
    const again = await startTestFleet({ stateDir, clock: f.clock, inventory: undefined });
    try {
      expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
      for (const file of DB_FILES.filter((x) => fs.existsSync(path.join(stateDir, x)))) expect(fs.statSync(path.join(stateDir, file)).mode & 0o777, file).toBe(0o600);
      // The stored hashes still log in after a restart.
      expect((await again.call("NV1", "GET", "/redfish/v1/Systems")).status).toBe(200);
    } finally {
      await again.emu.stop();
    }
  });

  it("rehashes the plain text an older emulator stored, and purges it from the files", async () => {
    const stateDir = tempStateDir();
    const f = await startTestFleet({ stateDir });
    await f.claim("NV1");
    const inventory = f.emu.endpoints;
    await f.emu.stop();
    // Write the old format: a plain password and a plain token, as the emulator did before.
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path.join(stateDir, "state.db"));
    const row = db.prepare("SELECT doc FROM dpus WHERE serial = 'NV1'").get() as { doc: string };
    const doc = JSON.parse(row.doc);
    doc.accounts[0] = { ...doc.accounts[0], password: "Legacy-Plain-Pass1", failedLogins: 0 };
    delete doc.accounts[0].passwordHash;
    doc.sessions = [{ id: "99", token: "legacytoken0123456789abcdef", accountId: doc.accounts[0].id, lastUsed: 0 }];
    db.prepare("UPDATE dpus SET doc = ? WHERE serial = 'NV1'").run(JSON.stringify(doc));
    db.close();
    expect(hits(stateDir, ["Legacy-Plain-Pass1"])["Legacy-Plain-Pass1"]).toBeGreaterThan(0);
    const again = await startTestFleet({ stateDir, clock: f.clock });
    try {
      expect(inventory.dpus.length).toBeGreaterThan(0);
      const counts = hits(stateDir, ["Legacy-Plain-Pass1", "legacytoken0123456789abcdef"]);
      expect(counts).toEqual({ "Legacy-Plain-Pass1": 0, legacytoken0123456789abcdef: 0 });
      const ok = await request(again.emu.caPem, `${again.url("NV1")}/redfish/v1/Systems`, { auth: ["root", "Legacy-Plain-Pass1"] });
      expect(ok.status).toBe(200);
    } finally {
      await again.emu.stop();
    }
  });
});
