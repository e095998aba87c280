// The dashboard's server alone, in a process of its own, so the benchmark measures its
// memory (peak RSS, /proc/<pid>/status VmHWM) without the benchmark's browser driver and
// claim clients: the refresh loop, the drawings and the HTTP server as `open.ts` starts
// them, minus reading a Pulumi stack's configuration (the benchmark hands over what that
// would give: the stack file, the ports' CA and the DPUs to read with their password).
// Usage: node dist/bench/lib/dashboard-server.js CONFIG.json; prints `{ url, token }` on
// one line once it listens, and serves until SIGTERM.
import * as fs from "node:fs";
import * as path from "node:path";
import { TopologyDrawings } from "../../cli/dashboard/draw";
import { loadStackOffThread } from "../../cli/dashboard/load-stack";
import { FleetMonitor } from "../../cli/dashboard/monitor";
import { RolloutReader } from "../../cli/dashboard/rollout-now";
import { PlanRunner } from "../../cli/dashboard/rollout-plan";
import { startDashboard } from "../../cli/dashboard/server";
import type { ObservedTarget } from "../../cli/graph/live";

/** What the benchmark hands over. */
export interface DashboardServerConfig {
  stackFile: string;
  caFile: string;
  targets: ObservedTarget[];
  intervalMs: number;
  /** A folder for the (absent) rollout store and the plan runner. */
  dir: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(fs.readFileSync(process.argv[2], "utf8")) as DashboardServerConfig;
  const { loaded, declared } = await loadStackOffThread(config.stackFile);
  const drawings = new TopologyDrawings(declared);
  drawings.svg(drawings.views.initial)?.catch(() => undefined);
  const caPem = fs.readFileSync(config.caFile, "utf8");
  const monitor = new FleetMonitor({ pulumiStack: "bench", loaded, declared, targets: config.targets, caPem, rollout: new RolloutReader(path.join(config.dir, "rollout.db")), intervalMs: config.intervalMs });
  monitor.start();
  const server = await startDashboard({ monitor, drawings, plan: new PlanRunner("bench", config.dir), host: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ url: server.url, token: server.token }));
  process.once("SIGTERM", () => {
    void server.close().then(() => monitor.stop()).then(() => process.exit(0));
  });
}

main().catch((error) => {
  console.error(`dashboard-server: ${(error as Error)?.stack ?? error}`);
  process.exit(1);
});
