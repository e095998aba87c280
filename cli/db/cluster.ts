/**
 * A local PostgreSQL cluster for Pulumi's PostgreSQL DIY backend (team state in a
 * transactional store instead of a folder), run from Debian's `postgresql` package
 * (`scripts/postgres.sh` finds it, or installs it with apt-get when missing).
 *
 * The cluster lives in one directory:
 *
 *   DIR/cluster.json   { port, user, database }: what the URL is made of
 *   DIR/password       the generated password of `user` (mode 0600, never printed but in the URL)
 *   DIR/data/          the cluster itself (PGDATA), its log in data/server.log
 *
 * It listens on 127.0.0.1 only (no Unix socket), with password (SCRAM) authentication for
 * every TCP connection. initdb and postgres refuse to run as root, so when we are root they
 * run as the `postgres` user (created by the package) and DIR/data belongs to it.
 *
 * Pulumi's backend (`pkg/backend/diy/postgres` of the CLI, v3.274.1) needs only a database it
 * may create a table in: it creates `pulumi_state (key, data JSON, updated_at)` on first use
 * and keeps every file of the DIY layout (checkpoints, history, locks) as a row. The URL
 * this module prints is `postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE?sslmode=disable`
 * (loopback only, so no TLS).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { sourcePath } from "../../schemas/paths";

/** What a cluster directory records. */
export interface ClusterInfo {
  port: number;
  user: string;
  database: string;
}

/** What `status` finds. */
export interface ClusterStatus {
  dir: string;
  /** initdb has run in DIR/data. */
  initialised: boolean;
  /** The postmaster's pid when it runs. */
  pid?: number;
  info?: ClusterInfo;
}

/** A problem with the cluster or its programs, said for the operator. */
export class ClusterError extends Error {}

/** The role and database smartfleet creates. */
const USER = "smartfleet";
const DATABASE = "pulumi";
/** The unprivileged account the server runs as when we are root. */
const SERVER_ACCOUNT = "postgres";

/** The directory of initdb/pg_ctl/postgres/psql; installs Debian's package when missing. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const script = sourcePath("scripts", "postgres.sh");
  try {
    const out = execFileSync(script, { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
    return out.trim().split("\n").pop() as string;
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? "").trim();
    throw new ClusterError(stderr || `scripts/postgres.sh failed: ${(error as Error).message}`);
  }
}

/** Initialises the cluster in `dir` when needed and starts it; resolves to its URL. */
export async function startCluster(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const bin = postgresBinDir(env);
  const data = path.join(dir, "data");
  let info = readInfo(dir);
  if (!info) {
    info = { port: await freeLoopbackPort(), user: USER, database: DATABASE };
    initialise(dir, bin, info);
  }
  if (runningPid(data) === undefined) {
    const log = path.join(data, "server.log");
    try {
      asServer(bin, "pg_ctl", ["-D", data, "-l", log, "-w", "-t", "60", "-o", serverOptions(info.port), "start"]);
    } catch (error) {
      // pg_ctl only says to look at the log: the reason (a port taken since, ...) is there.
      throw new ClusterError(`${(error as Error).message}\n${tail(log, 5)}`);
    }
  }
  ensureDatabase(dir, bin, info);
  return clusterUrl(dir);
}

/** Stops the cluster in `dir` (a fast shutdown: sessions are ended, nothing is lost). */
export function stopCluster(dir: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const data = path.join(dir, "data");
  if (!readInfo(dir)) throw new ClusterError(`no smartfleet PostgreSQL cluster in ${dir} (run \`smartfleet db start\` first)`);
  if (runningPid(data) === undefined) return false;
  asServer(postgresBinDir(env), "pg_ctl", ["-D", data, "-m", "fast", "-w", "-t", "60", "stop"]);
  return true;
}

/** The backend URL of the cluster in `dir`. */
export function clusterUrl(dir: string): string {
  const info = readInfo(dir);
  if (!info) throw new ClusterError(`no smartfleet PostgreSQL cluster in ${dir} (run \`smartfleet db start\` first)`);
  const password = fs.readFileSync(path.join(dir, "password"), "utf8").trim();
  return `postgres://${info.user}:${encodeURIComponent(password)}@127.0.0.1:${info.port}/${info.database}?sslmode=disable`;
}

