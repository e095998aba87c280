/**
 * Holding a host's rollout slots while it is disrupted: its group's slot (the group's
 * budget of hosts at once, canaries alone) and one slot per service pair the disruption
 * reaches (one side at a time). A waiter asks again every `pollMs`, and at once when a
 * slot of this process frees, so it starts the moment a slot frees (no fixed waves). A
 * held lease is renewed every `heartbeatMs` on an unref'd timer and lapses `leaseTtlMs`
 * after its process dies; a lapsed lease whose work may still run on its DPU is an orphan
 * that a waiter frees once that DPU shows the work over (`orphans.ts`).
 */
import { randomBytes } from "node:crypto";
import { engineGone } from "../common/engine-watch";
import { currentRun, isDeadRun, rolloutTimings } from "./run";
import type { LeaseDpu, LeaseStore, OrphanLease, SlotRequest } from "./store";

/** What a host is held to (the parts of its `HostRollout` the slots need). */
export interface SlotNeeds {
  /** The host. */
  host: string;
  /** Its group. */
  group: string;
  /** Hosts in the group. */
  groupSize: number;
  /** Hosts of the group at once. */
  budget: number;
  /** Canaries of the group. */
  canary: number;
  /** Service pairs with a side on the host. */
  pairs: readonly string[];
}

/** Slots held; `release` is idempotent. */
export interface HeldSlots {
  /** The holder id of this disruption. */
  holder: string;
  /** The run that holds them. */
  run: string;
  /** True when the host goes as a canary. */
  canary: boolean;
  /** Frees every slot and stops the heartbeat. */
  release(): Promise<void>;
  /**
   * Stops holding without freeing, for work whose end was not seen (it may still run on
   * the DPU): the leases lapse into orphans that a waiter frees once the DPU shows it over.
   */
  abandon(): Promise<void>;
}

/** A group this run halted: the acquire fails at once with the reason. */
export class HaltedGroupError extends Error {}

/** The scopes a host needs: its group's (limit: budget) and each pair's (limit 1). */
export function slotsOf(needs: SlotNeeds): SlotRequest[] {
  return [{ scope: `group:${needs.group}`, limit: needs.budget }, ...[...new Set(needs.pairs)].sort().map((p) => ({ scope: `pair:${p}`, limit: 1 }))];
}

/**
 * Whether the work an orphan lease's run started on its DPU is over (true frees the lease);
 * false while it runs or when the DPU cannot tell.
 */
export type OrphanCheck = (orphan: OrphanLease) => Promise<boolean>;

/**
 * Waits for every slot `needs` asks for and holds them; `log` gets one line when the host
 * has to wait (and what for). Fails at once when the group is halted in this run. `dpu`
 * is the DPU the disruption works through (its leases outlive this run as orphans if it
 * dies mid-work); orphans of other runs in the way are looked at with `checkOrphan`.
 */
export async function acquireSlots(store: LeaseStore, needs: SlotNeeds, what: string, log: (line: string) => void, dpu?: LeaseDpu, checkOrphan?: OrphanCheck): Promise<HeldSlots> {
  const run = currentRun();
  const holder = `${run}/${needs.host}/${randomBytes(6).toString("hex")}`;
  const slots = slotsOf(needs);
  let waitingFor: string | undefined;
  const since = Date.now();
  for (;;) {
    const { leaseTtlMs, pollMs, orphanLimitMs } = rolloutTimings();
    const answer = await store.acquire({ run, holder, host: needs.host, group: needs.group, groupSize: needs.groupSize, canary: needs.canary, slots, ttlMs: leaseTtlMs, now: Date.now(), isDeadRun, dpu, orphanLimitMs });
    if (answer.granted) {
      if (waitingFor !== undefined) log(`${needs.host}: slot free after ${Math.round((Date.now() - since) / 1000)} s; ${what}`);
      return hold(store, holder, run, answer.canary, slots);
    }
    if ("halted" in answer) throw new HaltedGroupError(answer.halted);
    const gone = engineGone();
    if (gone) throw new Error(`${needs.host}: stopped waiting for a rollout slot: ${gone}`);
    if (answer.waitingFor !== waitingFor) {
      waitingFor = answer.waitingFor;
      log(`${needs.host}: waiting for ${waitingFor} before ${what}`);
    }
    if (checkOrphan && answer.orphans?.length && (await freeFinishedOrphans(store, answer.orphans, checkOrphan, log))) continue;
    await napUntilRelease(pollMs, slots);
  }
}

/** When each orphan was last looked at: one look per `orphanCheckMs` per orphan, whoever waits on it. */
const lookedAt = new Map<string, number>();

/** Looks at the orphans due for a look; frees those whose work is over. True when one was freed. */
async function freeFinishedOrphans(store: LeaseStore, orphans: readonly OrphanLease[], check: OrphanCheck, log: (line: string) => void): Promise<boolean> {
  const { orphanCheckMs } = rolloutTimings();
  let freed = false;
  for (const orphan of orphans) {
    if (Date.now() - (lookedAt.get(orphan.holder) ?? 0) < orphanCheckMs) continue;
    lookedAt.set(orphan.holder, Date.now());
    if (!(await check(orphan))) continue;
    await store.release(orphan.holder);
    lookedAt.delete(orphan.holder);
    log(`${orphan.host}: the rollout slot of a run that is gone (${orphan.run}) is free again: its work on ${orphan.dpu.label} is over`);
    freed = true;
  }
  return freed;
}

/**
 * Waiters of this process and the scopes each waits for, woken when a slot of one of those
 * scopes frees here (another run's frees show at the next poll). Only those: with a fleet
 * of hosts waiting on small budgets, waking every waiter on every release made each free
 * slot cost a store transaction per waiting host.
 */
const wakers = new Map<() => void, ReadonlySet<string>>();

function napUntilRelease(ms: number, slots: readonly SlotRequest[]): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(timer);
      wakers.delete(wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    wakers.set(wake, new Set(slots.map((s) => s.scope)));
  });
}

/** Wakes the waiters of this process that wait for one of `freed`'s scopes. */
function wakeWaitersOf(freed: readonly SlotRequest[]): void {
  for (const [wake, scopes] of [...wakers]) if (freed.some((s) => scopes.has(s.scope))) wake();
}

function hold(store: LeaseStore, holder: string, run: string, canary: boolean, slots: readonly SlotRequest[]): HeldSlots {
  let released = false;
  const { heartbeatMs } = rolloutTimings();
  const beat = setInterval(() => {
    store.renew(holder, rolloutTimings().leaseTtlMs, Date.now()).then(
      (kept) => {
        if (!kept && !released) console.error(`smartfleet: rollout lease ${holder} had lapsed before its renewal (the process was stalled); renewing failed`);
      },
      (error: unknown) => console.error(`smartfleet: renewing rollout lease ${holder}: ${(error as Error).message}`),
    );
  }, heartbeatMs);
  beat.unref();
  return {
    holder,
    run,
    canary,
    async release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      await store.release(holder);
      wakeWaitersOf(slots);
    },
    async abandon() {
      if (released) return;
      released = true;
      clearInterval(beat);
      await store.lapse(holder, Date.now());
      // Waiters here look at the orphan's DPU at once.
      wakeWaitersOf(slots);
    },
  };
}
