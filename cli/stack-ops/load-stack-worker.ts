/**
 * The worker thread that loads an operation's stack file (`load-stack.ts`). A stack that
 * fails to load answers nothing: the caller loads it again on its own thread for the
 * loader's error.
 */
import { parentPort, workerData } from "node:worker_threads";
import { prepareStack, type PreparedStack } from "./load-stack";

function prepare(): PreparedStack | undefined {
  const { file, handoffDir } = workerData as { file: string; handoffDir: string };
  try {
    return prepareStack(file, handoffDir);
  } catch {
    return undefined;
  }
}

parentPort?.postMessage({ prepared: prepare() });
