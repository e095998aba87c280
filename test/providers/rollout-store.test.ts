import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";
import { PostgresLeaseStore, schemaOf } from "../../providers/rollout/postgres-store";
import { closeRolloutStores, isDeadRun, sharedStoreUrl, storeFor } from "../../providers/rollout/run";
import type { AcquireRequest, LeaseStore } from "../../providers/rollout/store";
import { loadSqlite } from "../../model/sqlite";
import { startCluster, stopCluster } from "../../cli/db/cluster";

const ask = (host: string, extra: Partial<AcquireRequest> = {}): AcquireRequest => ({
  run: "r1",
  holder: `r1/${host}/${Math.random()}`,
  host,
  group: "cluster:east",
  groupSize: 4,
  canary: 0,
  slots: [{ scope: "group:cluster:east", limit: 2 }],
  ttlMs: 60_000,
  now: Date.now(),
  ...extra,
});

/**
 * What every rollout store must do, whatever keeps it: `open(name)` opens the store named
 * `name` (the same name twice: two processes sharing one store).
 */
function storeContract(open: (name: string) => LeaseStore) {
  let n = 0;
  const fresh = () => open(`s${n++}`);

  it("grants distinct hosts up to the budget; another resource of a host already in counts once", async () => {
    const store = fresh();
    expect(await store.acquire(ask("a"))).toMatchObject({ granted: true });
    expect(await store.acquire(ask("a"))).toMatchObject({ granted: true });
    expect(await store.acquire(ask("b"))).toMatchObject({ granted: true });
    expect(await store.acquire(ask("c"))).toMatchObject({ granted: false, waitingFor: expect.stringContaining("2 of 2 held: a, b") });
    store.close();
  });

  it("takes every slot or none, and frees them on release", async () => {
    const store = fresh();
    const pair = { scope: "pair:p1", limit: 1 };
    const a = ask("a", { slots: [{ scope: "group:cluster:east", limit: 2 }, pair] });
    expect(await store.acquire(a)).toMatchObject({ granted: true });
    const b = ask("b", { group: "cluster:west", slots: [{ scope: "group:cluster:west", limit: 2 }, pair] });
    expect(await store.acquire(b)).toMatchObject({ granted: false, waitingFor: expect.stringContaining("pair:p1") });
    // Nothing of b was taken: its group slot is free for another host.
    expect(await store.acquire(ask("c", { group: "cluster:west", slots: [{ scope: "group:cluster:west", limit: 1 }] }))).toMatchObject({ granted: true });
    await store.release(a.holder);
    expect(await store.acquire({ ...b, slots: [pair] })).toMatchObject({ granted: true });
    store.close();
  });

  it("drops an expired lease (a dead run's) at the next acquire; renew keeps a live one", async () => {
    const store = fresh();
    const now = Date.now();
    const dead = ask("a", { run: "dead", slots: [{ scope: "group:cluster:east", limit: 1 }], ttlMs: 1_000, now: now - 5_000 });
    expect(await store.acquire(dead)).toMatchObject({ granted: true });
    expect(await store.renew(dead.holder, 1_000, now)).toBe(false);
    const live = ask("b", { slots: [{ scope: "group:cluster:east", limit: 1 }], ttlMs: 1_000, now });
    expect(await store.acquire(live)).toMatchObject({ granted: true });
    expect(await store.renew(live.holder, 60_000, now + 500)).toBe(true);
    expect(await store.acquire(ask("c", { slots: [{ scope: "group:cluster:east", limit: 1 }], now: now + 2_000 }))).toMatchObject({ granted: false });
    expect(await store.liveRuns(now)).toEqual(["r1"]);
    store.close();
  });

  it("frees at once the leases of a run whose process is gone, not those of a live or unknown one", async () => {
    const store = fresh();
    const now = Date.now();
    const slot = [{ scope: "group:cluster:east", limit: 1 }];
    await store.acquire(ask("a", { run: "dead-run", slots: slot, now }));
    const dead = (run: string) => run === "dead-run";
    expect(await store.acquire(ask("b", { slots: slot, now, isDeadRun: () => false }))).toMatchObject({ granted: false });
    expect(await store.acquire(ask("b", { slots: slot, now, isDeadRun: dead }))).toMatchObject({ granted: true });
    store.close();
  });

  it("keeps the leases of a dead run that name their DPU as orphans, counted and reported, until released or past the orphan limit", async () => {
    const store = fresh();
    const now = Date.now();
    const slot = [{ scope: "group:cluster:east", limit: 1 }];
    const dpu = { url: "https://127.0.0.1:8443", serial: "S1", username: "root", label: "a/nic1" };
    const working = ask("a", { run: "dead-run", slots: slot, now, dpu });
    await store.acquire(working);
    const dead = (run: string) => run === "dead-run";
    const blocked = await store.acquire(ask("b", { slots: slot, now: now + 1, isDeadRun: dead }));
    expect(blocked).toMatchObject({ granted: false, waitingFor: expect.stringContaining("held by a run that is gone while its work may still run on a/nic1") });
    expect(blocked).toMatchObject({ orphans: [{ holder: working.holder, host: "a", run: "dead-run", dpu }] });
    // Lapsed by time alike (a runner on another machine that stopped renewing).
    expect(await store.acquire(ask("b", { slots: slot, now: now + 120_000 }))).toMatchObject({ granted: false, orphans: [{ holder: working.holder }] });
    // Past the orphan limit it goes without a look.
    expect(await store.acquire(ask("b", { slots: slot, now: now + 120_000, orphanLimitMs: 30_000 }))).toMatchObject({ granted: true });
    const again = ask("c", { run: "dead-run", group: "cluster:west", slots: [{ scope: "group:cluster:west", limit: 1 }], now, dpu });
    await store.acquire(again);
    await store.release(again.holder);
    expect(await store.acquire(ask("d", { group: "cluster:west", slots: [{ scope: "group:cluster:west", limit: 1 }], now, isDeadRun: dead }))).toMatchObject({ granted: true });
    store.close();
  });

  it("lapse: a live run's work whose end it did not see keeps its DPU's slots as an orphan; a lease without a DPU is freed", async () => {
    const store = fresh();
    const now = Date.now();
    const slot = [{ scope: "group:cluster:east", limit: 1 }];
    const dpu = { url: "https://127.0.0.1:8443", serial: "S1", username: "root", label: "a/nic1" };
    const working = ask("a", { slots: slot, now, dpu });
    await store.acquire(working);
    await store.lapse(working.holder, now + 1);
    expect(await store.renew(working.holder, 60_000, now + 2)).toBe(false);
    expect(await store.acquire(ask("b", { slots: slot, now: now + 2 }))).toMatchObject({ granted: false, orphans: [{ holder: working.holder, host: "a", dpu }] });
    await store.release(working.holder);
    const plain = ask("b", { slots: slot, now: now + 3 });
    expect(await store.acquire(plain)).toMatchObject({ granted: true });
    await store.lapse(plain.holder, now + 4);
    expect(await store.acquire(ask("c", { slots: slot, now: now + 5 }))).toMatchObject({ granted: true });
    store.close();
  });

  it("canaries: the first go alone, the rest wait until they finished, per run", async () => {
    const store = fresh();
    const canary = { canary: 1, slots: [{ scope: "group:cluster:east", limit: 3 }] };
    const a = ask("a", canary);
    expect(await store.acquire(a)).toEqual({ granted: true, canary: true });
    expect(await store.acquire(ask("b", canary))).toMatchObject({ granted: false, waitingFor: expect.stringMatching(/canaries of cluster:east \(a\)/) });
    await store.release(a.holder);
    expect(await store.acquire(ask("b", canary))).toMatchObject({ granted: false });
    await store.finish("r1", "cluster:east", "a", "passed");
    expect(await store.passed("r1", "cluster:east")).toEqual(["a"]);
    expect(await store.acquire(ask("b", canary))).toEqual({ granted: true, canary: false });
    expect(await store.acquire(ask("c", canary))).toEqual({ granted: true, canary: false });
    // Another run starts with its own canary.
    expect(await store.acquire(ask("d", { ...canary, run: "r2" }))).toMatchObject({ granted: false, waitingFor: expect.stringContaining("a canary goes alone") });
    store.close();
  });

  it("a halt refuses its group in its run only", async () => {
    const store = fresh();
    await store.halt("r1", "cluster:east", "a: health gate failed", Date.now());
    expect(await store.acquire(ask("b"))).toEqual({ granted: false, halted: "a: health gate failed" });
    expect(await store.acquire(ask("b", { group: "cluster:west", slots: [{ scope: "group:cluster:west", limit: 1 }] }))).toMatchObject({ granted: true });
    expect(await store.acquire(ask("b", { run: "r2" }))).toMatchObject({ granted: true });
    expect(await store.isHalted("r2", "cluster:east")).toBeUndefined();
    store.close();
  });

  it("a host in maintenance holds a slot of its group until it is out, whoever left it there; it may go itself; other groups' do not count", async () => {
    const store = fresh();
    const slots = [{ scope: "group:cluster:east", limit: 1 }];
    await store.markMaintenance("a", { run: "killed", since: 1, note: "", group: "cluster:east" });
    expect(await store.maintenance()).toEqual([{ host: "a", run: "killed", since: 1, note: "", group: "cluster:east" }]);
    expect(await store.acquire(ask("b", { slots }))).toMatchObject({ granted: false, waitingFor: expect.stringContaining("1 of 1 held: a; in maintenance: a") });
    expect(await store.acquire(ask("w", { group: "cluster:west", slots: [{ scope: "group:cluster:west", limit: 1 }] }))).toMatchObject({ granted: true });
    expect(await store.acquire(ask("a", { slots, holder: "r1/a/1" }))).toMatchObject({ granted: true });
    await store.markMaintenance("a", undefined);
    await store.release("r1/a/1");
    expect(await store.acquire(ask("b", { slots, holder: "r1/b/1" }))).toMatchObject({ granted: true });
    await store.release("r1/b/1");
    // This run's own record (taken over from a killed run) with no lease: still unavailable.
    await store.markMaintenance("c", { run: "r1", since: 2, note: "", group: "cluster:east" });
    expect(await store.acquire(ask("b", { slots }))).toMatchObject({ granted: false, waitingFor: expect.stringContaining("in maintenance: c") });
    // Its disruption failed here and none holds it now: nothing in this run takes it out, so no waiting.
    await store.markMaintenance("c", { run: "r1", since: 2, note: "DPU OS install failed", group: "cluster:east" });
    expect(await store.acquire(ask("b", { slots }))).toEqual({ granted: false, halted: expect.stringMatching(/^c failed in this run and is left in maintenance, using cluster:east's budget of 1/) });
    // While another disruption of it holds a slot (it takes the host out at its end), others wait.
    expect(await store.acquire(ask("c", { slots, holder: "r1/c/2" }))).toMatchObject({ granted: true });
    expect(await store.acquire(ask("b", { slots }))).toMatchObject({ granted: false, waitingFor: expect.stringContaining("held: c") });
    await store.release("r1/c/2");
    await store.markMaintenance("c", undefined);
    expect(await store.acquire(ask("b", { slots }))).toMatchObject({ granted: true });
    store.close();
  });

  it("is shared between processes: two stores on one file or database never both take the last slot", async () => {
    const one = open("shared");
    const two = open("shared");
    const slots = [{ scope: "group:cluster:east", limit: 1 }];
    const answers = await Promise.all([one.acquire(ask("a", { slots })), two.acquire(ask("b", { slots }))]);
    expect(answers.filter((x) => x.granted)).toHaveLength(1);
    await one.markMaintenance("a", { run: "r1", since: 1, note: "" });
    expect(await two.maintenance()).toEqual([{ host: "a", run: "r1", since: 1, note: "" }]);
    one.close();
    two.close();
  });
}

describe("rollout lease store (SQLite)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-rollout-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  storeContract((name) => new SqliteLeaseStore(path.join(dir, `${name}.db`)));

  it("declares dead only a run of this machine whose pid no longer exists", () => {
    const gone = spawnSync(process.execPath, ["-e", "0"]).pid as number;
    expect(isDeadRun(`${os.hostname()}:${gone}:2026-12-01T00:00:00.000Z:abcd`)).toBe(true);
    expect(isDeadRun(`${os.hostname()}:${process.ppid}:2026-12-01T00:00:00.000Z:abcd`)).toBe(false);
    expect(isDeadRun(`another-machine:${gone}:2026-12-01T00:00:00.000Z:abcd`)).toBe(false);
    expect(isDeadRun("dead-run")).toBe(false);
  });

  it("opens a file of an older version, whose maintenance records have no group", async () => {
    const file = path.join(dir, "old.db");
    const old = new (loadSqlite().DatabaseSync)(file);
    old.exec("CREATE TABLE maintenance (host TEXT PRIMARY KEY, run TEXT NOT NULL, since INTEGER NOT NULL, note TEXT NOT NULL); INSERT INTO maintenance VALUES ('a', 'r0', 1, '')");
    old.close();
    const store = new SqliteLeaseStore(file);
    expect(await store.maintenance()).toEqual([{ host: "a", run: "r0", since: 1, note: "" }]);
    expect(await store.acquire(ask("b", { slots: [{ scope: "group:cluster:east", limit: 1 }] }))).toMatchObject({ granted: true });
    store.close();
  });
});

describe("rollout lease store (PostgreSQL)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-rollout-pg-"));
  let url = "";
  beforeAll(async () => {
    url = await startCluster(dir);
  }, 180_000);
  afterAll(() => {
    stopCluster(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  storeContract((name) => new PostgresLeaseStore(url, name));

  it("keeps each stack in a schema of its own: one database, many stacks", async () => {
    const east = new PostgresLeaseStore(url, "Lab.East");
    const west = new PostgresLeaseStore(url, "lab-west");
    expect(schemaOf("Lab.East")).toBe("smartfleet_rollout_lab_east");
    const slots = [{ scope: "group:cluster:east", limit: 1 }];
    expect(await east.acquire(ask("a", { slots }))).toMatchObject({ granted: true });
    expect(await west.acquire(ask("b", { slots }))).toMatchObject({ granted: true });
    expect(await east.acquire(ask("c", { slots }))).toMatchObject({ granted: false });
    east.close();
    west.close();
  });

  it("says which setting is wrong when the database refuses the login, and is chosen by SMARTFLEET_ROLLOUT_STORE", async () => {
    const wrong = new PostgresLeaseStore(url.replace(/:[^:@/]+@/, ":not-the-password@"), "x");
    await expect(wrong.maintenance()).rejects.toThrow(/rollout store in PostgreSQL \(SMARTFLEET_ROLLOUT_STORE\) cannot be used: .*password authentication failed/);
    wrong.close();
    expect(sharedStoreUrl({ SMARTFLEET_ROLLOUT_STORE: url })).toBe(url);
    expect(sharedStoreUrl({})).toBeUndefined();
    expect(() => sharedStoreUrl({ SMARTFLEET_ROLLOUT_STORE: "/var/lib/rollout.db" })).toThrow(/must be a postgres:\/\/ URL/);
  });

  it("storeFor opens the PostgreSQL store (its module loaded on first use) when SMARTFLEET_ROLLOUT_STORE is set", async () => {
    const was = process.env.SMARTFLEET_ROLLOUT_STORE;
    process.env.SMARTFLEET_ROLLOUT_STORE = url;
    try {
      const store = storeFor("lazily-loaded");
      expect(store.constructor.name).toBe("PostgresLeaseStore");
      await expect(store.maintenance()).resolves.not.toThrow();
    } finally {
      closeRolloutStores();
      if (was === undefined) delete process.env.SMARTFLEET_ROLLOUT_STORE;
      else process.env.SMARTFLEET_ROLLOUT_STORE = was;
    }
  });
});
