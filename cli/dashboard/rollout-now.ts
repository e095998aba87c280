/**
 * What the rollout is doing now, as its lease store says: which hosts hold slots (are
 * being disrupted) and which are in maintenance. The store is the SQLite file every
 * provider process of the stack shares (`providers/rollout/sqlite-store.ts`), or, when
 * `SMARTFLEET_ROLLOUT_STORE` names one, the stack's schema in PostgreSQL
 * (`providers/rollout/postgres-store.ts`). Either is only read: the file is opened
 * read-only, so the dashboard never takes the writers' lock nor creates the file before
 * any rollout has run; in PostgreSQL it runs two SELECTs and creates nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { loadSqlite } from "../../model/sqlite";

/** One host holding rollout slots now. */
export interface DisruptedHost {
  host: string;
  /** The scopes it holds (`group:<group>`, `pair:<name>`). */
  scopes: string[];
  /** The run (provider process) that holds them. */
  run: string;
  /** Epoch ms when the first of its leases expires unless renewed. */
  expiresAt: number;
}

/** A host the rollout recorded in maintenance. */
export interface HostInMaintenance {
  host: string;
  run: string;
  /** Epoch ms. */
  since: number;
  /** Why it is still there (e.g. the work failed), or empty. */
  note: string;
  group: string | null;
}

/** The rollout now. */
export interface RolloutNow {
  /** The store read: its file, or the database (without its password) and schema. */
  file: string;
  /** False before any rollout of the stack ran (no file or no schema yet), or before the store was first read. */
  exists: boolean;
  disrupted: DisruptedHost[];
  maintenance: HostInMaintenance[];
  /** Why nothing could be read, when the store is not one this reader reads. */
  note?: string;
}

/**
 * The store file of a stack, where the providers of a run in `projectRoot` keep it:
 * `SMARTFLEET_ROLLOUT_DIR` or `<projectRoot>/.smartfleet/rollout`, named after the stack
 * file's `metadata.name` (what the providers' rollout context carries).
 */
export function rolloutStoreFile(projectRoot: string, stackName: string): string {
  const dir = process.env.SMARTFLEET_ROLLOUT_DIR || path.join(projectRoot, ".smartfleet", "rollout");
  return path.join(dir, `${stackName.replace(/[^A-Za-z0-9._-]/g, "_")}.db`);
}

/** A lease row as both stores give it. */
export interface LeaseRow {
  scope: string;
  host: string;
  run: string;
  expires_at: number | string;
}

/** A maintenance row as both stores give it. */
export interface MaintenanceRow {
  host: string;
  run: string;
  since: number | string;
  note: string;
  grp: string | null;
}

/** The rollout now from the store's rows: leases (unexpired, ordered by host and scope) grouped by host. */
export function rolloutFromRows(file: string, leases: LeaseRow[], maintenance: MaintenanceRow[]): RolloutNow {
  const byHost = new Map<string, DisruptedHost>();
  for (const l of leases) {
    const seen = byHost.get(l.host);
    if (seen) {
      seen.scopes.push(l.scope);
      seen.expiresAt = Math.min(seen.expiresAt, Number(l.expires_at));
    } else byHost.set(l.host, { host: l.host, scopes: [l.scope], run: l.run, expiresAt: Number(l.expires_at) });
  }
  return {
    file,
    exists: true,
    disrupted: [...byHost.values()],
    maintenance: maintenance.map((m) => ({ host: m.host, run: m.run, since: Number(m.since), note: m.note, group: m.grp })),
  };
}

/** A store read elsewhere than the local file (PostgreSQL: `rollout-postgres.ts`). */
export interface RolloutSource {
  /** What the page names it by. */
  readonly name: string;
  read(now: number): Promise<RolloutNow>;
  close(): Promise<void>;
}

/** Reads a rollout store without writing to it. */
export class RolloutReader {
  private db: DatabaseSync | undefined;
  private last: RolloutNow | undefined;

  /** `file`: the SQLite store; `shared`: a shared one (PostgreSQL), read instead when given. */
  constructor(
    readonly file: string,
    private readonly shared?: RolloutSource,
  ) {}

  /** The unexpired leases by host and the maintenance records, at `now` (epoch ms). */
  async read(now = Date.now()): Promise<RolloutNow> {
    this.last = this.shared ? await this.shared.read(now) : this.readFile(now);
    return this.last;
  }

  /**
   * The last read, for a state that must not wait: before any, the file read now (it is
   * local and quick), or for PostgreSQL nothing yet (`exists: false`) until the first
   * refresh reads it.
   */
  latest(): RolloutNow {
    if (this.last) return this.last;
    if (this.shared) return { file: this.shared.name, exists: false, disrupted: [], maintenance: [] };
    return (this.last = this.readFile(Date.now()));
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    void this.shared?.close();
  }

  private readFile(now: number): RolloutNow {
    const db = this.open();
    if (!db) return { file: this.file, exists: false, disrupted: [], maintenance: [] };
    const leases = db.prepare("SELECT scope, host, run, expires_at FROM leases WHERE expires_at > ? ORDER BY host, scope").all(now) as unknown as LeaseRow[];
    const maintenance = db.prepare("SELECT host, run, since, note, grp FROM maintenance ORDER BY since, host").all() as unknown as MaintenanceRow[];
    return rolloutFromRows(this.file, leases, maintenance);
  }

  /** The database, opened once it exists (a rollout may create it while the dashboard runs). */
  private open(): DatabaseSync | undefined {
    if (this.db) return this.db;
    if (!fs.existsSync(this.file)) return undefined;
    const { DatabaseSync } = loadSqlite();
    const db = new DatabaseSync(this.file, { readOnly: true });
    // A writer holds the lock for a few milliseconds per acquire: wait instead of failing.
    db.exec("PRAGMA busy_timeout = 2000");
    try {
      db.prepare("SELECT 1 FROM leases LIMIT 1").all();
    } catch {
      // Created but no schema yet (the first provider is still setting it up): try again next refresh.
      db.close();
      return undefined;
    }
    this.db = db;
    return db;
  }
}
