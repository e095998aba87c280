/**
 * The dynamic-provider process ends when the Pulumi engine that started it is gone.
 *
 * The engine starts each plugin in a process group of its own with a pipe on its stdin
 * (and stops it with SIGINT, then SIGKILL, when a command is done). When the engine itself
 * dies — `kill -9` of `pulumi up`, the OOM killer, a CI runner ending a step — nothing
 * stops the plugin: it would go on running the operations it had been asked for, polling
 * tasks and sending requests to the management ports for minutes, for a run whose state
 * no longer records them. This watch notices that the engine is gone and then:
 *
 * 1. refuses every new HTTPS request of the process at once (in-flight operations fail
 *    instead of sending their next request), except the shutdown's own (with
 *    SMARTFLEET_ENGINE_WATCH_LOG=FILE it appends a line saying when it noticed, when the
 *    last request before went out, and how many it refused);
 * 2. logs the pooled sessions out, bounded as on SIGTERM ({@link LOGOUT_MS});
 * 3. exits.
 *
 * Tasks already started on a port (an OS install) go on on the DPU; the next run adopts or
 * waits for them. Until `configure` runs, a lighter watch started by the preload
 * (`engine-watch-preload.ts`) just exits. Two signs of a gone engine, whichever comes first:
 *
 * - stdin reaches end of file: only the engine holds the write end of that pipe, and the
 *   kernel closes it when the engine dies, however it dies;
 * - the process is reparented: its parent (or, when the parent is the
 *   `pulumi-resource-pulumi-nodejs` shell wrapper, the wrapper's parent: the engine) is no
 *   longer the one it started with. Checked every {@link CHECK_INTERVAL_MS} on an unref'd
 *   timer, so it never keeps the process alive.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import * as fs from "node:fs";
// The module object itself (not an import-star copy), so replacing its `request` is seen by every caller.
import https = require("node:https");
import { closeAllClients } from "../redfish/pool";

/** How often the parent is checked. */
export const CHECK_INTERVAL_MS = 500;
/** How long logging sessions out may hold up the exit (as on SIGTERM). */
export const LOGOUT_MS = 3_000;

/** Requests made inside this context (the shutdown's logouts) still go out. */
const shutdownContext = new AsyncLocalStorage<true>();
let watching = false;
let gone: string | undefined;

/** Why the engine is considered gone, once it is (for diagnostics and tests). */
export function engineGone(): string | undefined {
  return gone;
}

/** What the watch needs from the process; injectable for tests. */
export interface EngineWatchOptions {
  /** Stream whose end means the engine is gone (default: process.stdin when it is a pipe). */
  stdin?: NodeJS.ReadableStream & { unref?: () => void };
  /** The current parent pid (default: process.ppid). */
  parentPid?: () => number;
  /** The parent pid of another process (default: from /proc; undefined when unknown). */
  parentOf?: (pid: number) => number | undefined;
  /** The command line of a process (default: from /proc). */
  commandOf?: (pid: number) => string | undefined;
  /** Called instead of process.exit once sessions are logged out. */
  exit?: (code: number) => void;
  /** Check interval (default {@link CHECK_INTERVAL_MS}). */
  intervalMs?: number;
}

/**
 * Starts watching the engine, once per process (later calls do nothing). Called from the
 * providers' `configure`, which runs only in the dynamic-provider process Pulumi starts.
 */
export function watchEngine(opts: EngineWatchOptions = {}): void {
  if (watching) return;
  watching = true;
  // This watch takes over from the one the preload started (`engine-watch-preload.ts`).
  (globalThis as { [PRELOAD_WATCH]?: () => void })[PRELOAD_WATCH]?.();
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  guardRequests();
  onEngineGone(stop, opts);

  function stop(reason: string): void {
    if (gone) return;
    gone = reason;
    // Nobody reads our output any more: a write must not throw EPIPE on the way out.
    for (const stream of [process.stdout, process.stderr]) stream.on("error", () => undefined);
    detectedAt = Date.now();
    const done = (): void => {
      record(reason);
      exit(1);
    };
    setTimeout(done, LOGOUT_MS).unref();
    void shutdownContext.run(true, () => closeAllClients()).finally(done);
  }
}

/**
 * Calls `onGone` once, with the reason, when the engine that started this process is gone
 * (stdin at its end, or the process reparented); returns what stops watching. Timers and
 * stdin are unref'd: the watch never keeps the process alive.
 */
