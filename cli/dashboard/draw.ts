/**
 * The dashboard's topology drawings (`cli/graph/svg.ts`): the whole fleet, or one cluster
 * at a time on a big fleet (`clusters.ts`), each made once, in a worker thread so the
 * layout's CPU never holds up the server, and one at a time so two drawings asked for at
 * once do not halve each other's speed. From the sources (a test running TypeScript)
 * there is no compiled worker to start: then they are drawn on this thread.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import type { Topology } from "../../model/topology";
import { topologyToSvg } from "../graph/svg";
import { clusterNames, clusterTopology } from "./clusters";

/** Up to this many DPUs the page opens on the whole fleet's picture; above, on its first cluster's. */
export const WHOLE_FLEET_MAX_DPUS = 200;

/** What the page can draw: `fleet` (the whole) or one of the clusters. */
export interface TopologyViews {
  views: string[];
  /** The view the page opens on. */
  initial: string;
  /** Managed and unmanaged DPUs in the topology. */
  dpus: number;
}

/** The SVG of `topology`, laid out off the calling thread when the compiled worker is there. */
export function drawTopology(topology: Topology): Promise<string> {
  const worker = path.join(__dirname, "draw-worker.js");
  if (!fs.existsSync(worker)) return topologyToSvg(topology);
  return new Promise((resolve, reject) => {
    const thread = new Worker(worker, { workerData: topology });
    thread.once("message", (m: { svg?: string; error?: string }) => (m.svg !== undefined ? resolve(m.svg) : reject(new Error(`drawing the topology failed: ${m.error}`))));
    thread.once("error", reject);
    thread.once("exit", (code) => reject(new Error(`the topology drawing thread exited with ${code} before it answered`)));
  });
}

/** The drawings of one topology, by view, each made once when first asked for. */
export class TopologyDrawings {
  private readonly made = new Map<string, Promise<string>>();
  private queue: Promise<unknown> = Promise.resolve();
  readonly views: TopologyViews;

  constructor(private readonly topology: Topology) {
    const dpus = topology.nodes.filter((n) => n.kind === "dpu").length;
    const clusters = clusterNames(topology);
    this.views = { views: ["fleet", ...clusters], initial: dpus <= WHOLE_FLEET_MAX_DPUS || clusters.length === 0 ? "fleet" : clusters[0], dpus };
  }

  /** The SVG of `view`; undefined for a view the topology does not have. */
  svg(view: string): Promise<string> | undefined {
    const known = this.made.get(view);
    if (known) return known;
    const part = view === "fleet" ? this.topology : clusterTopology(this.topology, view);
    if (!part) return undefined;
    const drawing = this.queue.then(() => drawTopology(part));
    // The next drawing waits for this one, whether it succeeds or not.
    this.queue = drawing.catch(() => undefined);
    this.made.set(view, drawing);
    return drawing;
  }
}
