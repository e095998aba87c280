/**
 * `smartfleet dashboard --stack NAME [--cwd DIR] [--port P] [--host ADDR] [--interval S]`:
 * a local web page of the fleet, live — the stack's topology coloured by what each port
 * shows (converged, drifted and how, changing, failed, unprotected, unreachable), a
 * filterable table grouped by cluster, the rollout now (hosts holding slots, hosts in
 * maintenance) and its plan. It serves until interrupted; the URL it prints carries the
 * token every request needs.
 */
import * as path from "node:path";
import { InputError } from "../../schemas/diagnostics";
import { defineCommand, EXIT, parseCommand } from "../args";

/** One line for `smartfleet help`. */
export const summary = "serve a live web page of the fleet: topology coloured by state, a table, the rollout now and its plan";

const SPEC = defineCommand({
  name: "smartfleet dashboard",
  summary,
  options: {
    stack: { type: "string", required: true, valueName: "NAME", description: "the Pulumi stack whose fleet to show (its endpoints, CA and management password reach the ports)" },
    cwd: { type: "string", valueName: "DIR", description: "the Pulumi project directory (default: the working directory)" },
    host: { type: "string", default: "127.0.0.1", valueName: "ADDR", description: "the address to listen on (loopback by default; anything else exposes the fleet to the network, over plain HTTP)" },
    port: { type: "number", integer: true, min: 0, default: 0, valueName: "P", description: "the port to listen on (0: any free port)" },
    interval: { type: "number", min: 1, default: 5, valueName: "SECONDS", description: "pause between two reads of the fleet (each reads every managed DPU's port once)" },
  },
});

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Runs the command; resolves to the exit code once interrupted (SIGINT, SIGTERM). */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const { stack, cwd, host, port, interval } = parsed.values;
  // Loaded on demand: `smartfleet help` must not load the Redfish client or Pulumi.
  const { openDashboard, LiveConfigError } = await import("../dashboard/open");
  let dashboard: Awaited<ReturnType<typeof openDashboard>>;
  try {
    dashboard = await openDashboard({ stack, cwd: path.resolve(cwd ?? process.cwd()), host, port, intervalMs: interval * 1000 });
  } catch (error) {
    if (error instanceof LiveConfigError || error instanceof InputError) {
      console.error(`smartfleet dashboard: ${error.message}`);
      return EXIT.usage;
    }
    const code = (error as NodeJS.ErrnoException)?.code;
    if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL" || code === "EACCES") {
      console.error(`smartfleet dashboard: cannot listen on ${host}:${port}: ${(error as Error).message}`);
      return EXIT.usage;
    }
    throw error;
  }
  if (!LOOPBACK.test(host)) console.error(`smartfleet dashboard: listening on ${host}, not loopback: anyone who can reach it and has the URL sees the fleet, over plain HTTP`);
  console.error(`smartfleet dashboard: reading ${dashboard.dpus} managed DPUs every ${interval} s; Ctrl-C stops`);
  // The URL alone on stdout, so a script can take it.
  console.log(dashboard.url);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await dashboard.close();
  return EXIT.ok;
}
