/**
 * Following long Redfish operations: a 202 answer names a task monitor (`Location`) and
 * usually the task resource; this polls either to the end, surviving monitors that expire
 * or vanish, and turns a failed task into an error carrying the port's own reason.
 *
 * It sits below the client and talks to it only through `TaskPort`, so the client can
 * keep `waitForTask` as a method without the two files importing each other.
 */

import { backoffDelay, parseRetryAfter, pollBackoff } from "./backoff";
import { RedfishError, type RedfishMessage } from "./errors";
import { asRecord, headerValue, linkOf } from "./odata";
import type { RawResponse } from "./transport";

/** A Redfish task's state, as `TaskState` names it. */
export type TaskState =
  | "New"
  | "Starting"
  | "Running"
  | "Suspended"
  | "Interrupted"
  | "Pending"
  | "Stopping"
  | "Completed"
  | "Killed"
  | "Exception"
  | "Service"
  | "Cancelling"
  | "Cancelled";

/** A finished (or observed) Redfish task. */
export interface Task {
  /** The task resource URI (`/redfish/v1/TaskService/Tasks/<id>`), when known. */
  uri?: string;
  /** The task monitor URI, when known. */
  monitor?: string;
  state: TaskState;
  /** `PercentComplete`, when reported. */
  percentComplete?: number;
  /** The task's `Messages`. */
  messages: RedfishMessage[];
  /** The final response body of the operation, when the monitor returned one that is not the task. */
  result?: unknown;
  /** The `Location` of that final response (e.g. the resource a create task made). */
  resultLocation?: string;
}

/** Options of `waitForTask`. */
export interface WaitOptions {
  /** Called whenever `PercentComplete` changes. */
  onProgress?(percentComplete: number): void;
  /** Overrides the client's operation timeout for this wait, in ms. */
  timeoutMs?: number;
}

/** A task that ended `Exception`, `Killed` or `Cancelled`. */
export class TaskFailedError extends RedfishError {
  /** The task as last seen. */
  readonly task: Task;

  /** Builds the error from the task's own messages. */
  constructor(task: Task, endpoint: string) {
    const reason = pickFailureMessage(task.messages);
    super(`task ended ${task.state}`, {
      uri: task.uri ?? task.monitor ?? "(task)",
      endpoint,
      messageId: reason?.MessageId,
      serviceMessage: reason?.Message,
      resolution: reason?.Resolution,
    });
    this.task = task;
  }
}

/**
 * What waiting needs from the client. Polls go through the client's retry and re-login
 * policy but come back with any status, because 202 and 404 mean something here.
 */
export interface TaskPort {
  readonly endpoint: string;
  readonly operationTimeoutMs: number;
  now(): number;
  /** Random numbers in [0, 1) for the poll backoff's jitter. */
  random(): number;
  /** An authenticated GET, answering whatever status the port finally gave. */
  poll(uri: string, deadline: number): Promise<RawResponse>;
  /** An authenticated GET that throws `RedfishError` unless the answer is 2xx. */
  read(uri: string, deadline: number): Promise<unknown>;
  serviceRoot(): Promise<Record<string, unknown>>;
  getCollection<T>(uri: string): Promise<Array<{ uri: string; body: T }>>;
  /** The `RedfishError` for a non-2xx answer, with secrets scrubbed. */
  errorFrom(res: RawResponse, method: string, uri: string, summary: string): RedfishError;
  /** Sleeps, or throws `OperationTimeoutError` when the sleep would end past `deadline`. */
  sleepUntilDeadline(delay: number, deadline: number, uri: string, what: string): Promise<void>;
}

/**
 * Where to follow a long operation a 202 answer started: the task monitor (`Location`)
 * and the task resource (the body's `@odata.id`). Keep `task ?? monitor` in resource
 * outputs: the task resource outlives its monitor, so a later run can resume waiting
 * with `waitForTask`. Undefined when the answer did not start a task.
 */
export function taskReference(res: { status: number; location?: string; body: unknown }): { monitor?: string; task?: string; uri: string } | undefined {
  if (res.status !== 202) return undefined;
  const task = readTask(res.body)?.uri ?? (isTaskUri(linkOf(res.body) ?? "") ? linkOf(res.body) : undefined);
  const uri = task ?? res.location;
  return uri ? { monitor: res.location, task, uri } : undefined;
}

const RUNNING_STATES = new Set<string>(["New", "Starting", "Running", "Suspended", "Interrupted", "Pending", "Stopping", "Service", "Cancelling"]);
const FAILED_STATES = new Set<string>(["Exception", "Killed", "Cancelled"]);

/** One poll's verdict: the finished task, keep polling, or poll the task resource instead of the monitor. */
type Outcome = Task | undefined | "switch-to-task";

/**
 * Follows a task monitor or task URI to its end (see `RedfishClient.waitForTask`).
 * The whole wait, polling included, shares one deadline.
 */
