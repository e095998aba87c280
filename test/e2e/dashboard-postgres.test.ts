/**
 * The dashboard's rollout now from the rollout store in PostgreSQL: a local cluster
 * (`startCluster`, what `smartfleet db start` runs: Debian's PostgreSQL on 127.0.0.1), leases
 * and maintenance written by the providers' own store (`PostgresLeaseStore`), read by the
 * reader the dashboard picks when `SMARTFLEET_ROLLOUT_STORE` is set, and by the refresh loop
 * (`FleetMonitor`), whose hosts then carry the rollout's flags.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetMonitor } from "../../cli/dashboard/monitor";
import { rolloutReaderFor } from "../../cli/dashboard/rollout-postgres";
import { startCluster, stopCluster } from "../../cli/db/cluster";
import { loadStackSync } from "../../model/load";
import { stackTopology } from "../../model/topology";
import { PostgresLeaseStore } from "../../providers/rollout/postgres-store";

/** The graph fixture: hosts alpha, beta (cluster blue) and gamma. */
const STACK = path.resolve(__dirname, "..", "fixtures", "graph", "stack.yaml");

describe("dashboard rollout now from PostgreSQL", () => {
  let dir: string;
  let url = "";
  let store: PostgresLeaseStore;
  const saved = process.env.SMARTFLEET_ROLLOUT_STORE;
  const now = Date.now();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-dashboard-pg-"));
    // The server runs as the postgres account when we are root: it must reach the cluster's folder.
    fs.chmodSync(dir, 0o711);
    url = await startCluster(path.join(dir, "pg"));
    process.env.SMARTFLEET_ROLLOUT_STORE = url;
    store = new PostgresLeaseStore(url, "lab");
    const slots = [{ scope: "group:cluster:blue", limit: 2 }, { scope: "pair:witness", limit: 1 }];
    const base = { run: "runner-a", group: "cluster:blue", groupSize: 2, canary: 0, ttlMs: 60_000, now };
    expect(await store.acquire({ ...base, holder: "a", host: "alpha", slots })).toMatchObject({ granted: true });
    // A lease that lapsed 10 ms after it was taken holds nothing.
    expect(await store.acquire({ ...base, holder: "b", host: "beta", slots: slots.slice(0, 1), ttlMs: 10 })).toMatchObject({ granted: true });
    await store.markMaintenance("alpha", { run: "runner-a", since: now, note: "draining", group: "cluster:blue" });
  }, 120_000);

  afterAll(() => {
    store?.close();
    if (saved === undefined) delete process.env.SMARTFLEET_ROLLOUT_STORE;
    else process.env.SMARTFLEET_ROLLOUT_STORE = saved;
    if (url) stopCluster(path.join(dir, "pg"));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it("reads the unexpired leases by host and the maintenance records of the stack's schema, creating nothing for a stack without one", async () => {
    const reader = rolloutReaderFor(dir, "lab");
    try {
      const read = await reader.read(now + 1_000);
      expect(read.note).toBeUndefined();
      expect(read.exists).toBe(true);
      expect(read.file).toMatch(/^postgres:\/\/smartfleet@127\.0\.0\.1:\d+\/pulumi \(schema smartfleet_rollout_lab\)$/);
      expect(read.disrupted).toEqual([{ host: "alpha", scopes: ["group:cluster:blue", "pair:witness"], run: "runner-a", expiresAt: now + 60_000 }]);
      expect(read.maintenance).toEqual([{ host: "alpha", run: "runner-a", since: now, note: "draining", group: "cluster:blue" }]);
      expect(reader.latest()).toBe(read);
    } finally {
      reader.close();
    }
    const other = rolloutReaderFor(dir, "other");
    try {
      expect(await other.read()).toMatchObject({ exists: false, disrupted: [], maintenance: [] });
      expect((await other.read()).note).toBeUndefined();
    } finally {
      other.close();
    }
    // The reader created no schema for the stack it found none of.
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      const schemas = await client.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'smartfleet_rollout_%' ORDER BY nspname");
      expect(schemas.rows.map((r) => r.nspname)).toEqual(["smartfleet_rollout_lab"]);
    } finally {
      await client.end();
    }
  });

  it("the refresh loop's state carries it: alpha disrupted now and in maintenance, beta neither", async () => {
    const loaded = loadStackSync(STACK);
    const declared = stackTopology(loaded);
    const monitor = new FleetMonitor({
      pulumiStack: "dev",
      loaded,
      declared,
      targets: [],
      caPem: "",
      rollout: rolloutReaderFor(dir, "lab"),
      intervalMs: 60_000,
      maxStreams: 0,
      observe: async () => ({ observed: {}, requests: {} }),
    });
    try {
      // Before a refresh the state does not wait for the database.
      expect(monitor.current().rollout.exists).toBe(false);
      const state = await monitor.refresh();
      expect(state.rollout.disrupted.map((d) => d.host)).toEqual(["alpha"]);
      expect(state.nodes.find((n) => n.id === "host:alpha")?.rollout).toEqual(["disrupted", "maintenance"]);
      expect(state.nodes.find((n) => n.id === "host:beta")?.rollout).toBeUndefined();
    } finally {
      await monitor.stop();
    }
  });
});
