/**
 * The rollout store in PostgreSQL, for runs on several machines (CI runners, shard stacks
 * applied at once) that must share one disruption budget: the same tables and logic as the
 * SQLite store (`sql-store.ts`), in a schema of their own per stack
 * (`smartfleet_rollout_<stack>`), so one database serves many stacks. Every acquire runs in
 * a transaction that first takes a transaction-scoped advisory lock of the stack: two
 * runners never both take the last slot. A runner that dies frees its slots when its
 * leases expire (60 s unless renewed); leases are timed by each runner's clock, so the
 * runners' clocks should agree to within a few seconds (NTP).
 *
 * Chosen with `SMARTFLEET_ROLLOUT_STORE=postgres://…` in the environment of `pulumi up`
 * (the provider process inherits it).
 */
import type { Pool, PoolClient, types } from "pg";
import { SCHEMA, SqlLeaseStore, type SqlRunner } from "./sql-store";

let pgModule: typeof import("pg") | undefined;

/**
 * The `pg` client, loaded by the first store opened: 15 MiB of a process's memory that
 * every provider process would carry otherwise, whichever store its run uses (a shard's
 * providers on SQLite too, since `run.ts` offers both).
 */
function pg(): typeof import("pg") {
  // Kept: the type parser below asks for it on every column of every answer.
  return (pgModule ??= require("pg") as typeof import("pg"));
}

/** BIGINT columns (epoch ms) as numbers: they stay far below 2^53. */
const INT8_OID = 20;
/** The type parsers of every connection to a rollout store (the dashboard's reader too). */
export const typeParsers = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => (oid === INT8_OID ? (v: string) => Number(v) : pg().types.getTypeParser(oid, format))) as typeof types.getTypeParser,
};

/** The schema of a stack's tables: lower case, letters, digits and underscores. */
export function schemaOf(stack: string): string {
  return `smartfleet_rollout_${stack.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
}

/** `?` placeholders (the dialect the store's SQL is written in) as PostgreSQL's `$n`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function runnerOn(client: Pool | PoolClient): SqlRunner {
  return {
    all: async <T>(sql: string, values: unknown[] = []) => (await client.query(numbered(sql), values)).rows as T[],
    run: async (sql: string, values: unknown[] = []) => (await client.query(numbered(sql), values)).rowCount ?? 0,
  };
}

/** The PostgreSQL rollout store of one stack. */
export class PostgresLeaseStore extends SqlLeaseStore {
  private readonly pool: Pool;
  protected readonly db: SqlRunner;
  private ready: Promise<void> | undefined;
  private readonly schema: string;

  /** `url`: `postgres://user:password@host:port/db`; nothing is sent until the first call. */
  constructor(url: string, stack: string) {
    super();
    this.schema = schemaOf(stack);
    // search_path set per connection: the shared SQL names its tables unqualified.
    this.pool = new (pg().Pool)({ connectionString: url, max: 4, allowExitOnIdle: true, options: `-c search_path=${this.schema}`, types: typeParsers });
    // An idle connection the server drops must not crash the provider; the next query reconnects.
    this.pool.on("error", () => undefined);
    const pool = this.pool;
    this.db = {
      all: async <T>(sql: string, values?: unknown[]) => {
        await this.prepare();
        return runnerOn(pool).all<T>(sql, values);
      },
      run: async (sql: string, values?: unknown[]) => {
        await this.prepare();
        return runnerOn(pool).run(sql, values);
      },
    };
  }

  protected async transaction<T>(fn: (db: SqlRunner) => Promise<T>): Promise<T> {
    await this.prepare();
    return this.locked(fn);
  }

  /** Runs `fn` in a transaction holding the stack's advisory lock. */
  private async locked<T>(fn: (db: SqlRunner) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      // One round trip for both (a simple query may hold several statements, but no
      // parameters): the schema's name is letters, digits and underscores (`schemaOf`).
      await client.query(`BEGIN; SELECT pg_advisory_xact_lock(hashtext('${this.schema}'))`);
      const result = await fn(runnerOn(client));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Creates the schema and tables once (under the lock: two runners starting together do not race). */
  private prepare(): Promise<void> {
    this.ready ??= this.locked(async (db) => {
      await db.run(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      for (const statement of SCHEMA) await db.run(statement);
    }).catch((error: unknown) => {
      this.ready = undefined;
      throw new Error(`the rollout store in PostgreSQL (SMARTFLEET_ROLLOUT_STORE) cannot be used: ${(error as Error).message}`, { cause: error });
    });
    return this.ready;
  }

  close(): void {
    void this.pool.end().catch(() => undefined);
  }
}