export async function waitForTask(port: TaskPort, monitorOrTaskUri: string, opts: WaitOptions = {}): Promise<Task> {
  const deadline = port.now() + (opts.timeoutMs ?? port.operationTimeoutMs);
  let pollUri = monitorOrTaskUri;
  let known: Partial<Task> = isTaskUri(monitorOrTaskUri) ? { uri: monitorOrTaskUri } : { monitor: monitorOrTaskUri };
  const progress = progressReporter(opts.onProgress);
  for (let poll = 0; ; poll++) {
    const res = await port.poll(pollUri, deadline);
    const seen = readTask(res.body);
    if (seen?.uri) known = { ...known, uri: seen.uri };
    // A poll that finds the task ended reports no percent: the caller says it is done.
    if (!seen || RUNNING_STATES.has(seen.state)) progress(seen?.percentComplete);
    if (res.status === 404 && !known.uri) {
      // A monitor kept from an earlier run may have expired; its task names it.
      const uri = await findTaskByMonitor(port, pollUri, deadline);
      if (uri) {
        known = { ...known, uri };
        pollUri = uri;
        continue;
      }
    }
    const finished = taskOutcome(port, res, seen, known, pollUri);
    if (finished === "switch-to-task") {
      if (res.status < 300 && !seen) known = { ...known, result: res.body, resultLocation: headerValue(res.headers.location) };
      pollUri = known.uri as string;
      continue;
    }
    if (finished) return finished;
    const retryAfter = parseRetryAfter(headerValue(res.headers["retry-after"]), port.now());
    await port.sleepUntilDeadline(backoffDelay(pollBackoff, poll, port.random, retryAfter), deadline, pollUri, "waiting for a task");
  }
}

/** Calls `onProgress` only when `PercentComplete` changed: ports repeat it on every poll. */
function progressReporter(onProgress: WaitOptions["onProgress"]): (percent: number | undefined) => void {
  let last: number | undefined;
  return (percent) => {
    if (percent === undefined || percent === last) return;
    last = percent;
    onProgress?.(percent);
  };
}

/** The task whose `TaskMonitor` is `monitor`, found through the TaskService's task collection. */
async function findTaskByMonitor(port: TaskPort, monitor: string, deadline: number): Promise<string | undefined> {
  const root = await port.serviceRoot();
  const service = linkOf(root.Tasks) ?? linkOf(root.TaskService);
  if (!service) return undefined;
  const tasks = linkOf(asRecord(await port.read(service, deadline)).Tasks);
  if (!tasks) return undefined;
  const members = await port.getCollection<Record<string, unknown>>(tasks);
  return members.find((m) => asRecord(m.body).TaskMonitor === monitor)?.uri;
}

/** Decides what one poll means. */
function taskOutcome(port: TaskPort, res: RawResponse, seen: Task | undefined, known: Partial<Task>, pollUri: string): Outcome {
  if (res.status === 202) return undefined;
  const onMonitor = pollUri !== known.uri;
  // Monitors may vanish once their task ends; the task resource itself stays.
  if (res.status === 404 && known.uri && onMonitor) return "switch-to-task";
  if (res.status >= 400) throw port.errorFrom(res, "GET", pollUri, "the task's operation failed");
  if (seen) return taskState(port, { ...known, ...seen, uri: seen.uri ?? known.uri, monitor: known.monitor });
  // The monitor returned the operation's own result; the task resource has the final messages.
  if (known.uri && onMonitor) return "switch-to-task";
  return { ...known, state: "Completed", messages: [], result: res.body, resultLocation: headerValue(res.headers.location) };
}

/** A task still running is undefined (keep polling); a failed one throws. */
function taskState(port: TaskPort, task: Task): Task | undefined {
  if (RUNNING_STATES.has(task.state)) return undefined;
  if (FAILED_STATES.has(task.state)) throw new TaskFailedError(task, port.endpoint);
  return task;
}

/**
 * The message that explains a failed task: the last severe one that is not a bare
 * TaskEvent state change ("the task was aborted" says nothing about why), else the
 * last severe one, else the last one.
 */
function pickFailureMessage(messages: RedfishMessage[]): RedfishMessage | undefined {
  const severe = messages.filter((m) => /critical|warning/i.test(m.MessageSeverity ?? m.Severity ?? ""));
  const specific = severe.filter((m) => !/^TaskEvent\./.test(m.MessageId ?? ""));
  return specific[specific.length - 1] ?? severe[severe.length - 1] ?? messages[messages.length - 1];
}

/** Reads a Task body; undefined when the body is not a task. */
function readTask(body: unknown): Task | undefined {
  const b = asRecord(body);
  if (typeof b.TaskState !== "string") return undefined;
  return {
    uri: typeof b["@odata.id"] === "string" ? b["@odata.id"] : undefined,
    state: b.TaskState as TaskState,
    percentComplete: typeof b.PercentComplete === "number" ? b.PercentComplete : undefined,
    messages: Array.isArray(b.Messages) ? (b.Messages.filter((m) => typeof m === "object" && m !== null) as RedfishMessage[]) : [],
  };
}

function isTaskUri(uri: string): boolean {
  return /\/TaskService\/Tasks\/[^/]+$/.test(uri);
}
