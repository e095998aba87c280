import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { childrenOf, observeTopology, stackTopology, type DpuObservation } from "../../model/topology";
import { tempDir } from "../support/stack-fixtures";

/** The topology of a stack: what `smartfleet graph` draws and the dashboard colours. */
const fixtures = path.resolve(__dirname, "..", "fixtures", "graph");
const STACK = path.join(fixtures, "stack.yaml");
const files = tempDir("smartfleet-topology-");
afterAll(() => files.cleanup());

/** The fixture stack with `edit` applied to its text, next to the fixture inventory. */
function variant(name: string, edit: (text: string) => string): string {
  const text = fs.readFileSync(STACK, "utf8").replace("inventory: fleet.yaml", `inventory: ${JSON.stringify(path.join(fixtures, "fleet.yaml"))}`);
  const edited = edit(text);
  expect(edited).not.toBe(text);
  return files.write(name, edited);
}

describe("stackTopology", () => {
  const loaded = loadStackSync(STACK);
  const topology = stackTopology(loaded);

  it("nests cluster > host > DPU > services and devices, parents first, in the stack's order", () => {
    expect(topology.stack).toBe("graph-fixture");
    expect(topology.nodes.map((n) => `${n.id} < ${n.parent ?? "-"}`)).toEqual([
      "cluster:blue < -",
      "host:alpha < cluster:blue",
      "dpu:alpha/nic1 < host:alpha",
      "service:alpha/nic1/dfw < dpu:alpha/nic1",
      "service:alpha/nic1/pair:witness < dpu:alpha/nic1",
      "device:alpha/nic1/vnic0 < dpu:alpha/nic1",
      "accelerator:alpha/fpga0 < host:alpha",
      "host:beta < cluster:blue",
      "dpu:beta/nic1 < host:beta",
      "service:beta/nic1/pair:witness < dpu:beta/nic1",
      "device:beta/nic1/fpga0 < dpu:beta/nic1",
      "host:gamma < -",
      "dpu:gamma/nic1 < host:gamma",
      "service:gamma/nic1/fw < dpu:gamma/nic1",
      "dpu:gamma/nic2 < host:gamma",
    ]);
  });

  it("joins the pair's sides primary to secondary, the accelerator to the device its share backs, a service to its device", () => {
    expect(topology.edges.map((e) => `${e.kind} ${e.from} -> ${e.to} ${e.label ?? ""}`.trim())).toEqual([
      "pair service:alpha/nic1/pair:witness -> service:beta/nic1/pair:witness witness",
      "share accelerator:alpha/fpga0 -> device:beta/nic1/fpga0 fpga-share",
      "backs service:alpha/nic1/dfw -> device:alpha/nic1/vnic0",
    ]);
  });

  it("draws every declared resource, by its Pulumi name, and nothing else", () => {
    const drawn = [...topology.nodes.flatMap((n) => n.resources), ...topology.edges.flatMap((e) => (e.resource ? [e.resource] : []))];
    const declared = resourceDeclarations(loaded).map((d) => d.name);
    expect(new Set(drawn)).toEqual(new Set(declared));
    expect(topology.nodes.find((n) => n.id === "dpu:alpha/nic1")?.resources).toEqual(["alpha-nic1", "alpha-nic1-os"]);
  });

  it("shows the DPU OS (or its absence) and marks DPUs the stack leaves alone as unmanaged, with no resource", () => {
    const node = (id: string) => topology.nodes.find((n) => n.id === id);
    expect(node("dpu:alpha/nic1")).toMatchObject({ state: "declared", details: ["nvidia bluefield-3, dpu mode", "esxi-arm 8.0.3"] });
    expect(node("dpu:gamma/nic1")?.details).toContain("no DPU OS");
    expect(node("dpu:gamma/nic2")).toMatchObject({ kind: "dpu", state: "unmanaged", resources: [], details: ["nvidia bluefield-2", "unmanaged"] });
    expect(topology.nodes.filter((n) => n.state !== "declared").map((n) => n.id)).toEqual(["dpu:gamma/nic2"]);
  });

  it("gives every node a unique id and keeps edges between existing nodes", () => {
    const ids = topology.nodes.map((n) => n.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const edge of topology.edges) expect(ids).toEqual(expect.arrayContaining([edge.from, edge.to]));
    expect(childrenOf(topology).get(undefined)?.map((n) => n.id)).toEqual(["cluster:blue", "host:gamma"]);
  });

  it("groups nothing when no host has a cluster", () => {
    const file = variant("no-clusters.yaml", (t) => t.replace(/, cluster: blue/g, ""));
    const flat = stackTopology(loadStackSync(file));
    expect(flat.nodes.filter((n) => n.kind === "cluster")).toEqual([]);
    expect(flat.nodes.filter((n) => n.kind === "host").map((n) => n.parent)).toEqual([undefined, undefined, undefined]);
  });

  it("ends a share at the consuming DPU when no fpga device presents it", () => {
    const file = variant("share-no-device.yaml", (t) => t.replace(/        devices:\n          fpga0: .*\n/, ""));
    const shares = stackTopology(loadStackSync(file)).edges.filter((e) => e.kind === "share");
    expect(shares.map((e) => `${e.from} -> ${e.to}`)).toEqual(["accelerator:alpha/fpga0 -> dpu:beta/nic1"]);
  });
});