/** Whether the cluster in `dir` is initialised and running. */
export function clusterStatus(dir: string): ClusterStatus {
  const info = readInfo(dir);
  const initialised = fs.existsSync(path.join(dir, "data", "PG_VERSION"));
  return { dir, initialised, info, pid: initialised ? runningPid(path.join(dir, "data")) : undefined };
}

/**
 * Logs in to `url` with psql and runs `SELECT 1`; throws a ClusterError that says what is
 * wrong (refused password, nothing listening, no such database) in the operator's terms.
 */
export function checkLogin(url: string, env: NodeJS.ProcessEnv = process.env): void {
  const bin = postgresBinDir(env);
  const parsed = new URL(url);
  const where = `${parsed.hostname}:${parsed.port || 5432}`;
  // The password goes through the environment, not the command line (ps shows argv).
  const password = decodeURIComponent(parsed.password);
  parsed.password = "";
  try {
    execFileSync(path.join(bin, "psql"), ["-X", "-q", "-tA", "-c", "SELECT 1", libpqUrl(parsed)], {
      encoding: "utf8",
      env: { ...env, PGPASSWORD: password, PGCONNECT_TIMEOUT: "5" },
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    throw new ClusterError(explainConnectError(String((error as { stderr?: string }).stderr ?? (error as Error).message), where, parsed.username));
  }
}

/**
 * Says in the operator's terms what a PostgreSQL client (psql, or Pulumi's backend: both
 * pass the server's words on) failed at; undefined when the text is about something else.
 */
export function connectProblem(text: string, where: string, user: string): string | undefined {
  if (/password authentication failed|no password supplied|password is required/i.test(text)) {
    return `the PostgreSQL server at ${where} refused the password of user '${user}' (check the password in the URL, or \`smartfleet db url\` for a local cluster)`;
  }
  if (/connection refused|connect: connection refused|could not connect|no such host|i\/o timeout|timeout expired|network is unreachable/i.test(text)) {
    return `nothing answers at ${where}: the PostgreSQL server is not running or not reachable (for a local cluster: \`smartfleet db start\`)`;
  }
  const db = /database "([^"]+)" does not exist/.exec(text);
  if (db) return `the PostgreSQL server at ${where} has no database '${db[1]}'`;
  return undefined;
}

function explainConnectError(text: string, where: string, user: string): string {
  return connectProblem(text, where, user) ?? `cannot log in to the PostgreSQL server at ${where}: ${text.trim().split("\n")[0]}`;
}

/** A postgres:// URL as psql takes it: Pulumi's `table` parameter is not libpq's. */
function libpqUrl(url: URL): string {
  const copy = new URL(url.toString());
  copy.searchParams.delete("table");
  return copy.toString();
}

function readInfo(dir: string): ClusterInfo | undefined {
  const file = path.join(dir, "cluster.json");
  if (!fs.existsSync(file)) return undefined;
  try {
    const info = JSON.parse(fs.readFileSync(file, "utf8")) as ClusterInfo;
    if (!Number.isInteger(info.port) || !info.user || !info.database) throw new Error("port, user or database missing");
    return info;
  } catch (error) {
    throw new ClusterError(`${file} is not a smartfleet cluster description: ${(error as Error).message}`);
  }
}