export function onEngineGone(onGone: (reason: string) => void, opts: EngineWatchOptions = {}): () => void {
  const parentPid = opts.parentPid ?? (() => process.ppid);
  const parentOf = opts.parentOf ?? procParentOf;
  const commandOf = opts.commandOf ?? procCommandOf;
  const parent = parentPid();
  // The shim `pulumi-resource-pulumi-nodejs` is a shell script that runs node as its
  // child: then the engine is the shell's parent, and the shell outlives the engine.
  const wrapped = /pulumi-resource-/.test(commandOf(parent) ?? "");
  const engine = wrapped ? parentOf(parent) : parent;
  let done = false;
  const once = (reason: string): void => {
    if (done) return;
    cancel();
    onGone(reason);
  };

  const timer = setInterval(() => {
    if (parentPid() !== parent) return once(`reparented: the parent ${parent} is gone`);
    if (wrapped && engine !== undefined && parentOf(parent) !== engine) return once(`the engine ${engine} is gone`);
  }, opts.intervalMs ?? CHECK_INTERVAL_MS);
  timer.unref();

  const stdin = opts.stdin ?? (isPipe(0) ? process.stdin : undefined);
  const closed = (): void => once("stdin closed");
  const ignore = (): void => undefined; // the engine writes nothing; reading is how the end shows
  if (stdin) {
    stdin.on("end", closed);
    stdin.on("close", closed);
    stdin.on("error", closed);
    stdin.on("data", ignore);
    stdin.unref?.();
  }
  function cancel(): void {
    done = true;
    clearInterval(timer);
    if (!stdin) return;
    for (const event of ["end", "close", "error"]) stdin.removeListener(event, closed);
    stdin.removeListener("data", ignore);
  }
  return cancel;
}

/**
 * Where the preload's watch leaves its stop function (on `globalThis`: the preload and the
 * provider may load this module from two copies of `dist/`).
 */
export const PRELOAD_WATCH = Symbol.for("smartfleet.engine-watch.preload");

/**
 * The watch of a dynamic-provider process before any provider code has run: Pulumi's host
 * loads our code only with the engine's first call about a resource, and an engine killed
 * before that would leave the host waiting for ever, its gRPC server keeping it alive.
 * Nothing has been sent to a port yet, so there is nothing to log out: it just exits. The
 * full watch ({@link watchEngine}, started by `configure`) stops it.
 */
export function watchUntilConfigured(opts: EngineWatchOptions = {}): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const stopWatching = onEngineGone(() => {
    record("engine gone before the provider was configured");
    exit(1);
  }, opts);
  (globalThis as { [PRELOAD_WATCH]?: () => void })[PRELOAD_WATCH] = stopWatching;
}

let detectedAt: number | undefined;
/** When the process last started a management request outside the shutdown (ms since the epoch). */
let lastRequestAt: number | undefined;
let refused = 0;
let loggedOut = 0;

/**
 * Wraps https.request and https.get: once the engine is gone they fail unless called by
 * the shutdown itself; until then they only note the time of the last request.
 */
function guardRequests(): void {
  for (const name of ["request", "get"] as const) {
    const original = https[name] as (...args: unknown[]) => unknown;
    const guarded = (...args: unknown[]): unknown => {
      if (shutdownContext.getStore()) loggedOut += 1;
      else if (gone) {
        refused += 1;
        throw new Error(`smartfleet: the Pulumi engine that started this provider is gone (${gone}); no further management requests are sent`);
      } else lastRequestAt = Date.now();
      return original(...args);
    };
    Object.defineProperty(https, name, { value: guarded, configurable: true, writable: true, enumerable: true });
  }
}

/** With SMARTFLEET_ENGINE_WATCH_LOG set, appends one JSON line on the way out: what happened when. */
function record(reason: string): void {
  const file = process.env.SMARTFLEET_ENGINE_WATCH_LOG;
  if (!file) return;
  try {
    fs.appendFileSync(file, JSON.stringify({ pid: process.pid, reason, detectedAt, lastRequestAt, refused, shutdownRequests: loggedOut, exitAt: Date.now() }) + "\n");
  } catch {
    // a diagnostic only
  }
}

function isPipe(fd: number): boolean {
  try {
    return fs.fstatSync(fd).isFIFO();
  } catch {
    return false;
  }
}

function procParentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined; // gone (or no /proc): a gone wrapper shows as a reparented process
  }
}

function procCommandOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return undefined;
  }
}
