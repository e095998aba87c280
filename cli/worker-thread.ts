/**
 * Work run on a short-lived worker thread: the parse of a large stack builds about 100 MB
 * of transient objects that go with the thread, and the caller's thread stays free for
 * other work meanwhile. A worker that fails answers nothing, and the caller runs the work
 * again on its own thread for the real error (an `InputError` with every problem does not
 * survive the crossing between threads).
 */
import * as fs from "node:fs";
import { parentPort, Worker, workerData } from "node:worker_threads";

/**
 * Runs `workerFile` (a compiled module that calls `answerFromThread`) with `data`, and
 * resolves to its answer; runs `onThread` instead when the compiled worker is not there
 * (from the sources, a test running TypeScript) or answered nothing.
 */
export async function offThread<T>(workerFile: string, data: unknown, onThread: () => T): Promise<T> {
  if (!fs.existsSync(workerFile)) return onThread();
  const answer = await new Promise<T | undefined>((resolve, reject) => {
    const thread = new Worker(workerFile, { workerData: data });
    thread.once("message", (m: { answer?: T }) => resolve(m.answer));
    thread.once("error", reject);
    thread.once("exit", (code) => reject(new Error(`the worker thread ${workerFile} exited with ${code} before it answered`)));
  });
  return answer ?? onThread();
}

/** In a worker: posts `work(workerData)`, or nothing when it throws. */
export function answerFromThread<T>(work: (data: never) => T): void {
  let answer: T | undefined;
  try {
    answer = work(workerData as never);
  } catch {
    answer = undefined;
  }
  parentPort?.postMessage({ answer });
}
