/**
 * What the rollout keeps between provider processes: leases on rollout slots, halted
 * groups, each run's progress per group (for canaries) and hosts left in maintenance.
 * Every `pulumi up` of a stack on this machine (one dynamic-provider process each) shares
 * one store, so two runs, or a run after a killed one, still hold the budget. The
 * interface is asynchronous and small so a shared database (PostgreSQL) can implement it
 * for runs on several machines; `sqlite-store.ts` is the local one.
 */

/** A slot scope and how many hosts may hold it at once. */
export interface SlotRequest {
  /** `group:<group>` (limit: the group's budget) or `pair:<name>` (limit 1). */
  scope: string;
  /** Distinct hosts that may hold the scope at once. */
  limit: number;
}

/** One lease: a host holding a slot of a scope until `expiresAt` unless renewed. */
export interface Lease {
  /** The scope. */
  scope: string;
  /** Who holds it: one disruption of one resource (unique per acquire). */
  holder: string;
  /** The host disrupted. */
  host: string;
  /** The run (provider process) that took it. */
  run: string;
  /** Epoch ms after which the lease is free again. */
  expiresAt: number;
}

/**
 * The DPU a disruption works through, kept with its leases: when the run holding them dies
 * (its leases lapse, or its process is gone) the work it started may still be running on
 * that DPU (a reboot, an OS install), so the leases are kept as orphans until a waiter has
 * looked at the DPU and found the work over.
 */
export interface LeaseDpu {
  /** `https://address:port` of its management port. */
  url: string;
  serial: string;
  /** The account that reaches it (with the stack's management password). */
  username: string;
  /** Its place, for messages (`host/nic`). */
  label: string;
}

/** A lease of a run that is gone, kept for the work it may have left running. */
export interface OrphanLease {
  holder: string;
  host: string;
  run: string;
  dpu: LeaseDpu;
  /** Epoch ms the lease lapsed (or its run was found gone, when earlier). */
  since: number;
}

/** An acquire of every slot one disruption needs, all or none. */
export interface AcquireRequest {
  /** The run asking. */
  run: string;
  /** Unique id of this disruption. */
  holder: string;
  /** The host to disrupt. */
  host: string;
  /** Its rollout group. */
  group: string;
  /** Hosts in the group (canaries are at most that many). */
  groupSize: number;
  /** The first `canary` hosts of the group in a run go alone and must finish their gate before the rest start. */
  canary: number;
  /** The group slot and the host's pair slots. */
  slots: SlotRequest[];
  /** Lease lifetime. */
  ttlMs: number;
  /** Now, epoch ms. */
  now: number;
  /** True for a run known to be over (its process gone): its leases free at once instead of at expiry (orphans: see `LeaseDpu`). */
  isDeadRun?(run: string): boolean;
  /** The DPU the disruption works through; its leases outlive a dead run as orphans until the work there is seen over. */
  dpu?: LeaseDpu;
  /** Orphans lapsed longer ago than this are dropped without a look (a DPU that never answers again). */
  orphanLimitMs?: number;
}

/** What an acquire answers. */
export type AcquireResult =
  /** Every slot is held; `canary` when the host goes as one of its group's canaries. */
  | { granted: true; canary: boolean }
  /** The group is halted in this run: the reason a failed gate gave. */
  | { granted: false; halted: string }
  /** Not now: what is in the way (for the waiting message), and orphan leases the caller may look into. */
  | { granted: false; waitingFor: string; orphans?: OrphanLease[] };

/** The note of a host left in maintenance because `what` failed (the store reads it back: `isFailedNote`). */
export function failedNote(what: string): string {
  return `${what} failed`;
}

/**
 * The note of a host on its way into maintenance and not yet seen there: written before
 * the step is asked for, so a run killed meanwhile leaves the host counted.
 */
export const ENTERING_NOTE = "entering";

/** The note of a host whose step into maintenance failed without saying the host stayed out. */
export const ENTRY_FAILED_NOTE = failedNote("entering maintenance");

/** Whether a record says the host got into maintenance (not merely that a step into it began). */
export function entryConfirmed(note: string): boolean {
  return note !== ENTERING_NOTE && note !== ENTRY_FAILED_NOTE;
}

/** Whether a maintenance note says the disruption that left the host there failed. */
export function isFailedNote(note: string): boolean {
  return note.endsWith(" failed");
}

/** A host in maintenance as the rollout recorded it. */
export interface MaintenanceRecord {
  /** The host. */
  host: string;
  /** The run that put it there. */
  run: string;
  /** Epoch ms. */
  since: number;
  /** Why it is still there (e.g. the work failed), or empty. */
  note: string;
  /**
   * Its rollout group. A host in maintenance counts against this group's budget until it is
   * out, whoever left it there (records written before groups were kept have none).
   */
  group?: string;
}

/** The rollout store. */
export interface LeaseStore {
  /**
   * In one transaction: drop expired leases (those with a DPU become orphans, dropped only
   * by `release` or after `orphanLimitMs`); refuse when the group is halted in this run;
   * apply the canary rule; count the distinct other hosts holding each scope (for the
   * group's, also the hosts of the group another run left in maintenance); take every
   * slot or none.
   */
  acquire(request: AcquireRequest): Promise<AcquireResult>;
  /** Extends the holder's leases; false when they were lost (expired and dropped). */
  renew(holder: string, ttlMs: number, now: number): Promise<boolean>;
  /** Drops the holder's leases. */
  release(holder: string): Promise<void>;
  /**
   * Lets the holder's leases lapse now, as its process dying would: those with a DPU stay
   * as orphans, holding their slots until a waiter sees that DPU's work over.
   */
  lapse(holder: string, now: number): Promise<void>;
  /** Records that no further host of `group` starts in `run`. */
  halt(run: string, group: string, reason: string, now: number): Promise<void>;
  /** The reason `group` is halted in `run`, or undefined. */
  isHalted(run: string, group: string): Promise<string | undefined>;
  /** Records the end of a host's disruption in a run (`passed` its gate or `failed`); canaries wait for it. */
  finish(run: string, group: string, host: string, outcome: "passed" | "failed"): Promise<void>;
  /** Hosts of `group` that passed their gate in `run`. */
  passed(run: string, group: string): Promise<string[]>;
  /** Records a host in maintenance (`record`), or that it left maintenance (`undefined`). */
  markMaintenance(host: string, record: Omit<MaintenanceRecord, "host"> | undefined): Promise<void>;
  /** Every host recorded in maintenance. */
  maintenance(): Promise<MaintenanceRecord[]>;
  /** Runs holding an unexpired lease now. */
  liveRuns(now: number): Promise<string[]>;
  /** Closes the store. */
  close(): void;
}
