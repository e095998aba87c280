/**
 * Persistence in SQLite (`node:sqlite`): one document per DPU, one per task and one per
 * disruption log interval, every change written in one transaction before the emulator
 * answers, in WAL mode so a kill -9 loses nothing that was acknowledged.
 *
 * The state dir is owner-only (0700) and the database files (`state.db`, `-wal`, `-shm`)
 * 0600, set again at every open. Documents hold password hashes and token hashes only
 * (`secrets.ts`); a database written before that is rewritten on open (hashing what it
 * held) and vacuumed, with `secure_delete` on, so the old plain text leaves the files.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatabaseSync as DatabaseSyncType, StatementSync } from "node:sqlite";
import type { DisruptionRecord, DpuState, TaskRecord } from "./model";
import { hashPassword, tokenHash } from "./secrets";
import { loadSqlite } from "../model/sqlite";

const DB_FILES = ["state.db", "state.db-wal", "state.db-shm"];

/** Makes the state dir owner-only and its database files owner read/write, whatever they were. */
function restrictModes(stateDir: string): void {
  fs.chmodSync(stateDir, 0o700);
  for (const name of DB_FILES) {
    const file = path.join(stateDir, name);
    if (fs.existsSync(file)) fs.chmodSync(file, 0o600);
  }
}

/**
 * Replaces the plain-text secrets of a document written by an older emulator (account
 * `password`, session `token`) by their hashes; true when it changed anything.
 */
function hashLegacySecrets(doc: DpuState): boolean {
  let changed = false;
  for (const account of doc.accounts as Array<DpuState["accounts"][number] & { password?: string; failedLogins?: number }>) {
    if (typeof account.password === "string") {
      account.passwordHash = hashPassword(account.password);
      delete account.password;
      changed = true;
    }
    if ("failedLogins" in account) {
      delete account.failedLogins;
      changed = true;
    }
    account.lockedUntil ??= 0;
  }
  for (const session of doc.sessions as Array<DpuState["sessions"][number] & { token?: string }>) {
    if (typeof session.token === "string") {
      session.tokenHash = tokenHash(session.token);
      delete session.token;
      changed = true;
    }
  }
  return changed;
}

/** One change: the documents it touched, written atomically. */
export interface StateChange {
  /** DPU documents to write. */
  dpus?: DpuState[];
  /** Task documents to write. */
  tasks?: TaskRecord[];
  /** Tasks to forget. */
  deletedTasks?: Array<{ serial: string; id: string }>;
  /** Disruption log records to write. */
  disruptions?: DisruptionRecord[];
  /** Disruption log records to forget, by id. */
  deletedDisruptions?: number[];
}

/** Everything stored. */
export interface StoredState {
  /** DPU documents by serial. */
  dpus: Map<string, DpuState>;
  /** Task documents. */
  tasks: TaskRecord[];
  /** Metadata (fleet name...). */
  meta: Map<string, string>;
  /** The disruption log, oldest first. */
  disruptions: DisruptionRecord[];
}


/** The SQLite state store of one emulator state dir. */
export class StateStore {
  private readonly db: DatabaseSyncType;
  private readonly putDpu: StatementSync;
  private readonly putTask: StatementSync;
  private readonly putMeta: StatementSync;
  private readonly deleteTask: StatementSync;
  private readonly putDisruption: StatementSync;
  private readonly deleteDisruption: StatementSync;

  /** Opens (creating if needed) `DIR/state.db`. */
  constructor(stateDir: string) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const dbFile = path.join(stateDir, "state.db");
    // SQLite creates -wal and -shm with the mode of the database file: create that one 0600.
    if (!fs.existsSync(dbFile)) fs.closeSync(fs.openSync(dbFile, "a", 0o600));
    restrictModes(stateDir);
    const { DatabaseSync } = loadSqlite();
    this.db = new DatabaseSync(dbFile);
    this.db.exec(`
      PRAGMA secure_delete = ON;
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dpus (serial TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tasks (serial TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (serial, id));
      CREATE TABLE IF NOT EXISTS disruptions (id INTEGER PRIMARY KEY, doc TEXT NOT NULL);
    `);
    this.putDpu = this.db.prepare("INSERT OR REPLACE INTO dpus (serial, doc) VALUES (?, ?)");
    this.putTask = this.db.prepare("INSERT OR REPLACE INTO tasks (serial, id, doc) VALUES (?, ?, ?)");
    this.putMeta = this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    this.deleteTask = this.db.prepare("DELETE FROM tasks WHERE serial = ? AND id = ?");
    this.putDisruption = this.db.prepare("INSERT OR REPLACE INTO disruptions (id, doc) VALUES (?, ?)");
    this.deleteDisruption = this.db.prepare("DELETE FROM disruptions WHERE id = ?");
    restrictModes(stateDir);
  }

  /** Reads everything. */
  load(): StoredState {
    const dpus = new Map<string, DpuState>();
    const rehashed: DpuState[] = [];
    for (const row of this.db.prepare("SELECT serial, doc FROM dpus").all()) {
      const doc = JSON.parse(String(row.doc)) as DpuState;
      if (hashLegacySecrets(doc)) rehashed.push(doc);
      dpus.set(String(row.serial), doc);
    }
    if (rehashed.length > 0) this.purge(rehashed);
    const tasks = this.db
      .prepare("SELECT doc FROM tasks")
      .all()
      .map((row) => JSON.parse(String(row.doc)) as TaskRecord);
    const meta = new Map<string, string>();
    for (const row of this.db.prepare("SELECT key, value FROM meta").all()) meta.set(String(row.key), String(row.value));
    const disruptions = this.db
      .prepare("SELECT doc FROM disruptions ORDER BY id")
      .all()
      .map((row) => JSON.parse(String(row.doc)) as DisruptionRecord);
    return { dpus, tasks, meta, disruptions };
  }

  /** Writes one change in one transaction. */
  commit(change: StateChange, meta?: Record<string, string>): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const dpu of change.dpus ?? []) this.putDpu.run(dpu.serial, JSON.stringify(dpu));
      for (const task of change.tasks ?? []) this.putTask.run(task.serial, task.id, JSON.stringify(task));
      for (const task of change.deletedTasks ?? []) this.deleteTask.run(task.serial, task.id);
      for (const record of change.disruptions ?? []) this.putDisruption.run(record.id, JSON.stringify(record));
      for (const id of change.deletedDisruptions ?? []) this.deleteDisruption.run(id);
      for (const [k, v] of Object.entries(meta ?? {})) this.putMeta.run(k, v);
      this.db.exec("COMMIT");
    } catch (cause) {
      this.db.exec("ROLLBACK");
      throw new Error(`state store: cannot write the change`, { cause });
    }
  }

  /** Rewrites documents that held plain-text secrets, then clears the old pages out of the WAL and the file. */
  private purge(docs: DpuState[]): void {
    this.commit({ dpus: docs });
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    this.db.exec("VACUUM");
    this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}