describe("observeTopology", () => {
  const loaded = loadStackSync(STACK);
  const declared = stackTopology(loaded);
  const privilege = loaded.smartnics[0].spec.hostPrivilege;
  const seen = (over: Partial<Extract<DpuObservation, { reachable: true }>> = {}): DpuObservation => ({
    reachable: true,
    mode: "dpu",
    hostPrivilege: privilege,
    powerState: "On",
    dpuOs: { image: "esxi-arm", version: "8.0.3", state: "Enabled" },
    hostOs: null,
    services: {},
    devices: {},
    pairs: {},
    ...over,
  });
  const converged: Record<string, DpuObservation> = {
    "alpha/nic1": seen({
      services: { dfw: { state: "Enabled", version: "4.2.1" } },
      devices: { vnic0: { kind: "vnic", function: "vf" } },
      pairs: { witness: { state: "Enabled", protected: true } },
    }),
    // The share's fpga device carries the port's own id, not the stack's name.
    "beta/nic1": seen({ devices: { "fpga-G-NIC-0001-fpga-share": { kind: "fpga", function: "pf" } } }),
    "gamma/nic1": seen({ dpuOs: null, services: { fw: { state: "Enabled", version: "2.1.0" } } }),
  };
  const states = (observed: Record<string, DpuObservation>) => Object.fromEntries(observeTopology(loaded, declared, observed).nodes.map((n) => [n.id, n.state]));

  it("marks every managed box converged when the ports show what the stack says; the rest keep their state", () => {
    expect(states(converged)).toEqual({
      "cluster:blue": "declared",
      "host:alpha": "converged",
      "dpu:alpha/nic1": "converged",
      "service:alpha/nic1/dfw": "converged",
      "service:alpha/nic1/pair:witness": "converged",
      "device:alpha/nic1/vnic0": "converged",
      "accelerator:alpha/fpga0": "declared",
      "host:beta": "converged",
      "dpu:beta/nic1": "converged",
      "service:beta/nic1/pair:witness": "converged",
      "device:beta/nic1/fpga0": "converged",
      "host:gamma": "converged",
      "dpu:gamma/nic1": "converged",
      "service:gamma/nic1/fw": "converged",
      "dpu:gamma/nic2": "unmanaged",
    });
  });

  it("says what drifted, field by field, under the box", () => {
    const observed = { ...converged, "beta/nic1": seen({ mode: "nic", dpuOs: { image: "esxi-arm", version: "8.0.2", state: "Enabled" } }) };
    const nodes = observeTopology(loaded, declared, observed).nodes;
    const beta = nodes.find((n) => n.id === "dpu:beta/nic1");
    expect(beta).toMatchObject({ state: "drifted", details: ["nvidia bluefield-3, dpu mode", "esxi-arm 8.0.3", "mode nic, not dpu", "DPU OS esxi-arm 8.0.2, not esxi-arm 8.0.3"] });
    expect(nodes.find((n) => n.id === "device:beta/nic1/fpga0")).toMatchObject({ state: "drifted", details: ["fpga pf", "missing"] });
  });

  it("shows changing, failed and unprotected as the ports report them", () => {
    const observed = {
      ...converged,
      "alpha/nic1": seen({
        dpuOs: { image: "esxi-arm", version: "8.0.3", state: "Installing" },
        services: { dfw: { state: "Deploying", version: "4.2.1" } },
        devices: { vnic0: { kind: "vnic", function: "vf" } },
        pairs: { witness: { state: "Enabled", protected: false } },
      }),
      "gamma/nic1": seen({ powerState: "Off", services: { fw: { state: "Failed", version: "2.1.0" } } }),
    };
    expect(states(observed)).toMatchObject({
      "dpu:alpha/nic1": "changing",
      "service:alpha/nic1/dfw": "changing",
      "service:alpha/nic1/pair:witness": "unprotected",
      "service:beta/nic1/pair:witness": "unprotected",
      "dpu:gamma/nic1": "failed",
      "service:gamma/nic1/fw": "failed",
    });
  });

  it("judges no member a port does not list (a BMC without the OEM collections): the stack's word stands", () => {
    const observed = { ...converged, "gamma/nic1": seen({ dpuOs: null, services: null, devices: null, pairs: null }) };
    const fw = observeTopology(loaded, declared, observed).nodes.find((n) => n.id === "service:gamma/nic1/fw");
    expect(fw).toMatchObject({ state: "declared", details: ["firewall 2.1.0", "not listed by the port"] });
    expect(states(observed)["dpu:gamma/nic1"]).toBe("converged");
  });

  it("marks a DPU that was not read, and everything on it and its host, unreachable, with the reason", () => {
    const observed = { ...converged, "gamma/nic1": { reachable: false, reason: "password refused" } as const };
    const nodes = observeTopology(loaded, declared, observed).nodes;
    expect(nodes.find((n) => n.id === "dpu:gamma/nic1")).toMatchObject({ state: "unreachable", details: ["amd pensando-dsc2, dpu mode", "no DPU OS", "password refused"] });
    expect(states(observed)).toMatchObject({ "service:gamma/nic1/fw": "unreachable", "host:gamma": "unreachable", "dpu:gamma/nic2": "unmanaged" });
    const { "beta/nic1": _left, ...partial } = converged;
    expect(states(partial)).toMatchObject({ "dpu:beta/nic1": "unreachable", "device:beta/nic1/fpga0": "unreachable", "service:alpha/nic1/pair:witness": "converged" });
  });
});
