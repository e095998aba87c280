import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rolloutReach } from "../../providers/rollout/hold";
import { acquireSlots } from "../../providers/rollout/slots";
import { setRolloutTimings, DEFAULT_TIMINGS } from "../../providers/rollout/run";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";
import { rolloutOf } from "../support/provider-harness";

const access = (host: string, nic: string, serial: string) => ({ target: { host, smartnic: nic, serial, address: "127.0.0.1", port: 8443 }, username: "root" });

/** Host h1 with two DPUs; pair `p1` has a side on h1/nic1, `p2` on h1/nic2, `legacy` has no known sides (older state). */
const h1 = rolloutOf("h1", {
  pairs: ["p1", "p2", "legacy"],
  dpus: [access("h1", "nic1", "S11"), access("h1", "nic2", "S12")],
  pairSides: [
    { pair: "p1", primary: access("h1", "nic1", "S11"), secondary: access("h2", "nic1", "S21") },
    { pair: "p2", primary: access("h3", "nic1", "S31"), secondary: access("h1", "nic2", "S12") },
  ],
});

describe("what a disruption reaches", () => {
  it("a DPU-only disruption holds the pairs with a side on that DPU (and those without known sides) and reads no other DPU of the host", () => {
    const nic1 = rolloutReach(h1, "S11", "dpu");
    expect(nic1.pairs).toEqual(["p1", "legacy"]);
    expect(nic1.pairSides.map((s) => s.pair)).toEqual(["p1"]);
    expect(nic1.dpus.map((d) => d.target.serial)).toEqual(["S11"]);
    const nic2 = rolloutReach(h1, "S12", "dpu");
    expect(nic2.pairs).toEqual(["p2", "legacy"]);
    expect(nic2.dpus.map((d) => d.target.serial)).toEqual(["S12"]);
    // The host's group, budget and maintenance are the host's whatever the reach.
    expect({ ...nic2, pairs: h1.pairs, pairSides: h1.pairSides, dpus: h1.dpus }).toEqual(h1);
  });

  it("a host-wide disruption (a power cycle, a host OS install) holds every pair of the host and reads every DPU", () => {
    expect(rolloutReach(h1, "S11", "host")).toEqual(h1);
  });
});

describe("waiting for a slot", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-reach-"));
  afterAll(() => {
    setRolloutTimings(DEFAULT_TIMINGS);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("a waiter of this process starts as soon as a slot of this process frees, not at its next poll", async () => {
    const store = new SqliteLeaseStore(path.join(dir, "wake.db"));
    setRolloutTimings({ pollMs: 5_000 });
    const needs = { host: "a", group: "g", groupSize: 2, budget: 1, canary: 0, pairs: [] };
    const first = await acquireSlots(store, needs, "first", () => undefined);
    let startedAt = 0;
    const second = acquireSlots(store, { ...needs, host: "b" }, "second", () => undefined).then((held) => {
      startedAt = Date.now();
      return held;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(startedAt).toBe(0);
    const freedAt = Date.now();
    await first.release();
    const held = await second;
    expect(startedAt - freedAt).toBeLessThan(1_000);
    await held.release();
    store.close();
  });
});
