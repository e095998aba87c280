import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RolloutReader, rolloutStoreFile } from "../../cli/dashboard/rollout-now";
import { PostgresRolloutSource, rolloutReaderFor } from "../../cli/dashboard/rollout-postgres";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";
import { tempDir } from "../support/stack-fixtures";

const files = tempDir("smartfleet-dashboard-rollout-");

/**
 * The rollout now as the dashboard reads it: the store the providers write
 * (`SqliteLeaseStore`), opened read-only — nothing before a rollout created it, the hosts
 * holding unexpired slots, the hosts in maintenance; PostgreSQL chosen as the providers
 * choose it (its reading against a real server: test/e2e/dashboard-postgres.test.ts).
 */
describe("dashboard rollout reader", () => {
  afterAll(() => files.cleanup());

  it("finds the store where the providers of a project keep it, by the stack file's name", () => {
    const saved = process.env.SMARTFLEET_ROLLOUT_DIR;
    delete process.env.SMARTFLEET_ROLLOUT_DIR;
    try {
      expect(rolloutStoreFile("/p", "lab")).toBe(path.join("/p", ".smartfleet", "rollout", "lab.db"));
      expect(rolloutStoreFile("/p", "a b/c")).toBe(path.join("/p", ".smartfleet", "rollout", "a_b_c.db"));
    } finally {
      if (saved !== undefined) process.env.SMARTFLEET_ROLLOUT_DIR = saved;
    }
  });

  it("reads no store before one exists (and creates none), then the slots held and the hosts in maintenance", async () => {
    const file = path.join(files.dir, "rollout", "lab.db");
    const reader = new RolloutReader(file);
    expect(reader.latest()).toEqual({ file, exists: false, disrupted: [], maintenance: [] });
    expect(await reader.read()).toEqual({ file, exists: false, disrupted: [], maintenance: [] });
    const store = new SqliteLeaseStore(file);
    try {
      const now = 1_000_000;
      const slots = [{ scope: "group:cluster:east", limit: 2 }, { scope: "pair:witness", limit: 1 }];
      const base = { run: "r1", group: "cluster:east", groupSize: 2, canary: 0, ttlMs: 60_000, now };
      expect(await store.acquire({ ...base, holder: "a", host: "esx-01", slots })).toMatchObject({ granted: true });
      expect(await store.acquire({ ...base, holder: "b", host: "esx-02", slots: slots.slice(0, 1), ttlMs: 10 })).toMatchObject({ granted: true });
      await store.markMaintenance("esx-01", { run: "r1", since: now, note: "", group: "cluster:east" });
      const read = await reader.read(now + 1_000);
      expect(read.exists).toBe(true);
      // esx-02's lease expired at now + 10: it holds nothing any more.
      expect(read.disrupted).toEqual([{ host: "esx-01", scopes: ["group:cluster:east", "pair:witness"], run: "r1", expiresAt: now + 60_000 }]);
      expect(read.maintenance).toEqual([{ host: "esx-01", run: "r1", since: now, note: "", group: "cluster:east" }]);
    } finally {
      store.close();
      reader.close();
    }
  });

  it("reads PostgreSQL when the providers keep the store there (SMARTFLEET_ROLLOUT_STORE); a database it cannot reach is a note, not an error", async () => {
    const saved = process.env.SMARTFLEET_ROLLOUT_STORE;
    // Nothing listens on port 1 of this loopback address: the connection is refused at once.
    process.env.SMARTFLEET_ROLLOUT_STORE = "postgres://runner:secret@127.219.0.1:1/rollout";
    try {
      const reader = rolloutReaderFor(files.dir, "lab");
      // Before the first read nothing is waited for: the rollout is not known yet.
      expect(reader.latest()).toEqual({ file: "postgres://runner@127.219.0.1:1/rollout (schema smartfleet_rollout_lab)", exists: false, disrupted: [], maintenance: [] });
      const read = await reader.read();
      expect(read).toMatchObject({ exists: false, disrupted: [], maintenance: [] });
      expect(read.note).toMatch(/^the rollout store in PostgreSQL cannot be read: /);
      expect(JSON.stringify(read)).not.toContain("secret");
      reader.close();
      process.env.SMARTFLEET_ROLLOUT_STORE = "/var/rollout.db";
      expect(() => rolloutReaderFor(files.dir, "lab")).toThrow(/must be a postgres:\/\/ URL/);
      expect(new PostgresRolloutSource("postgresql://u:p@h:5/d?sslmode=disable", "a b").name).toBe("postgresql://u@h:5/d (schema smartfleet_rollout_a_b)");
    } finally {
      if (saved === undefined) delete process.env.SMARTFLEET_ROLLOUT_STORE;
      else process.env.SMARTFLEET_ROLLOUT_STORE = saved;
    }
  });
});
