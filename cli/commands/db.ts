/**
 * `smartfleet db start|stop|url|status [--dir DIR] [--url URL]`: a local PostgreSQL cluster
 * for Pulumi's PostgreSQL backend (team state in a shared, transactional store), from
 * Debian's `postgresql` package (installed with apt-get when missing). `start` prints the
 * URL to export as PULUMI_BACKEND_URL; `status --url URL` checks a login to any server
 * (an existing team server too). The logic is in `cli/db/cluster.ts`.
 */
import * as path from "node:path";
import { defineCommand, EXIT, parseCommand, usageError } from "../args";
import { checkLogin, ClusterError, clusterStatus, clusterUrl, startCluster, stopCluster } from "../db/cluster";
import { projectRoot } from "../../providers/common/settings";

/** One line for `smartfleet help`. */
export const summary = "a local PostgreSQL cluster for Pulumi's postgres:// backend: start, stop, url, status";

const ACTIONS = ["start", "stop", "url", "status"] as const;

const SPEC = defineCommand({
  name: "smartfleet db",
  summary,
  positionals: { name: "ACTION", description: `one of ${ACTIONS.join(", ")}`, min: 1, max: 1 },
  options: {
    dir: { type: "string", valueName: "DIR", description: "the cluster directory (default: .smartfleet/postgres in the project)" },
    url: { type: "string", valueName: "URL", description: "status: check a login to this postgres:// URL instead of the local cluster" },
  },
});

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const action = parsed.positionals[0];
  if (!(ACTIONS as readonly string[]).includes(action)) return usageError(SPEC, `unknown action '${action}': use one of ${ACTIONS.join(", ")}`);
  if (parsed.values.url && action !== "status") return usageError(SPEC, "--url goes with status only");
  const dir = path.resolve(parsed.values.dir ?? path.join(projectRoot(process.cwd()), ".smartfleet", "postgres"));
  try {
    switch (action) {
      case "start":
        console.log(await startCluster(dir));
        return EXIT.ok;
      case "stop":
        console.error(stopCluster(dir) ? `stopped the cluster in ${dir}` : `the cluster in ${dir} was not running`);
        return EXIT.ok;
      case "url":
        console.log(clusterUrl(dir));
        return EXIT.ok;
      default:
        return status(dir, parsed.values.url);
    }
  } catch (error) {
    if (error instanceof ClusterError) {
      console.error(`smartfleet db ${action}: ${error.message}`);
      return EXIT.findings;
    }
    throw error;
  }
}

/** Running and accepting our login: exit 0; otherwise what is wrong, exit 1. */
function status(dir: string, url: string | undefined): number {
  if (url) {
    checkLogin(url);
    console.log(`${redact(url)}: accepts the login`);
    return EXIT.ok;
  }
  const found = clusterStatus(dir);
  if (!found.initialised) {
    console.error(`no cluster in ${dir} (run \`smartfleet db start\`)`);
    return EXIT.findings;
  }
  if (found.pid === undefined) {
    console.error(`the cluster in ${dir} is not running (run \`smartfleet db start\`)`);
    return EXIT.findings;
  }
  const own = clusterUrl(dir);
  checkLogin(own);
  console.log(`running (pid ${found.pid}) on 127.0.0.1:${found.info?.port}, database ${found.info?.database}, login accepted: ${redact(own)}`);
  return EXIT.ok;
}

/** The URL with its password hidden. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = "****";
  return u.toString();
}
