/**
 * The rollout store in a local SQLite file (`node:sqlite`), shared by every provider
 * process of a stack on this machine: WAL so readers never block the writer, a busy
 * timeout so two processes taking a slot at the same moment queue instead of failing,
 * and every acquire in one `BEGIN IMMEDIATE` transaction (drop expired, check, count,
 * insert), so two processes can never both take the last slot. The logic is
 * `sql-store.ts`'s, shared with the PostgreSQL store.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DatabaseSync as DatabaseSyncType, SQLInputValue, StatementSync } from "node:sqlite";
import { loadSqlite } from "../../model/sqlite";
import { SCHEMA, SqlLeaseStore, type SqlRunner } from "./sql-store";

/** How long a writer waits for another process's transaction before failing. */
export const BUSY_TIMEOUT_MS = 10_000;

/**
 * The transaction running in this process on each file. Statements are synchronous but a
 * transaction's steps are awaited: another caller could slip in between, and a second
 * `BEGIN IMMEDIATE` on the same file from this thread would wait on itself.
 */
const busyFiles = new Map<string, Promise<unknown>>();

/** The SQLite rollout store of one file (created with its folder, mode 0700/0600). */
export class SqliteLeaseStore extends SqlLeaseStore {
  private readonly sqlite: DatabaseSyncType;
  protected readonly db: SqlRunner;

  constructor(readonly file: string) {
    super();
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, "a", 0o600));
    const { DatabaseSync } = loadSqlite();
    const sqlite = new DatabaseSync(file);
    this.sqlite = sqlite;
    sqlite.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;`);
    for (const statement of SCHEMA) sqlite.exec(statement);
    // Files of older versions: maintenance records without their group, leases without their DPU.
    const has = (table: string, column: string) => (sqlite.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).some((c) => c.name === column);
    if (!has("maintenance", "grp")) sqlite.exec("ALTER TABLE maintenance ADD COLUMN grp TEXT");
    if (!has("leases", "dpu")) sqlite.exec("ALTER TABLE leases ADD COLUMN dpu TEXT");
    const params = (values: unknown[]) => values as SQLInputValue[];
    // The store runs a dozen statements thousands of times in a rollout: compiled once each.
    const prepared = new Map<string, StatementSync>();
    const statement = (sql: string): StatementSync => {
      let compiled = prepared.get(sql);
      if (!compiled) prepared.set(sql, (compiled = sqlite.prepare(sql)));
      return compiled;
    };
    this.db = {
      all: async <T>(sql: string, values: unknown[] = []) => statement(sql).all(...params(values)) as T[],
      run: async (sql: string, values: unknown[] = []) => Number(statement(sql).run(...params(values)).changes),
    };
  }

  /** One write transaction taken up front (no upgrade deadlock between processes), one at a time in this process. */
  protected transaction<T>(fn: (db: SqlRunner) => Promise<T>): Promise<T> {
    const key = path.resolve(this.file);
    const run = (busyFiles.get(key) ?? Promise.resolve()).then(async () => {
      this.sqlite.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this.db);
        this.sqlite.exec("COMMIT");
        return result;
      } catch (error) {
        this.sqlite.exec("ROLLBACK");
        throw error;
      }
    });
    const settled = run.catch(() => undefined);
    busyFiles.set(key, settled);
    void settled.then(() => {
      if (busyFiles.get(key) === settled) busyFiles.delete(key);
    });
    return run;
  }

  close(): void {
    this.sqlite.close();
  }
}
