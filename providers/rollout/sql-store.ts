/**
 * The rollout store's logic in SQL that SQLite and PostgreSQL both run (`?` placeholders,
 * `ON CONFLICT`, unqualified table names): `sqlite-store.ts` runs it on a local file,
 * `postgres-store.ts` on a shared database, so a budget means the same on one machine and
 * across runners. Each store supplies a connection and a write transaction that excludes
 * every other writer of the same store (in this process and in others).
 */
import { isFailedNote, type AcquireRequest, type AcquireResult, type LeaseDpu, type LeaseStore, type MaintenanceRecord, type OrphanLease } from "./store";

/** Statements on one connection (or one transaction). */
export interface SqlRunner {
  /** The rows of a query. */
  all<T>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement; answers how many rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

/** The tables (integers are epoch ms: BIGINT, which SQLite takes as INTEGER). */
export const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS leases (
    scope TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL, run TEXT NOT NULL, expires_at BIGINT NOT NULL, dpu TEXT,
    PRIMARY KEY (scope, holder))`,
  "CREATE INDEX IF NOT EXISTS leases_holder ON leases (holder)",
  "CREATE TABLE IF NOT EXISTS halts (run TEXT NOT NULL, grp TEXT NOT NULL, reason TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (run, grp))",
  `CREATE TABLE IF NOT EXISTS progress (
    run TEXT NOT NULL, grp TEXT NOT NULL, host TEXT NOT NULL, started_at BIGINT NOT NULL, outcome TEXT,
    PRIMARY KEY (run, grp, host))`,
  "CREATE TABLE IF NOT EXISTS maintenance (host TEXT PRIMARY KEY, run TEXT NOT NULL, since BIGINT NOT NULL, note TEXT NOT NULL, grp TEXT)",
];

/** How long an orphan lease is kept without a look at its DPU: longer than any disruption takes (a DPU OS install is about 8 minutes). */
export const DEFAULT_ORPHAN_LIMIT_MS = 60 * 60_000;

/** The orphan leases (lapsed, with a DPU) of a scope, one per holder. */
async function orphansIn(db: SqlRunner, scope: string, now: number): Promise<OrphanLease[]> {
  const rows = await db.all<{ holder: string; host: string; run: string; dpu: string; expires_at: number }>(
    "SELECT holder, host, run, dpu, expires_at FROM leases WHERE scope = ? AND dpu IS NOT NULL AND expires_at <= ? ORDER BY holder",
    [scope, now],
  );
  return rows.map((x) => ({ holder: x.holder, host: x.host, run: x.run, dpu: JSON.parse(x.dpu) as LeaseDpu, since: Number(x.expires_at) }));
}

/** Hosts this run left in maintenance after their disruption failed, holding no lease of `scope` now. */
async function failedHere(db: SqlRunner, maintained: ReadonlyArray<{ host: string; run: string; note: string }>, run: string, scope: string): Promise<string[]> {
  const failed = maintained.filter((m) => m.run === run && isFailedNote(m.note)).map((m) => m.host);
  if (failed.length === 0) return [];
  const holding = new Set((await db.all<{ host: string }>("SELECT DISTINCT host FROM leases WHERE scope = ?", [scope])).map((x) => x.host));
  return failed.filter((h) => !holding.has(h)).sort();
}

/** What an acquire decides on, read under the lock. */
interface AcquireState {
  /** Other runs holding an unexpired lease. */
  runs: string[];
  /** Why the group is halted in this run, if it is. */
  halted?: string;
  /** The group's other hosts recorded in maintenance. */
  maintained: Array<{ host: string; run: string; note: string }>;
  /** How many other hosts hold each scope asked for (counted in SQL: a fleet-wide budget has every host of the fleet in one scope). */
  counts: Map<string, number>;
}

/**
 * The state an acquire decides on, in one statement: every statement under the lock is a
 * round trip to PostgreSQL that every other runner's acquire waits for (`bench/README.md`,
 * "2026-12-05, 06:16"), so the four reads go as one.
 */
async function readAcquireState(db: SqlRunner, r: AcquireRequest): Promise<AcquireState> {
  const scopes = r.slots.map((slot) => slot.scope);
  // Each read beside its own values, so the placeholders cannot drift from them.
  const reads: Array<[string, unknown[]]> = [
    ["SELECT 'run' AS kind, run AS a, NULL AS b, NULL AS c FROM leases WHERE run <> ? AND expires_at > ? GROUP BY run", [r.run, r.now]],
    ["SELECT 'halt', reason, NULL, NULL FROM halts WHERE run = ? AND grp = ?", [r.run, r.group]],
    ["SELECT 'maintenance', host, run, note FROM maintenance WHERE grp = ? AND host <> ?", [r.group, r.host]],
  ];
  if (scopes.length > 0) {
    reads.push([`SELECT 'count', scope, CAST(COUNT(DISTINCT host) AS TEXT), NULL FROM leases WHERE scope IN (${scopes.map(() => "?").join(", ")}) AND host <> ? GROUP BY scope`, [...scopes, r.host]]);
  }
  const rows = await db.all<{ kind: string; a: string; b: string | null; c: string | null }>(reads.map(([sql]) => sql).join(" UNION ALL "), reads.flatMap(([, values]) => values));
  const state: AcquireState = { runs: [], maintained: [], counts: new Map() };
  for (const row of rows) {
    if (row.kind === "run") state.runs.push(row.a);
    else if (row.kind === "halt") state.halted = row.a;
    else if (row.kind === "maintenance") state.maintained.push({ host: row.a, run: String(row.b), note: String(row.c) });
    else state.counts.set(row.a, Number(row.b));
  }
  return state;
}

/** A rollout store over SQL; see the file comment. */
export abstract class SqlLeaseStore implements LeaseStore {
  /** Autocommit statements. */
  protected abstract readonly db: SqlRunner;
  /** Runs `fn` in a write transaction no other writer of this store runs beside. */
  protected abstract transaction<T>(fn: (db: SqlRunner) => Promise<T>): Promise<T>;
  abstract close(): void;

  acquire(r: AcquireRequest): Promise<AcquireResult> {
    return this.transaction(async (db) => {
      // A lapsed lease frees its slot, unless it names the DPU its work runs on: then it is an
      // orphan until a waiter has seen that work over (release) or the orphan limit passes.
      await db.run("DELETE FROM leases WHERE expires_at <= ? AND (dpu IS NULL OR expires_at <= ?)", [r.now, r.now - (r.orphanLimitMs ?? DEFAULT_ORPHAN_LIMIT_MS)]);
      let state = await readAcquireState(db, r);
      const dead = state.runs.filter((run) => r.isDeadRun?.(run));
      for (const run of dead) {
        await db.run("DELETE FROM leases WHERE run = ? AND dpu IS NULL", [run]);
        await db.run("UPDATE leases SET expires_at = ? WHERE run = ?", [r.now, run]);
      }
      // What the dead runs held is freed (or orphaned): counted again.
      if (dead.length > 0) state = await readAcquireState(db, r);
      if (state.halted !== undefined) return { granted: false, halted: state.halted };
      const groupScope = `group:${r.group}`;
      // A host of the group in maintenance is unavailable whoever took it there and whatever
      // became of their leases: another run (a killed up: its install may have ended, its
      // workloads are still away), or this one (a record this run took over from a killed
      // run, a disruption that failed before its work). It holds a slot of the group until
      // a run takes it out. (Counting only other runs' records let a second host of a group
      // go down beside one this run had re-recorded and held no lease for: seen in CI.)
      const { maintained } = state;
      const leftIn = maintained.map((x) => x.host);
      const othersIn = async (scope: string): Promise<string[]> => {
        const holders = (await db.all<{ host: string }>("SELECT DISTINCT host FROM leases WHERE scope = ? AND host <> ?", [scope, r.host])).map((x) => x.host);
        return [...new Set(scope === groupScope ? [...holders, ...leftIn] : holders)].sort();
      };
      const countOthersIn = async (scope: string): Promise<number> => {
        if (scope === groupScope && leftIn.length > 0) return (await othersIn(scope)).length;
        return state.counts.get(scope) ?? 0;
      };
      let canary = false;
      if (r.canary > 0) {
        // Canaries: counted per run among the hosts that started; a host already started goes on.
        const [row] = await db.all<{ started: number | string; done: number | string | null; mine: number | string | null }>(
          "SELECT COUNT(*) AS started, SUM(CASE WHEN outcome IS NOT NULL THEN 1 ELSE 0 END) AS done, SUM(CASE WHEN host = ? THEN 1 ELSE 0 END) AS mine FROM progress WHERE run = ? AND grp = ?",
          [r.host, r.run, r.group],
        );
        const canaries = Math.min(r.canary, r.groupSize);
        const startedBefore = Number(row?.mine ?? 0) > 0;
        if (!startedBefore && Number(row?.started ?? 0) < canaries) {
          canary = true;
          const busy = await othersIn(groupScope);
          if (busy.length > 0) return { granted: false, waitingFor: `${groupScope} (a canary goes alone; held by ${busy.join(", ")})` };
        } else if (!startedBefore && Number(row?.done ?? 0) < canaries) {
          const hosts = await db.all<{ host: string }>("SELECT host FROM progress WHERE run = ? AND grp = ? ORDER BY started_at, host", [r.run, r.group]);
          return { granted: false, waitingFor: `the canaries of ${r.group} (${hosts.map((x) => x.host).join(", ")}) to pass their health gate` };
        }
      }
      for (const slot of r.slots) {
        if ((await countOthersIn(slot.scope)) < slot.limit) continue;
        const holders = await othersIn(slot.scope);
        const stuck = slot.scope === groupScope ? await failedHere(db, maintained, r.run, slot.scope) : [];
        // Nothing in this run will take out a host whose disruption failed here and that no
        // disruption holds now: waiting for it would never end.
        if (stuck.length > 0) return { granted: false, halted: `${stuck.join(", ")} failed in this run and ${stuck.length === 1 ? "is" : "are"} left in maintenance, using ${r.group}'s budget of ${slot.limit}; take ${stuck.length === 1 ? "it" : "them"} out once repaired, or run again` };
        const left = holders.filter((h) => leftIn.includes(h));
        const orphans = await orphansIn(db, slot.scope, r.now);
        const why = [
          ...(left.length > 0 ? [`in maintenance: ${left.join(", ")}`] : []),
          ...(orphans.length > 0 ? [`held by a run that is gone while its work may still run on ${orphans.map((o) => o.dpu.label).join(", ")}`] : []),
        ];
        return { granted: false, waitingFor: `${slot.scope} (${holders.length} of ${slot.limit} held: ${holders.join(", ")}${why.map((w) => `; ${w}`).join("")})`, ...(orphans.length ? { orphans } : {}) };
      }
      if (r.slots.length > 0) {
        // Every slot in one statement, for the reason readAcquireState gives.
        const dpu = r.dpu ? JSON.stringify(r.dpu) : null;
        await db.run(
          `INSERT INTO leases (scope, holder, host, run, expires_at, dpu) VALUES ${r.slots.map(() => "(?, ?, ?, ?, ?, ?)").join(", ")} ON CONFLICT (scope, holder) DO UPDATE SET host = excluded.host, run = excluded.run, expires_at = excluded.expires_at, dpu = excluded.dpu`,
          r.slots.flatMap((slot) => [slot.scope, r.holder, r.host, r.run, r.now + r.ttlMs, dpu]),
        );
      }
      await db.run("INSERT INTO progress (run, grp, host, started_at, outcome) VALUES (?, ?, ?, ?, NULL) ON CONFLICT (run, grp, host) DO NOTHING", [r.run, r.group, r.host, r.now]);
      return { granted: true, canary };
    });
  }

  async renew(holder: string, ttlMs: number, now: number): Promise<boolean> {
    return (await this.db.run("UPDATE leases SET expires_at = ? WHERE holder = ? AND expires_at > ?", [now + ttlMs, holder, now])) > 0;
  }

  async release(holder: string): Promise<void> {
    await this.db.run("DELETE FROM leases WHERE holder = ?", [holder]);
  }

  async lapse(holder: string, now: number): Promise<void> {
    await this.db.run("UPDATE leases SET expires_at = ? WHERE holder = ? AND expires_at > ?", [now, holder, now]);
  }

  async halt(run: string, group: string, reason: string, now: number): Promise<void> {
    await this.db.run("INSERT INTO halts (run, grp, reason, at) VALUES (?, ?, ?, ?) ON CONFLICT (run, grp) DO NOTHING", [run, group, reason, now]);
  }

  async isHalted(run: string, group: string): Promise<string | undefined> {
    const [row] = await this.db.all<{ reason: string }>("SELECT reason FROM halts WHERE run = ? AND grp = ?", [run, group]);
    return row?.reason;
  }

  async finish(run: string, group: string, host: string, outcome: "passed" | "failed"): Promise<void> {
    // A host that passed once stays passed (a second resource of it failing does not undo the canary).
    await this.db.run(
      "INSERT INTO progress (run, grp, host, started_at, outcome) VALUES (?, ?, ?, 0, ?) ON CONFLICT (run, grp, host) DO UPDATE SET outcome = CASE WHEN progress.outcome = 'passed' THEN progress.outcome ELSE excluded.outcome END",
      [run, group, host, outcome],
    );
  }

  async passed(run: string, group: string): Promise<string[]> {
    return (await this.db.all<{ host: string }>("SELECT host FROM progress WHERE run = ? AND grp = ? AND outcome = 'passed' ORDER BY host", [run, group])).map((x) => x.host);
  }

  async markMaintenance(host: string, record: Omit<MaintenanceRecord, "host"> | undefined): Promise<void> {
    if (record === undefined) await this.db.run("DELETE FROM maintenance WHERE host = ?", [host]);
    else {
      await this.db.run(
        "INSERT INTO maintenance (host, run, since, note, grp) VALUES (?, ?, ?, ?, ?) ON CONFLICT (host) DO UPDATE SET run = excluded.run, since = excluded.since, note = excluded.note, grp = excluded.grp",
        [host, record.run, record.since, record.note, record.group ?? null],
      );
    }
  }

  async maintenance(): Promise<MaintenanceRecord[]> {
    const rows = await this.db.all<Omit<MaintenanceRecord, "group"> & { grp: string | null }>("SELECT host, run, since, note, grp FROM maintenance ORDER BY since, host");
    return rows.map(({ grp, since, ...record }) => ({ ...record, since: Number(since), ...(grp === null ? {} : { group: grp }) }));
  }

  async liveRuns(now: number): Promise<string[]> {
    return (await this.db.all<{ run: string }>("SELECT DISTINCT run FROM leases WHERE expires_at > ?", [now])).map((x) => x.run);
  }
}
