/**
 * The worker thread that loads the stack for the dashboard (`load-stack.ts`): the parse's
 * transient memory goes with the thread. A stack that fails to load answers nothing, and
 * the caller loads it again on its own thread for the loader's error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { loadDashboardStack, type DashboardStack } from "./load-stack";

function load(): DashboardStack | undefined {
  try {
    return loadDashboardStack(workerData as string);
  } catch {
    return undefined;
  }
}

parentPort?.postMessage({ stack: load() });
