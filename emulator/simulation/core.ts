/**
 * The core every domain of the simulation builds on: the DPU documents, the inventory,
 * the store and the clock, and the one `transact()` every change goes through, so that a
 * refused change restores exactly the documents it touched and a kept one is one SQLite write.
 */
import type { Clock } from "../clock";
import type { FleetImage, PlacedDpu, ValidFleet } from "../../model/inventory";
import { placedDpus } from "../../model/inventory";
import { DisruptionTable } from "../disruption-table";
import type { DisruptionRecord, DpuState, TaskRecord } from "../model";
import { notFound } from "../service-error";
import type { StateStore } from "../store";
import { TaskTable } from "../task-table";
import { EventLog } from "./event-log";
import { factoryState } from "./factory";

/** How long operations take on hardware (ms), before `timeScale`. */
export const DURATIONS_MS = {
  dpuReset: 90_000,
  hostPowerOn: 45_000,
  hostPowerOff: 10_000,
  hostPowerCycle: 60_000,
  hostOsInstall: 600_000,
  dpuOsInstall: 480_000,
  nicFirmware: 180_000,
  bmcFirmware: 240_000,
  imageNotFound: 5_000,
  serviceDeploy: 20_000,
  pairDeploy: 40_000,
} as const;

/** Options for a simulation. */
export interface SimulationOptions {
  /** The inventory (validated, defaults filled). */
  inventory: ValidFleet;
  /** Where state persists. */
  store: StateStore;
  /** Source of time. */
  clock: Clock;
  /** Multiplier for operation durations; 0 makes every operation instant. */
  timeScale: number;
}

/** An edit in progress: documents touched so far, with their snapshots for rollback. */
export class Transaction {
  readonly dpus = new Map<string, { doc: DpuState; snapshot: string }>();
  readonly tasks = new Map<string, { task: TaskRecord; snapshot: string | null }>();
  readonly deletedTasks: TaskRecord[] = [];
  /** Disruption log records written, with their snapshots (null for new ones). */
  readonly disruptions = new Map<number, { record: DisruptionRecord; snapshot: string | null }>();
  readonly deletedDisruptions: DisruptionRecord[] = [];
  /** Side effects (timers) that must only happen once the change is on disk. */
  readonly after: Array<() => void> = [];

  constructor(private readonly core: SimulationCore) {}

  /** The mutable document of `serial`, remembered for commit and rollback. */
  dpu(serial: string): DpuState {
    const seen = this.dpus.get(serial);
    if (seen) return seen.doc;
    const doc = this.core.docOf(serial);
    this.dpus.set(serial, { doc, snapshot: JSON.stringify(doc) });
    return doc;
  }

  /** Marks a task document for writing; call before changing it (`isNew` for one just created). */
  task(task: TaskRecord, isNew = false): void {
    const key = `${task.serial}/${task.id}`;
    if (!this.tasks.has(key)) this.tasks.set(key, { task, snapshot: isNew ? null : JSON.stringify(task) });
  }

  /** Marks a disruption log record for writing; call before changing it (`isNew` for one just opened). */
  disruption(record: DisruptionRecord, isNew = false): void {
    if (!this.disruptions.has(record.id)) this.disruptions.set(record.id, { record, snapshot: isNew ? null : JSON.stringify(record) });
  }
}

/** State, time and transactions of the simulated fleet; the domains add the rules. */
export class SimulationCore {
  private readonly docs = new Map<string, DpuState>();
  private readonly placed = new Map<string, PlacedDpu>();
  private readonly listeners: Array<(serials: string[]) => void> = [];
  private readonly checkpoints: Array<(txn: Transaction) => void> = [];
  private readonly hosts = new Map<string, string[]>();
  private readonly inventory: ValidFleet;
  private readonly store: StateStore;
  /** Every task, by DPU; the task lifecycle owns the records, the core only holds and restores them. */
  readonly taskTable = new TaskTable();
  /** The disruption log (`disruptions.ts` keeps it). */
  readonly disruptionTable = new DisruptionTable();
  /** The clock everything runs on. */
  readonly clock: Clock;
  /** The management controllers' event logs (what the Manager's EventLog shows). */
  readonly eventLog: EventLog;
  /** Multiplier for operation durations. */
  readonly timeScale: number;

  constructor(opts: SimulationOptions) {
    this.inventory = opts.inventory;
    this.store = opts.store;
    this.clock = opts.clock;
    this.eventLog = new EventLog(opts.clock);
    this.timeScale = opts.timeScale;
    for (const p of placedDpus(opts.inventory)) {
      this.placed.set(p.nic.serial, p);
      this.hosts.set(p.host.name, [...(this.hosts.get(p.host.name) ?? []), p.nic.serial]);
    }
  }

  /** Loads stored state and creates DPUs new to the inventory; tasks are loaded, not yet resumed. */
  protected load(): void {
    const stored = this.store.load();
    const fresh: DpuState[] = [];
    for (const [serial, p] of this.placed) {
      const doc = stored.dpus.get(serial);
      if (doc) this.docs.set(serial, withCurrentFields(doc, p));
      else {
        const created = factoryState(p);
        this.docs.set(serial, created);
        fresh.push(created);
      }
    }
    this.store.commit({ dpus: fresh }, { fleet: this.inventory.metadata.name });
    for (const task of stored.tasks.sort((a, b) => Number(a.id) - Number(b.id))) {
      if (this.placed.has(task.serial)) this.taskTable.set(task);
    }
    for (const record of stored.disruptions) this.disruptionTable.set(record);
  }

