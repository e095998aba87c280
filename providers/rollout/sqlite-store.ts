/**
 * The rollout store in a local SQLite file (`node:sqlite`), shared by every provider
 * process of a stack on this machine: WAL so readers never block the writer, a busy
 * timeout so two processes taking a slot at the same moment queue instead of failing,
 * and every acquire in one `BEGIN IMMEDIATE` transaction (drop expired, check, count,
 * insert), so two processes can never both take the last slot.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatabaseSync as DatabaseSyncType } from "node:sqlite";
import type { AcquireRequest, AcquireResult, LeaseStore, MaintenanceRecord } from "./store";
import { loadSqlite } from "../../model/sqlite";

/** How long a writer waits for another process's transaction before failing. */
export const BUSY_TIMEOUT_MS = 10_000;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS leases (
    scope TEXT NOT NULL, holder TEXT NOT NULL, host TEXT NOT NULL, run TEXT NOT NULL, expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, holder));
  CREATE INDEX IF NOT EXISTS leases_holder ON leases (holder);
  CREATE TABLE IF NOT EXISTS halts (run TEXT NOT NULL, grp TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (run, grp));
  CREATE TABLE IF NOT EXISTS progress (
    run TEXT NOT NULL, grp TEXT NOT NULL, host TEXT NOT NULL, started_at INTEGER NOT NULL, outcome TEXT,
    PRIMARY KEY (run, grp, host));
  CREATE TABLE IF NOT EXISTS maintenance (host TEXT PRIMARY KEY, run TEXT NOT NULL, since INTEGER NOT NULL, note TEXT NOT NULL, grp TEXT);
