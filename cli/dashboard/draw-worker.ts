/**
 * The worker thread that draws the topology (`draw.ts`): elkjs lays out synchronously, and
 * on a fleet of a thousand DPUs that is many seconds of CPU the server's thread must not
 * spend while it answers the page and reads the ports.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Topology } from "../../model/topology";
import { topologyToSvg } from "../graph/svg";

topologyToSvg(workerData as Topology).then(
  (svg) => parentPort?.postMessage({ svg }),
  (error: unknown) => parentPort?.postMessage({ error: String((error as Error)?.stack ?? error) }),
);