  /**
   * Adds a check that runs inside every transaction before it is written, and where a task
   * starts that ends at once (time scale 0), so that what the check derives from the state
   * sees the in-between state too (the disruption log).
   */
  onCheckpoint(fn: (txn: Transaction) => void): void {
    this.checkpoints.push(fn);
  }

  /** Runs the checkpoint checks on the transaction so far. */
  checkpoint(txn: Transaction): void {
    for (const fn of this.checkpoints) fn(txn);
  }

  /** The host names, in inventory order. */
  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** The serials of the DPUs in a host, in inventory order. */
  serialsOfHost(host: string): string[] {
    return this.hosts.get(host) ?? [];
  }

  /** Calls `fn` with the serials changed by every committed transaction. */
  onChange(fn: (serials: string[]) => void): void {
    this.listeners.push(fn);
  }

  /** Serials in inventory order. */
  serials(): string[] {
    return [...this.placed.keys()];
  }

  /** True if the inventory has a DPU with this serial. */
  has(serial: string): boolean {
    return this.placed.has(serial);
  }

  /** The inventory entry of a DPU. */
  placement(serial: string): PlacedDpu {
    const p = this.placed.get(serial);
    if (!p) throw notFound("DPU", serial);
    return p;
  }

  /** The image catalog. */
  images(): FleetImage[] {
    return this.inventory.images ?? [];
  }

  /** The live document of a DPU (read-only by convention outside transactions). */
  docOf(serial: string): DpuState {
    const doc = this.docs.get(serial);
    if (!doc) throw notFound("DPU", serial);
    return doc;
  }

  /** Tasks of a DPU, oldest first. */
  tasksOf(serial: string): TaskRecord[] {
    return this.taskTable.of(serial);
  }

  /** One task of a DPU. */
  task(serial: string, id: string): TaskRecord {
    const t = this.taskTable.get(serial, id);
    if (!t) throw notFound("Task", id);
    return t;
  }

  /** Percent complete of a task at the current time. */
  percentComplete(task: TaskRecord): number {
    // 100 only for success: a task that ended otherwise shows how far it got.
    return task.state === "Completed" ? 100 : Math.min(99, this.progressOf(task));
  }

  private progressOf(task: TaskRecord): number {
    const total = task.dueAt - task.startTime;
    if (total <= 0) return 99;
    return Math.max(0, Math.floor((100 * ((task.endTime ?? this.clock.now()) - task.startTime)) / total));
  }

  /** True when the DPU's Arm system runs (not crashed, powered). */
  healthy(serial: string): boolean {
    const d = this.docOf(serial);
    return !d.dpu.crashed && d.dpu.powerState === "On";
  }

  /**
   * True while the DPU restarts, or an install rewrites its OS or NIC firmware (the card
   * restarts to run it): the DPU, and the host network and storage it carries, are down.
   */
  rebooting(serial: string): boolean {
    return this.tasksOf(serial).some(
      (t) => (t.state === "Running" || t.state === "New") && (t.kind.type === "dpu-reset" || (t.kind.type === "firmware-update" && t.kind.target !== "bmc")),
    );
  }

  /** Runs `fn` as one change: committed in one SQLite transaction, rolled back in memory on error. */
  transact<T>(fn: (txn: Transaction) => T): T {
    const txn = new Transaction(this);
    let result: T;
    try {
      result = fn(txn);
      this.checkpoint(txn);
      for (const { doc } of txn.dpus.values()) doc.generation++;
      this.store.commit({
        dpus: [...txn.dpus.values()].map((d) => d.doc),
        tasks: [...txn.tasks.values()].map((t) => t.task),
        deletedTasks: txn.deletedTasks.map((t) => ({ serial: t.serial, id: t.id })),
        disruptions: [...txn.disruptions.values()].map((d) => d.record),
        deletedDisruptions: txn.deletedDisruptions.map((d) => d.id),
      });
    } catch (err) {
      this.rollback(txn);
      throw err;
    }
    for (const fn2 of txn.after) fn2();
    const serials = [...txn.dpus.keys()];
    for (const l of this.listeners) l(serials);
    return result;
  }

  private rollback(txn: Transaction): void {
    for (const [serial, { snapshot }] of txn.dpus) this.docs.set(serial, JSON.parse(snapshot) as DpuState);
    for (const { task, snapshot } of txn.tasks.values()) {
      if (snapshot === null) this.taskTable.delete(task.serial, task.id);
      else Object.assign(task, JSON.parse(snapshot) as TaskRecord);
    }
    for (const task of txn.deletedTasks) this.taskTable.set(task);
    for (const { record, snapshot } of txn.disruptions.values()) {
      if (snapshot === null) this.disruptionTable.delete(record.id);
      else this.disruptionTable.set(JSON.parse(snapshot) as DisruptionRecord);
    }
    for (const record of txn.deletedDisruptions) this.disruptionTable.set(record);
  }
}

/** A stored document with the fields later emulators added (host maintenance, armed faults) filled in. */
function withCurrentFields(doc: DpuState, p: PlacedDpu): DpuState {
  doc.host.maintenance ??= { state: "off", workloadsRunning: p.host.workloads?.count ?? 0 };
  doc.faults ??= { servicesFailAfterReboot: false };
  doc.dpu.bootOverride ??= { enabled: "Disabled", target: "None", mode: "UEFI" };
  return doc;
}
