import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquireSlots, type SlotNeeds } from "../../providers/rollout/slots";
import { setRolloutTimings, type RolloutTimings } from "../../providers/rollout/run";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";
import type { AcquireRequest, AcquireResult } from "../../providers/rollout/store";

/** A store that counts the acquires of each host. */
class CountingStore extends SqliteLeaseStore {
  readonly asked = new Map<string, number>();
  override acquire(r: AcquireRequest): Promise<AcquireResult> {
    this.asked.set(r.host, (this.asked.get(r.host) ?? 0) + 1);
    return super.acquire(r);
  }
}

const needs = (host: string, group: string, pairs: string[] = []): SlotNeeds => ({ host, group, groupSize: 4, budget: 1, canary: 0, pairs });
const quiet = (): void => undefined;
const tick = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("rollout slots: who is woken when a slot frees", () => {
  let dir: string;
  let previous: RolloutTimings;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-slots-"));
    // Polls far apart: a waiter that starts at once was woken, not polling.
    previous = setRolloutTimings({ pollMs: 20_000 });
  });
  afterAll(() => {
    setRolloutTimings(previous);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("wakes the waiters of the freed slot's group or pair at once and leaves the others asleep", async () => {
    const store = new CountingStore(path.join(dir, "wake.db"));
    const east = await acquireSlots(store, needs("e1", "cluster:east"), "work", quiet);
    const west = await acquireSlots(store, needs("w1", "cluster:west", ["witness"]), "work", quiet);
    const eastWaiter = acquireSlots(store, needs("e2", "cluster:east"), "work", quiet);
    const westWaiter = acquireSlots(store, needs("w2", "cluster:west"), "work", quiet);
    // Another group, but the pair's other side: it waits for the pair slot west holds.
    const pairWaiter = acquireSlots(store, needs("n1", "cluster:north", ["witness"]), "work", quiet);
    await tick();
    expect([store.asked.get("e2"), store.asked.get("w2"), store.asked.get("n1")]).toEqual([1, 1, 1]);

    const started = Date.now();
    await east.release();
    const e2 = await eastWaiter;
    expect(Date.now() - started).toBeLessThan(5_000);
    await tick();
    expect(store.asked.get("w2")).toBe(1); // another group's release: not asked again
    expect(store.asked.get("n1")).toBe(1);

    await west.release();
    const [w2, n1] = await Promise.all([westWaiter, pairWaiter]);
    expect(Date.now() - started).toBeLessThan(5_000);
    for (const held of [e2, w2, n1]) await held.release();
    store.close();
  });
});
