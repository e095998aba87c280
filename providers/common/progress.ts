/**
 * Progress messages on the resource they concern.
 *
 * The kind framework runs each provider call inside {@link onResource}, which carries the
 * call's resource (its URN, when `request-urn.ts` recovered it, and its name) through every
 * await of the call with an AsyncLocalStorage. Code far below — the pooled Redfish client
 * shared by many resources, the rollout's slot waits — then just calls {@link report}, and
 * the message reaches the engine attached to the resource whose work caused it: `pulumi up`
 * shows it under that resource, and the Automation API's `diagnosticEvent` carries its URN.
 *
 * Without an engine link (outside the dynamic-provider host, or an SDK whose host no longer
 * matches) or without a URN (the very first call of a process, which loads the provider
 * before any request can be captured), a message goes to stderr as `smartfleet: [name] …`,
 * which Pulumi shows under the stack. Ephemeral statuses are dropped there: the lines that
 * {@link taskProgress} keeps say the same at a readable rate.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { EngineLog } from "./engine-log";

/** The resource a provider call is working on. */
export interface ResourceScope {
  /** Its URN, when the call's request had one that was captured. */
  urn?: string;
  /** Its name in messages, e.g. `DpuOs esx-01/nic1`. */
  label: string;
}

/** How a message is shown. */
export interface ReportOptions {
  /** `warning` for what needs a look; default `info`. */
  severity?: "info" | "warning";
  /** A passing status next to the resource, replaced by the next one; not kept in the log. */
  ephemeral?: boolean;
}

/** Percent lines are written at most once per this many points… */
export const PERCENT_STEP = 10;
/** …or per this many ms, whichever comes first. */
export const PERCENT_INTERVAL_MS = 5_000;
/** How long a finished call waits for its messages to reach the engine. */
export const FLUSH_MS = 2_000;

const scopes = new AsyncLocalStorage<ResourceScope>();
let engineLog: EngineLog | undefined;
let writeLine: (line: string) => void = (line) => console.error(line);
/** Messages not yet answered by the engine, by the call that sent them (undefined: outside any). */
const inFlight = new Map<ResourceScope | undefined, Set<Promise<void>>>();
/** The last message sent on each resource, which the next one waits for. */
const queues = new Map<string, Promise<void>>();

/** Sends messages with a URN to the engine through `log` (undefined: stderr only). */
export function useEngineLog(log: EngineLog | undefined): void {
  engineLog = log;
}

/** Where stderr lines go (tests capture them). */
export function useStderr(write: (line: string) => void): void {
  writeLine = write;
}

/** The resource the current call is working on, if any. */
export function currentResource(): ResourceScope | undefined {
  return scopes.getStore();
}

/**
 * Runs one provider call for `scope`: every {@link report} made by it, across awaits, is
 * about that resource. Waits (at most {@link FLUSH_MS}) for the call's messages to reach the
 * engine before returning, so none is lost when the engine stops the process after the run.
 */
export async function onResource<T>(scope: ResourceScope, work: () => Promise<T>): Promise<T> {
  try {
    return await scopes.run(scope, work);
  } finally {
    await flushReports(scope);
  }
}

/** Reports `message` on the current resource (see the file comment for where it goes). */
export function report(message: string, opts: ReportOptions = {}): void {
  const scope = scopes.getStore();
  const severity = opts.severity ?? "info";
  const ephemeral = opts.ephemeral ?? false;
  if (scope?.urn && engineLog) {
    const { urn } = scope;
    const log = engineLog;
    // One at a time per resource: the engine handles concurrent Log calls in any order.
    const sent = (queues.get(urn) ?? Promise.resolve())
      .then(() => log({ urn, message, severity, ephemeral }))
      .catch((error: unknown) => {
        if (!ephemeral) toStderr(scope, message, `(the engine did not take it: ${(error as Error).message})`);
      });
    queues.set(urn, sent);
    const pending = inFlight.get(scope) ?? new Set<Promise<void>>();
    inFlight.set(scope, pending.add(sent));
    void sent.finally(() => {
      pending.delete(sent);
      if (pending.size === 0 && inFlight.get(scope) === pending) inFlight.delete(scope);
      if (queues.get(urn) === sent) queues.delete(urn);
    });
    return;
  }
  if (!ephemeral) toStderr(scope, message);
}

function toStderr(scope: ResourceScope | undefined, message: string, note?: string): void {
  writeLine(`smartfleet: ${scope ? `[${scope.label}] ` : ""}${message}${note ? ` ${note}` : ""}`);
}

/**
 * Waits until the messages `scope`'s call sent so far reached the engine (every call's
 * without a scope), at most `timeoutMs`: a call does not wait for other resources' messages.
 */
export async function flushReports(scope?: ResourceScope, timeoutMs = FLUSH_MS): Promise<void> {
  const pending = scope ? [...(inFlight.get(scope) ?? [])] : [...inFlight.values()].flatMap((set) => [...set]);
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    timer.unref();
  });
  await Promise.race([Promise.allSettled(pending), timeout]);
  clearTimeout(timer);
}

/**
 * The `onProgress` of a task wait for `what` (e.g. `installing dpu-os 8.1.0`): every new
 * percent becomes the resource's ephemeral status, and a kept line `what: N %` is written
 * when the percent moved {@link PERCENT_STEP} points or {@link PERCENT_INTERVAL_MS} passed
 * since the last one (ports report every poll; an install at hardware speed polls for minutes).
 */
export function taskProgress(what: string, now: () => number = Date.now): (percent: number) => void {
  let lastPercent: number | undefined;
  let lastAt = 0;
  return (percent) => {
    report(`${what}: ${percent} %`, { ephemeral: true });
    const at = now();
    if (lastPercent !== undefined && percent < lastPercent + PERCENT_STEP && at - lastAt < PERCENT_INTERVAL_MS) return;
    lastPercent = percent;
    lastAt = at;
    report(`${what}: ${percent} %`);
  };
}
