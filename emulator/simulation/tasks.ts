/**
 * The task lifecycle shared by every long operation: start (instant when `timeScale` is 0),
 * a timer per running task, the end messages, pruning, and recovery after a restart. What a
 * task does to the hardware when its time is up belongs to its domain, which registers a
 * finisher per task kind; this file knows no kind.
 */
import type { DpuState, TaskKind, TaskMessage, TaskRecord, TaskResult } from "../model";
import type { SimulationCore, Transaction } from "./core";

/** Tasks remembered per DPU; the oldest ended ones go first. */
export const MAX_TASKS_PER_DPU = 100;

type KindOf<T extends TaskKind["type"]> = Extract<TaskKind, { type: T }>;

/** What a domain tells the lifecycle about one kind of task. */
export interface TaskFinisher<T extends TaskKind["type"]> {
  /** Applies what the task does on hardware when its time is up, and ends it (see `TaskEngine.end`). */
  finish(txn: Transaction, task: TaskRecord, kind: KindOf<T>): void;
  /**
   * True if an emulator restart while the task ran leaves it broken (an image half-written):
   * such a task ends in Exception at start instead of resuming.
   */
  lostOnRestart?(kind: KindOf<T>): boolean;
  /** Undoes on the DPU what a lost task had begun (e.g. the Installing state). */
  onLost?(d: DpuState, kind: KindOf<T>): void;
}

type AnyFinisher = TaskFinisher<TaskKind["type"]>;

/** Starts, times, ends and recovers tasks. */
export class TaskEngine {
  private readonly timers = new Map<string, () => void>();
  private readonly finishers = new Map<TaskKind["type"], AnyFinisher>();

  constructor(private readonly core: SimulationCore) {}

  /** Registers what tasks of `type` do when they finish (once per kind). */
  register<T extends TaskKind["type"]>(type: T, finisher: TaskFinisher<T>): void {
    this.finishers.set(type, finisher as unknown as AnyFinisher);
  }

  /** Tasks of a DPU not ended yet. */
  running(serial: string): TaskRecord[] {
    return this.core.tasksOf(serial).filter((t) => t.state === "Running" || t.state === "New");
  }

  /** Creates a task in `txn` that takes `hardwareMs` of hardware time (scaled), finishing at once if that is 0. */
  start(txn: Transaction, serial: string, name: string, kind: TaskKind, hardwareMs: number): TaskRecord {
    const d = txn.dpu(serial);
    const now = this.core.clock.now();
    const duration = Math.round(hardwareMs * this.core.timeScale);
    const id = String(d.nextId.task++);
    const task: TaskRecord = {
      id,
      serial,
      name,
      kind,
      state: "Running",
      startTime: now,
      dueAt: now + duration,
      endTime: null,
      messages: [message("TaskEvent.1.0.TaskStarted", `The task with Id '${id}' has started.`, "OK", [id])],
      result: null,
    };
    txn.task(task, true);
    this.core.taskTable.set(task);
    this.core.eventLog.afterCommit(txn, serial, { severity: "OK", messageId: "TaskEvent.1.0.TaskStarted", args: [id], message: `${name}: started (task ${id})`, origin: taskUri(id) });
    this.pruneEnded(txn, serial);
    if (duration <= 0) {
      // What the task began is seen (and logged) before it ends in the same change.
      this.core.checkpoint(txn);
      this.finish(txn, task);
    }
    // The timer starts only once the task is on disk: a refused change leaves no timer behind.
    else txn.after.push(() => this.arm(task));
    return task;
  }

