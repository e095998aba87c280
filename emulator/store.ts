/**
 * Persistence in SQLite (`node:sqlite`): one document per DPU and one per task, every
 * change written in one transaction before the emulator answers, in WAL mode so a
 * kill -9 loses nothing that was acknowledged.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatabaseSync as DatabaseSyncType, StatementSync } from "node:sqlite";
import type { DpuState, TaskRecord } from "./model";

/** One change: the documents it touched, written atomically. */
export interface StateChange {
  /** DPU documents to write. */
  dpus?: DpuState[];
  /** Task documents to write. */
  tasks?: TaskRecord[];
  /** Tasks to forget. */
  deletedTasks?: Array<{ serial: string; id: string }>;
}

/** Everything stored. */
export interface StoredState {
  /** DPU documents by serial. */
  dpus: Map<string, DpuState>;
  /** Task documents. */
  tasks: TaskRecord[];
  /** Metadata (fleet name...). */
  meta: Map<string, string>;
}

function loadSqlite(): typeof import("node:sqlite") {
  // node:sqlite warns once that it is experimental; that line would pollute every CLI run.
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (/SQLite is an experimental feature/.test(text)) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return require("node:sqlite") as typeof import("node:sqlite");
  } finally {
    process.emitWarning = emit;
  }
}

/** The SQLite state store of one emulator state dir. */
export class StateStore {
  private readonly db: DatabaseSyncType;
  private readonly putDpu: StatementSync;
  private readonly putTask: StatementSync;
  private readonly putMeta: StatementSync;
  private readonly deleteTask: StatementSync;

  /** Opens (creating if needed) `DIR/state.db`. */
  constructor(stateDir: string) {
    fs.mkdirSync(stateDir, { recursive: true });
    const { DatabaseSync } = loadSqlite();
    this.db = new DatabaseSync(path.join(stateDir, "state.db"));
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS dpus (serial TEXT PRIMARY KEY, doc TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS tasks (serial TEXT NOT NULL, id TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (serial, id));
    `);
    this.putDpu = this.db.prepare("INSERT OR REPLACE INTO dpus (serial, doc) VALUES (?, ?)");
    this.putTask = this.db.prepare("INSERT OR REPLACE INTO tasks (serial, id, doc) VALUES (?, ?, ?)");
    this.putMeta = this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
    this.deleteTask = this.db.prepare("DELETE FROM tasks WHERE serial = ? AND id = ?");
  }

  /** Reads everything. */
  load(): StoredState {
    const dpus = new Map<string, DpuState>();
    for (const row of this.db.prepare("SELECT serial, doc FROM dpus").all()) {
      dpus.set(String(row.serial), JSON.parse(String(row.doc)) as DpuState);
    }
    const tasks = this.db
      .prepare("SELECT doc FROM tasks")
      .all()
      .map((row) => JSON.parse(String(row.doc)) as TaskRecord);
    const meta = new Map<string, string>();
    for (const row of this.db.prepare("SELECT key, value FROM meta").all()) meta.set(String(row.key), String(row.value));
    return { dpus, tasks, meta };
  }

  /** Writes one change in one transaction. */
  commit(change: StateChange, meta?: Record<string, string>): void {
    this.db.exec("BEGIN IMMEDIATE");
    try {
      for (const dpu of change.dpus ?? []) this.putDpu.run(dpu.serial, JSON.stringify(dpu));
      for (const task of change.tasks ?? []) this.putTask.run(task.serial, task.id, JSON.stringify(task));
      for (const task of change.deletedTasks ?? []) this.deleteTask.run(task.serial, task.id);
      for (const [k, v] of Object.entries(meta ?? {})) this.putMeta.run(k, v);
      this.db.exec("COMMIT");
    } catch (cause) {
      this.db.exec("ROLLBACK");
      throw new Error(`state store: cannot write the change`, { cause });
    }
  }

  /** Closes the database. */
  close(): void {
    this.db.close();
  }
}
