/**
 * `smartfleet db` without a server: usage errors, a directory with no cluster, PostgreSQL's
 * programs missing where apt-get cannot install them (scripts/postgres.sh), a connection
 * failure explained. The running cluster is exercised in test/e2e/postgres.test.ts.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { run } from "../../cli/commands/db";
import { connectProblem } from "../../cli/db/cluster";
import { capture } from "./capture";

const root = path.resolve(__dirname, "..", "..");
let dir: string;
const saved = { ...process.env };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-db-"));
});

afterEach(() => {
  process.env = { ...saved };
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("smartfleet db", () => {
  it("rejects an unknown action and --url with anything but status (exit 2)", async () => {
    const unknown = await capture(run, ["launch"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("smartfleet db: unknown action 'launch': use one of start, stop, url, status");
    const url = await capture(run, ["url", "--url", "postgres://x@127.0.0.1/db"]);
    expect(url.code).toBe(2);
    expect(url.stderr).toContain("--url goes with status only");
  });

  it("says there is no cluster in a directory without one (url, stop, status: exit 1)", async () => {
    for (const action of ["url", "stop"]) {
      const out = await capture(run, [action, "--dir", dir]);
      expect(out.code).toBe(1);
      expect(out.stderr).toContain(`smartfleet db ${action}: no smartfleet PostgreSQL cluster in ${dir} (run \`smartfleet db start\` first)`);
    }
    const status = await capture(run, ["status", "--dir", dir]);
    expect(status).toMatchObject({ code: 1, stdout: "" });
    expect(status.stderr).toContain(`no cluster in ${dir}`);
  });

  it("start with PostgreSQL missing and no apt-get to install it: says what to do, creates nothing (exit 1)", async () => {
    process.env.SMARTFLEET_POSTGRES_ROOT = path.join(dir, "no-postgres-here");
    process.env.SMARTFLEET_APT_GET = path.join(dir, "no-apt-get");
    const cluster = path.join(dir, "pg");
    const out = await capture(run, ["start", "--dir", cluster]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe("");
    const expected =
      process.getuid?.() === 0
        ? `there is no ${path.join(dir, "no-apt-get")} to install Debian's postgresql package with; install PostgreSQL and set SMARTFLEET_POSTGRES_BINDIR`
        : "installing Debian's postgresql package needs root";
    expect(out.stderr).toContain("smartfleet db start: scripts/postgres.sh: PostgreSQL's server programs are missing");
    expect(out.stderr).toContain(expected);
    expect(fs.existsSync(cluster)).toBe(false);
  });

  it("scripts/postgres.sh refuses a SMARTFLEET_POSTGRES_BINDIR without the programs", () => {
    let stderr = "";
    try {
      execFileSync(path.join(root, "scripts", "postgres.sh"), { env: { ...process.env, SMARTFLEET_POSTGRES_BINDIR: dir }, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
    } catch (error) {
      stderr = String((error as { stderr?: string }).stderr);
    }
    expect(stderr).toContain(`SMARTFLEET_POSTGRES_BINDIR=${dir} does not hold initdb, pg_ctl, postgres and psql`);
  });

  it("explains what a PostgreSQL client said", () => {
    expect(connectProblem('pq: password authentication failed for user "smartfleet" (28P01)', "db:5432", "smartfleet")).toBe(
      "the PostgreSQL server at db:5432 refused the password of user 'smartfleet' (check the password in the URL, or `smartfleet db url` for a local cluster)",
    );
    expect(connectProblem("dial tcp 127.0.0.1:1: connect: connection refused", "127.0.0.1:1", "u")).toMatch(/^nothing answers at 127\.0\.0\.1:1: /);
    expect(connectProblem('FATAL:  database "teams" does not exist', "db:5432", "u")).toBe("the PostgreSQL server at db:5432 has no database 'teams'");
    expect(connectProblem("something else entirely", "db:5432", "u")).toBeUndefined();
  });
});
