// The sharded bench fleet and the one-DPU change: racks, where the pairs go, and that the
// change's shard is the one the model's shard layout puts that DPU in.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { benchStack, writeBenchFleet } from "../../bench/lib/fleet";
import { applyChange, crossRackPairs, oneDpuChange, rackOf } from "../../bench/lib/shards";
import { parallelOf } from "../../bench/lib/sharded-cycle";
import { loadStackSync } from "../../model/load";
import { shardDeclarations, shardLayout, stackParts } from "../../model/shards";
import { resourceDeclarations } from "../../model/declarations";

const sha = () => "0".repeat(64);

describe("the sharded bench fleet", () => {
  it("puts consecutive hosts in 8 racks as even as whole hosts allow", () => {
    const racks = Array.from({ length: 1000 }, (_, h) => rackOf(h, 1000));
    for (let r = 1; r <= 8; r++) expect(racks.filter((x) => x === `rack-${r}`)).toHaveLength(125);
    expect(racks[124]).toBe("rack-1");
    expect(racks[125]).toBe("rack-2");
    expect(() => rackOf(1000, 1000)).toThrow(/not among/);
  });

  it("keeps the witness pairs in their rack except those straddling a boundary (2 of 250 at 2,000 DPUs, none at 64)", () => {
    const big = benchStack(2000, "restricted", { sharded: true });
    expect(Object.keys(big.servicePairs ?? {})).toHaveLength(250);
    expect(crossRackPairs(big)).toEqual(["witness-31", "witness-156"]);
    expect(big.servicePairs?.["witness-31"]).toMatchObject({ primary: "esx-0125/nic1", secondary: "esx-0126/nic1" });
    expect(crossRackPairs(benchStack(64, "restricted", { sharded: true }))).toEqual([]);
  });

  it("writes a fleet the model shards by rack: 8 shards and the cross-shard stack with the straddling pairs", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-shards-"));
    try {
      const fleet = writeBenchFleet(dir, 72, sha, "restricted", { sharded: true });
      const inventory = YAML.parse(fs.readFileSync(fleet.fleetFile, "utf8")) as { hosts: Array<{ labels: Record<string, string> }> };
      expect(inventory.hosts[0].labels).toEqual({ rack: "rack-1" });
      const layout = shardLayout(loadStackSync(fleet.stackFile));
      expect(layout?.by).toBe("label:rack");
      expect(stackParts(layout!)).toEqual([...Array.from({ length: 8 }, (_, i) => `rack-${i + 1}`), "cross-shard"]);
      expect(layout?.crossPairs).toEqual(crossRackPairs(benchStack(72, "restricted", { sharded: true })));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("changes one DPU's firewall version, on nic2 of the middle host, in the shard the model gives that host", () => {
    for (const dpus of [64, 72, 2000]) {
      const change = oneDpuChange(dpus);
      expect(change).toMatchObject({ nic: "nic2", service: "dfw", version: "4.2.2" });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-change-"));
      try {
        const fleet = writeBenchFleet(dir, dpus, sha, "restricted", { sharded: true, change });
        const loaded = loadStackSync(fleet.stackFile);
        const layout = shardLayout(loaded)!;
        expect(layout.shardOf.get(change.host)).toBe(change.shard);
        // The changed service is declared in that shard, at the new version, and nowhere else differs.
        const mine = shardDeclarations(resourceDeclarations(loaded), layout, change.shard);
        const service = mine.find((d) => d.kind === "DpuService" && d.host === change.host && JSON.stringify(d.inputs).includes(`"version":"${change.version}"`));
        expect(service).toBeDefined();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  it("refuses a change to a service the stack does not have, or one that changes nothing", () => {
    const stack = benchStack(64, "restricted");
    expect(() => applyChange(stack, { ...oneDpuChange(64), service: "ids" })).toThrow(/has no service ids/);
    expect(() => applyChange(stack, { ...oneDpuChange(64), version: "4.2.1" })).toThrow(/would change nothing/);
    // The original is left as it was.
    const changed = applyChange(stack, oneDpuChange(64));
    expect(stack.hosts["esx-0017"].smartnics.nic2.services.dfw.version).toBe("4.2.1");
    expect(changed.hosts["esx-0017"].smartnics.nic2.services.dfw.version).toBe("4.2.2");
  });

  it("shares the single stack's operations at once among the shards running together, and gives one shard alone all of them", () => {
    expect(parallelOf(128, undefined, 8)).toBe(16);
    expect(parallelOf(128, undefined, 2)).toBe(64);
    expect(parallelOf(128, "rack-5", 2)).toBe(128);
    expect(parallelOf(4, undefined, 8)).toBe(1);
  });
});
