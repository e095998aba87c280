/**
 * The shard layout of a stack (model/shards.ts) on the lab stack: by a rack label that
 * splits the witness pair and the FPGA share across two shards, and by cluster, where
 * nothing spans shards. Every resource lands in exactly one part, and a part's
 * dependencies stay inside it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { CROSS_SHARD, shardDeclarations, shardLayout, stackParts } from "../../model/shards";

const root = path.resolve(__dirname, "..", "..");
let dir: string;

/** The lab stack with `shards` and rack labels (esx-01, esx-03 in r1; esx-02, esx-04 in r2). */
function labWith(shards: unknown) {
  const stackFile = path.join(dir, "stacks", "lab.yaml");
  const stack = YAML.parseDocument(fs.readFileSync(path.join(root, "stacks", "lab.yaml"), "utf8"));
  if (shards) stack.set("shards", shards);
  fs.writeFileSync(stackFile, stack.toString());
  return loadStackSync(stackFile);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-shards-"));
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.mkdirSync(path.join(dir, "examples", "lab"), { recursive: true });
  // The stack's repository (the inventory must be inside it).
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: smartfleet\nruntime: nodejs\n");
  const inventory = YAML.parseDocument(fs.readFileSync(path.join(root, "examples", "lab", "fleet.yaml"), "utf8"));
  const racks: Record<string, string> = { "esx-01": "r1", "esx-02": "r2", "esx-03": "r1", "esx-04": "r2" };
  (inventory.toJS().hosts as Array<{ name: string }>).forEach((h, i) => inventory.setIn(["hosts", i, "labels"], { rack: racks[h.name], site: "lab" }));
  fs.writeFileSync(path.join(dir, "examples", "lab", "fleet.yaml"), inventory.toString());
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("shardLayout and shardDeclarations", () => {
  it("a stack without shards has no layout", () => {
    expect(shardLayout(labWith(undefined))).toBeUndefined();
  });

  it("by label:rack: two shards and the cross-shard part for the pair and the share that span them", () => {
    const stack = labWith({ by: "label:rack" });
    const layout = shardLayout(stack);
    expect(layout).toBeDefined();
    if (!layout) return;
    expect([...layout.hosts]).toEqual([
      ["r1", ["esx-01", "esx-03"]],
      ["r2", ["esx-02", "esx-04"]],
    ]);
    expect(layout).toMatchObject({ by: "label:rack", crossPairs: ["witness"], crossShares: ["fpga-share"], crossSpans: ["r1", "r2"] });
    expect(stackParts(layout)).toEqual(["r1", "r2", CROSS_SHARD]);

    const all = resourceDeclarations(stack);
    const parts = Object.fromEntries(stackParts(layout).map((p) => [p, shardDeclarations(all, layout, p)]));
    const placed = Object.values(parts).flat().map((d) => d.name);
    expect(placed.sort()).toEqual(all.map((d) => d.name).sort());
    expect(new Set(placed).size).toBe(all.length);

    expect(parts[CROSS_SHARD].map((d) => `${d.kind} ${d.name}`)).toEqual(["ServicePair pair-witness", "AcceleratorShare share-fpga-share", "HostDevice esx-02-nic1-fpga0"]);
    // Its sides are in the shards, applied first: only the device still waits for the share.
    expect(parts[CROSS_SHARD].map((d) => d.dependsOn)).toEqual([[], [], ["share-fpga-share"]]);
    // Dropping a dependency is safe only on a shard the part waits for.
    expect(() => shardDeclarations(all, { ...layout, crossSpans: ["r1"] }, CROSS_SHARD)).toThrow(/of a shard it does not wait for/);
    for (const part of ["r1", "r2"]) {
      const names = new Set(parts[part].map((d) => d.name));
      for (const d of parts[part]) {
        expect(d.host && layout.shardOf.get(d.host)).toBe(part);
        for (const dep of d.dependsOn) expect(names.has(dep), `${d.name} -> ${dep}`).toBe(true);
      }
    }
  });

  it("by cluster: east and the cluster-less hosts' shard none, nothing spans them", () => {
    const stack = labWith({ by: "cluster" });
    const layout = shardLayout(stack);
    if (!layout) throw new Error("no layout");
    expect([...layout.hosts.keys()]).toEqual(["east", "none"]);
    expect(stackParts(layout)).toEqual(["east", "none"]);
    const all = resourceDeclarations(stack);
    expect(shardDeclarations(all, layout, "east").map((d) => d.name)).toContain("pair-witness");
    expect(() => shardDeclarations(all, layout, "west")).toThrow("no shard 'west' in this stack: its parts are east, none");
  });

  it("the schema refuses a shard key it does not know", () => {
    expect(() => labWith({ by: "rack" })).toThrow(/shards\/by/);
  });
});
