/**
 * The stack file and its topology, loaded in a short-lived worker thread. Parsing a stack
 * of a thousand DPUs (1.1 MB of YAML with every value's source position) builds about
 * 100 MB of transient objects; on the server's thread that grew its heap to 137 MB and
 * its resident size to 213 MB before any port was read, and V8 kept those pages for the
 * refreshes to fill. A worker's heap is returned to the system when the worker exits, so
 * the server keeps only what the dashboard reads: the model without the source positions
 * (used for error messages only) and the declared topology.
 */
import * as path from "node:path";
import { loadStackSync, type LoadedStack } from "../../model/load";
import { stackTopology, type Topology } from "../../model/topology";
import { offThread } from "../worker-thread";

/** What the dashboard keeps of a stack. */
export interface DashboardStack {
  loaded: LoadedStack;
  declared: Topology;
}

/** Loads on this thread; what the worker runs too. */
export function loadDashboardStack(file: string): DashboardStack {
  const loaded = loadStackSync(file);
  return { loaded: { ...loaded, sources: {} }, declared: stackTopology(loaded) };
}

/**
 * Loads `file` in a worker thread (`../worker-thread.ts`). A stack that fails to load is
 * loaded again here, so the caller gets the loader's own error (`InputError` with every finding).
 */
export async function loadStackOffThread(file: string): Promise<DashboardStack> {
  return offThread(path.join(__dirname, "load-stack-worker.js"), file, () => loadDashboardStack(file));
}
