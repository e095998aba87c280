/** In-memory index of tasks by DPU serial, in creation order (ids only grow). */
import type { TaskRecord } from "./model";

/** Tasks per DPU, looked up without scanning the fleet. */
export class TaskTable {
  private readonly bySerial = new Map<string, Map<string, TaskRecord>>();

  /** Adds or replaces a task. */
  set(task: TaskRecord): void {
    let tasks = this.bySerial.get(task.serial);
    if (!tasks) this.bySerial.set(task.serial, (tasks = new Map()));
    tasks.set(task.id, task);
  }

  /** One task, if known. */
  get(serial: string, id: string): TaskRecord | undefined {
    return this.bySerial.get(serial)?.get(id);
  }

  /** Forgets a task. */
  delete(serial: string, id: string): void {
    this.bySerial.get(serial)?.delete(id);
  }

  /** A DPU's tasks, oldest first. */
  of(serial: string): TaskRecord[] {
    return [...(this.bySerial.get(serial)?.values() ?? [])];
  }

  /** Every task. */
  all(): TaskRecord[] {
    return [...this.bySerial.values()].flatMap((m) => [...m.values()]);
  }
}
