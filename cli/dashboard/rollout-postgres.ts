/**
 * The rollout store in PostgreSQL, read for the dashboard: the stack's schema
 * (`smartfleet_rollout_<stack>`, as `providers/rollout/postgres-store.ts` names it), its
 * unexpired leases and its maintenance records, in two SELECTs on one pooled connection.
 * Nothing is created: before any run of the stack used the database there is no schema,
 * and the rollout is shown as not run yet.
 */
import { Pool } from "pg";
import { schemaOf, typeParsers } from "../../providers/rollout/postgres-store";
import { sharedStoreUrl } from "../../providers/rollout/run";
import { RolloutReader, rolloutFromRows, rolloutStoreFile, type LeaseRow, type MaintenanceRow, type RolloutNow, type RolloutSource } from "./rollout-now";

/** PostgreSQL's "relation does not exist" and "schema does not exist". */
const MISSING = new Set(["42P01", "3F000"]);

/**
 * The reader of the stack's store as the providers of a run in `projectRoot` choose it:
 * PostgreSQL when `SMARTFLEET_ROLLOUT_STORE` is set (a value that is not a postgres:// URL
 * is refused, as the providers refuse it), else the SQLite file.
 */
export function rolloutReaderFor(projectRoot: string, stackName: string): RolloutReader {
  const url = sharedStoreUrl();
  return new RolloutReader(rolloutStoreFile(projectRoot, stackName), url ? new PostgresRolloutSource(url, stackName) : undefined);
}

/** The stack's store in PostgreSQL, read only. */
export class PostgresRolloutSource implements RolloutSource {
  /** The database and schema, as the page shows them (no password). */
  readonly name: string;
  private readonly pool: Pool;
  private readonly schema: string;

  constructor(url: string, stack: string) {
    this.schema = schemaOf(stack);
    const shown = new URL(url);
    shown.password = "";
    shown.search = "";
    this.name = `${shown.toString()} (schema ${this.schema})`;
    // One connection is enough: a refresh reads twice, one after the other.
    this.pool = new Pool({
      connectionString: url,
      max: 1,
      idleTimeoutMillis: 30_000,
      allowExitOnIdle: true,
      types: typeParsers,
    });
    // A connection the server drops must not end the dashboard; the next read reconnects.
    this.pool.on("error", () => undefined);
  }

  /** The rollout at `now` (epoch ms); a database that cannot be reached is a note, not an error. */
  async read(now: number): Promise<RolloutNow> {
    try {
      // The schema name is ours (letters, digits, underscores: `schemaOf`), so it can be spliced in.
      const leases = await this.pool.query<LeaseRow>(`SELECT scope, host, run, expires_at FROM ${this.schema}.leases WHERE expires_at > $1 ORDER BY host, scope`, [now]);
      const maintenance = await this.pool.query<MaintenanceRow>(`SELECT host, run, since, note, grp FROM ${this.schema}.maintenance ORDER BY since, host`);
      return rolloutFromRows(this.name, leases.rows, maintenance.rows);
    } catch (error) {
      if (MISSING.has(String((error as { code?: string }).code))) return { file: this.name, exists: false, disrupted: [], maintenance: [] };
      return { file: this.name, exists: false, disrupted: [], maintenance: [], note: `the rollout store in PostgreSQL cannot be read: ${(error as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
