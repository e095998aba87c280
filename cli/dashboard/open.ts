/**
 * Everything `smartfleet dashboard` starts, put together: the Pulumi stack's configuration
 * (stack file, ports, CA, management password, through the Automation API), the stack's
 * topology and its drawing, the refresh loop over the ports and the rollout store, the
 * plan runner, and the HTTP server.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { projectRoot } from "../../providers/common/settings";
import { liveTargets, LiveConfigError } from "../graph/live";
import { TopologyDrawings } from "./draw";
import { loadStackOffThread } from "./load-stack";
import { FleetMonitor } from "./monitor";
import { rolloutReaderFor } from "./rollout-postgres";
import { PlanRunner } from "./rollout-plan";
import { startDashboard, type RunningDashboard } from "./server";

export interface OpenOptions {
  /** The Pulumi stack. */
  stack: string;
  /** A directory in the Pulumi project. */
  cwd: string;
  host: string;
  port: number;
  /** Pause between refreshes. */
  intervalMs: number;
}

export interface OpenDashboard extends RunningDashboard {
  monitor: FleetMonitor;
  /** How many managed DPUs each refresh reads. */
  dpus: number;
}

export { LiveConfigError };

/** Reads the stack's configuration, starts the refresh loop and the server. */
export async function openDashboard(opts: OpenOptions): Promise<OpenDashboard> {
  const root = projectRoot(opts.cwd);
  if (!fs.existsSync(path.join(root, "Pulumi.yaml"))) throw new LiveConfigError(`no Pulumi.yaml in ${opts.cwd} or above: run in the project or pass --cwd`);
  const stackFile = await stackFileOf(opts.stack, root);
  const { loaded, declared } = await loadStackOffThread(stackFile);
  const { targets, caPem } = await liveTargets(opts.stack, loaded, root);
  const monitor = new FleetMonitor({
    pulumiStack: opts.stack,
    loaded,
    declared,
    targets,
    caPem,
    rollout: rolloutReaderFor(root, loaded.stack.metadata.name),
    intervalMs: opts.intervalMs,
  });
  const drawings = new TopologyDrawings(declared);
  // The page's first view is drawn now; a failed layout is reported when the page asks for it.
  drawings.svg(drawings.views.initial)?.catch(() => undefined);
  monitor.start();
  try {
    const running = await startDashboard({ monitor, drawings, plan: new PlanRunner(opts.stack, root), host: opts.host, port: opts.port });
    return {
      ...running,
      monitor,
      dpus: targets.length,
      close: async () => {
        await running.close();
        await monitor.stop();
      },
    };
  } catch (error) {
    await monitor.stop();
    throw error;
  }
}

/** `smartfleet:stackFile` of the stack (default `stacks/<stack>.yaml`), resolved in the project. */
async function stackFileOf(stackName: string, root: string): Promise<string> {
  // Loaded here only: the rest of the CLI must not need @pulumi/pulumi to start.
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  let configured: string | undefined;
  try {
    // The workspace's read names the stack; selecting it would change the user's selected stack.
    configured = (await (await LocalWorkspace.create({ workDir: root })).getAllConfig(stackName))["smartfleet:stackFile"]?.value;
  } catch (error) {
    const line = String((error as Error)?.message ?? error).split("\n").find((l) => l.trim() !== "") ?? "unknown error";
    throw new LiveConfigError(`cannot read the configuration of stack '${stackName}' in ${root}: ${line}`);
  }
  const file = path.resolve(root, configured ?? path.join("stacks", `${stackName}.yaml`));
  if (!fs.existsSync(file)) throw new LiveConfigError(`the stack file of '${stackName}' (${file}${configured ? ", smartfleet:stackFile" : ", the default"}) does not exist`);
  return file;
}