/** initdb with a generated password; DIR/data handed to the server account when we are root. */
function initialise(dir: string, bin: string, info: ClusterInfo): void {
  const data = path.join(dir, "data");
  if (fs.existsSync(data) && fs.readdirSync(data).length) {
    throw new ClusterError(`${data} is not empty but ${path.join(dir, "cluster.json")} is missing: not a cluster smartfleet made; choose another --dir`);
  }
  fs.mkdirSync(data, { recursive: true, mode: 0o700 });
  const password = randomBytes(24).toString("base64url");
  writePrivate(path.join(dir, "password"), `${password}\n`);
  // initdb reads the password from a file (Node's stdio pipes are sockets, which it cannot
  // open as /dev/stdin); the file lives only while initdb runs.
  const pwfile = path.join(dir, ".initdb-password");
  try {
    writePrivate(pwfile, `${password}\n`);
    if (isRoot()) {
      // The server account must reach DIR/data: DIR itself is only searched, never listed.
      fs.chmodSync(dir, 0o711);
      chownToServer(data);
      chownToServer(pwfile);
      const blocked = unsearchableParent(data);
      if (blocked) throw new ClusterError(`the ${SERVER_ACCOUNT} account the server runs as cannot reach ${data}: ${blocked} is not searchable by other users; choose a --dir elsewhere or \`chmod o+x ${blocked}\``);
    }
    asServer(bin, "initdb", ["-D", data, "-U", info.user, `--pwfile=${pwfile}`, "--auth-host=scram-sha-256", "--auth-local=peer", "-E", "UTF8", "--locale=C.UTF-8"]);
  } catch (error) {
    fs.rmSync(data, { recursive: true, force: true });
    fs.rmSync(path.join(dir, "password"), { force: true });
    throw error;
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
  fs.writeFileSync(path.join(dir, "cluster.json"), `${JSON.stringify(info, null, 2)}\n`);
}

/** The last `n` lines of a file, or a note that it cannot be read. */
function tail(file: string, n: number): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}

/** Writes a file only its owner may read (mode 0600 whatever the umask). */
function writePrivate(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** Creates the database Pulumi's table goes in, once. */
function ensureDatabase(dir: string, bin: string, info: ClusterInfo): void {
  const password = fs.readFileSync(path.join(dir, "password"), "utf8").trim();
  const psql = (database: string, sql: string) =>
    execFileSync(path.join(bin, "psql"), ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(info.port), "-U", info.user, "-d", database, "-c", sql], {
      encoding: "utf8",
      env: { ...process.env, PGPASSWORD: password },
      stdio: ["ignore", "pipe", "pipe"],
    });
  try {
    if (psql("postgres", `SELECT 1 FROM pg_database WHERE datname = '${info.database}'`).trim() !== "1") psql("postgres", `CREATE DATABASE "${info.database}"`);
  } catch (error) {
    throw new ClusterError(`cannot create the database ${info.database}: ${String((error as { stderr?: string }).stderr ?? (error as Error).message).trim()}`);
  }
}

/** postgres's options: loopback TCP only, no Unix socket (its directory would need the server account). */
function serverOptions(port: number): string {
  return `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=''`;
}

/** The postmaster's pid from data/postmaster.pid when that process is alive. */
function runningPid(data: string): number | undefined {
  const file = path.join(data, "postmaster.pid");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const pid = Number(text.split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM" ? pid : undefined;
  }
}

/** Runs one of PostgreSQL's programs, as the server account when we are root. */
function asServer(bin: string, program: string, args: string[]): string {
  const exe = path.join(bin, program);
  const [command, argv] = isRoot() ? ["runuser", ["-u", SERVER_ACCOUNT, "--", exe, ...args]] : [exe, args];
  try {
    return execFileSync(command, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], cwd: "/" });
  } catch (error) {
    const out = `${(error as { stderr?: string }).stderr ?? ""}${(error as { stdout?: string }).stdout ?? ""}`.trim();
    throw new ClusterError(`${program} failed: ${out || (error as Error).message}`);
  }
}

function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

function chownToServer(dir: string): void {
  try {
    execFileSync("chown", ["-R", `${SERVER_ACCOUNT}:`, dir], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    throw new ClusterError(`cannot give ${dir} to the ${SERVER_ACCOUNT} account (initdb and postgres refuse to run as root): ${String((error as { stderr?: string }).stderr ?? "").trim() || (error as Error).message}`);
  }
}

/** The first directory above `dir` that other users cannot search, if any. */
function unsearchableParent(dir: string): string | undefined {
  for (let d = path.dirname(dir), parent = ""; d !== parent; parent = d, d = path.dirname(d)) {
    if ((fs.statSync(d).mode & 0o001) === 0) return d;
  }
  return undefined;
}

/** A loopback port nothing listens on now. */
function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