`;

/** The SQLite rollout store of one file (created with its folder, mode 0700/0600). */
export class SqliteLeaseStore implements LeaseStore {
  private readonly db: DatabaseSyncType;

  constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, "a", 0o600));
    const { DatabaseSync } = loadSqlite();
    this.db = new DatabaseSync(file);
    this.db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`);
    this.db.exec(SCHEMA);
    // Files of older versions: maintenance records without their group.
    const columns = this.db.prepare("PRAGMA table_info(maintenance)").all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === "grp")) this.db.exec("ALTER TABLE maintenance ADD COLUMN grp TEXT");
  }

  async acquire(r: AcquireRequest): Promise<AcquireResult> {
    return this.transaction(() => {
      this.db.prepare("DELETE FROM leases WHERE expires_at <= ?").run(r.now);
      const runs = this.db.prepare("SELECT DISTINCT run FROM leases WHERE run <> ?").all(r.run) as Array<{ run: string }>;
      for (const { run } of runs) if (r.isDeadRun?.(run)) this.db.prepare("DELETE FROM leases WHERE run = ?").run(run);
      const halted = this.db.prepare("SELECT reason FROM halts WHERE run = ? AND grp = ?").get(r.run, r.group) as { reason: string } | undefined;
      if (halted) return { granted: false, halted: halted.reason };
      const groupScope = `group:${r.group}`;
      // A host of the group another run left in maintenance (a killed up: its install may
      // have ended, its workloads are still away) is unavailable: it holds a slot of the
      // group until a run takes it out, whatever became of that run's leases.
      const leftIn = (this.db.prepare("SELECT host FROM maintenance WHERE grp = ? AND host <> ? AND run <> ?").all(r.group, r.host, r.run) as Array<{ host: string }>).map((x) => x.host);
      const othersIn = (scope: string): string[] => {
        const holders = (this.db.prepare("SELECT DISTINCT host FROM leases WHERE scope = ? AND host <> ?").all(scope, r.host) as Array<{ host: string }>).map((x) => x.host);
        return [...new Set(scope === groupScope ? [...holders, ...leftIn] : holders)].sort();
      };
      // Canaries: counted per run among the hosts that started; a host already started goes on.
      const rows = this.db.prepare("SELECT host, outcome FROM progress WHERE run = ? AND grp = ?").all(r.run, r.group) as Array<{ host: string; outcome: string | null }>;
      const started = rows.some((x) => x.host === r.host);
      let canary = false;
      if (!started && r.canary > 0) {
        const canaries = Math.min(r.canary, r.groupSize);
        if (rows.length < canaries) {
          canary = true;
          const busy = othersIn(groupScope);
          if (busy.length > 0) return { granted: false, waitingFor: `${groupScope} (a canary goes alone; held by ${busy.join(", ")})` };
        } else {
          const finished = rows.filter((x) => x.outcome !== null).length;
          if (finished < canaries) {
            return { granted: false, waitingFor: `the canaries of ${r.group} (${rows.map((x) => x.host).join(", ")}) to pass their health gate` };
          }
        }
      }
      for (const slot of r.slots) {
        const holders = othersIn(slot.scope);
        if (holders.length >= slot.limit) {
          const left = holders.filter((h) => leftIn.includes(h));
          const why = left.length > 0 ? `; in maintenance, left there by another run: ${left.join(", ")}` : "";
          return { granted: false, waitingFor: `${slot.scope} (${holders.length} of ${slot.limit} held: ${holders.join(", ")}${why})` };
        }
      }
      const insert = this.db.prepare("INSERT OR REPLACE INTO leases (scope, holder, host, run, expires_at) VALUES (?, ?, ?, ?, ?)");
      for (const slot of r.slots) insert.run(slot.scope, r.holder, r.host, r.run, r.now + r.ttlMs);
      this.db.prepare("INSERT OR IGNORE INTO progress (run, grp, host, started_at, outcome) VALUES (?, ?, ?, ?, NULL)").run(r.run, r.group, r.host, r.now);
      return { granted: true, canary };
    });
  }

  async renew(holder: string, ttlMs: number, now: number): Promise<boolean> {
    const result = this.db.prepare("UPDATE leases SET expires_at = ? WHERE holder = ? AND expires_at > ?").run(now + ttlMs, holder, now);
    return Number(result.changes) > 0;
  }

  async release(holder: string): Promise<void> {
    this.db.prepare("DELETE FROM leases WHERE holder = ?").run(holder);
  }

  async halt(run: string, group: string, reason: string, now: number): Promise<void> {
    this.db.prepare("INSERT OR IGNORE INTO halts (run, grp, reason, at) VALUES (?, ?, ?, ?)").run(run, group, reason, now);
  }

  async isHalted(run: string, group: string): Promise<string | undefined> {
    const row = this.db.prepare("SELECT reason FROM halts WHERE run = ? AND grp = ?").get(run, group) as { reason: string } | undefined;
    return row?.reason;
  }

  async finish(run: string, group: string, host: string, outcome: "passed" | "failed"): Promise<void> {
    // A host that passed once stays passed (a second resource of it failing does not undo the canary).
    this.db
      .prepare(
        "INSERT INTO progress (run, grp, host, started_at, outcome) VALUES (?, ?, ?, 0, ?) ON CONFLICT (run, grp, host) DO UPDATE SET outcome = CASE WHEN outcome = 'passed' THEN outcome ELSE excluded.outcome END",
      )
      .run(run, group, host, outcome);
  }

  async passed(run: string, group: string): Promise<string[]> {
    return (this.db.prepare("SELECT host FROM progress WHERE run = ? AND grp = ? AND outcome = 'passed' ORDER BY host").all(run, group) as Array<{ host: string }>).map((x) => x.host);
  }

  async markMaintenance(host: string, record: Omit<MaintenanceRecord, "host"> | undefined): Promise<void> {
    if (record === undefined) this.db.prepare("DELETE FROM maintenance WHERE host = ?").run(host);
    else this.db.prepare("INSERT OR REPLACE INTO maintenance (host, run, since, note, grp) VALUES (?, ?, ?, ?, ?)").run(host, record.run, record.since, record.note, record.group ?? null);
  }

  async maintenance(): Promise<MaintenanceRecord[]> {
    const rows = this.db.prepare("SELECT host, run, since, note, grp FROM maintenance ORDER BY since, host").all() as Array<Omit<MaintenanceRecord, "group"> & { grp: string | null }>;
    return rows.map(({ grp, ...record }) => (grp === null ? record : { ...record, group: grp }));
  }

  async liveRuns(now: number): Promise<string[]> {
    return (this.db.prepare("SELECT DISTINCT run FROM leases WHERE expires_at > ?").all(now) as Array<{ run: string }>).map((x) => x.run);
  }

  /** Runs `fn` in one write transaction taken up front (no upgrade deadlock between processes). */
  private transaction<T>(fn: () => T): T {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      this.db.exec("ROLLBACK");
      throw error;
    }
  }

  close(): void {
    this.db.close();
  }
}