  /** Ends a task with its TaskEvent message, an optional reason, and the monitor's final answer. */
  end(txn: Transaction, task: TaskRecord, state: "Completed" | "Exception" | "Killed", why: string, result?: TaskResult): void {
    txn.task(task);
    task.state = state;
    task.endTime = this.core.clock.now();
    const ok = state === "Completed";
    const ended = endMessage(task.id, state);
    task.messages.push(ended);
    const outcome = ok ? "completed" : state === "Killed" ? "cancelled" : "failed";
    this.core.eventLog.afterCommit(txn, task.serial, { severity: ended.severity, messageId: ended.messageId, args: [task.id], message: `${task.name}: ${outcome}${why ? `: ${why}` : ""}`, origin: taskUri(task.id) });
    if (why) task.messages.push(message(ok ? "Base.1.22.1.Success" : "Base.1.22.1.GeneralError", why, ok ? "OK" : "Critical", []));
    task.result = result ?? { status: ok ? 200 : 500, headers: {}, body: null };
    // Touching the DPU bumps its generation, so the task's end shows in the DPU's ETags.
    txn.dpu(task.serial);
    txn.after.push(() => this.disarm(task));
  }

  /** Resumes every task found in flight at start, or ends those a restart broke. */
  recoverInFlight(): void {
    for (const task of this.core.taskTable.all()) {
      if (task.state === "Running" || task.state === "New") this.recover(task);
    }
  }

  /** Cancels timers (state is already on disk). */
  stop(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  private finisherOf(task: TaskRecord): AnyFinisher {
    const f = this.finishers.get(task.kind.type);
    if (!f) throw new Error(`no finisher registered for tasks of kind '${task.kind.type}'`);
    return f;
  }

  private finish(txn: Transaction, task: TaskRecord): void {
    this.finisherOf(task).finish(txn, task, task.kind);
  }

  /** Keeps at most MAX_TASKS_PER_DPU tasks, dropping the oldest ended ones (CompletedTaskOverWritePolicy Oldest). */
  private pruneEnded(txn: Transaction, serial: string): void {
    const tasks = this.core.taskTable.of(serial);
    let excess = tasks.length - MAX_TASKS_PER_DPU;
    for (const t of tasks) {
      if (excess <= 0) break;
      if (t.state === "Running" || t.state === "New") continue;
      this.core.taskTable.delete(serial, t.id);
      txn.deletedTasks.push(t);
      excess--;
    }
  }

  private arm(task: TaskRecord): void {
    const key = timerKey(task);
    this.timers.get(key)?.();
    this.timers.set(
      key,
      this.core.clock.schedule(Math.max(0, task.dueAt - this.core.clock.now()), () => {
        this.timers.delete(key);
        if (task.state !== "Running") return;
        this.core.transact((txn) => this.finish(txn, task));
      }),
    );
  }

  private disarm(task: TaskRecord): void {
    const key = timerKey(task);
    this.timers.get(key)?.();
    this.timers.delete(key);
  }

  private recover(task: TaskRecord): void {
    const finisher = this.finisherOf(task);
    if (!finisher.lostOnRestart?.(task.kind)) return this.arm(task);
    this.core.transact((txn) => {
      finisher.onLost?.(txn.dpu(task.serial), task.kind);
      this.end(txn, task, "Exception", "the emulator restarted while the install ran; the image was not applied; run the update again");
    });
  }
}

/** The URI a task's log entries point at. */
function taskUri(id: string): string {
  return `/redfish/v1/TaskService/Tasks/${id}`;
}

function timerKey(task: TaskRecord): string {
  return `${task.serial}/${task.id}`;
}

function message(messageId: string, text: string, severity: TaskMessage["severity"], args: string[]): TaskMessage {
  return { messageId, message: text, severity, args };
}

function endMessage(id: string, state: "Completed" | "Exception" | "Killed"): TaskMessage {
  if (state === "Completed") return message("TaskEvent.1.0.TaskCompletedOK", `The task with Id '${id}' has completed.`, "OK", [id]);
  if (state === "Killed") {
    return message("TaskEvent.1.0.TaskCancelled", `Work on the task with Id '${id}' has been halted prior to completion due to an explicit request.`, "Warning", [id]);
  }
  return message("TaskEvent.1.0.TaskAborted", `The task with Id '${id}' has been aborted.`, "Critical", [id]);
}
