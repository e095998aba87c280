import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { clusterNames, clusterTopology, NO_CLUSTER } from "../../cli/dashboard/clusters";
import { declaredState, fleetState, type Refresh } from "../../cli/dashboard/fleet-state";
import { loadStackSync } from "../../model/load";
import { observeTopology, stackTopology, type DpuObservation } from "../../model/topology";

/** The graph fixture: cluster blue (alpha, beta: a witness pair, an FPGA share), gamma alone. */
const STACK = path.resolve(__dirname, "..", "fixtures", "graph", "stack.yaml");

/**
 * The dashboard's document of one refresh, from the stack's topology and what the ports
 * showed: declared details and observed differences apart, host and cluster of every
 * node, rollout flags on hosts, totals, and the change log between refreshes; a task
 * running on a port makes its DPU `changing` with the task's percent.
 */
describe("dashboard fleet state", () => {
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
    "beta/nic1": seen({ devices: { "fpga-G-NIC-0001-fpga-share": { kind: "fpga", function: "pf" } } }),
    "gamma/nic1": seen({ dpuOs: null, services: { fw: { state: "Enabled", version: "2.1.0" } } }),
  };
  const noRollout = { file: "/x/lab.db", exists: false, disrupted: [], maintenance: [] };
  const refresh = (observed: Record<string, DpuObservation>, at: number, rollout: Refresh["rollout"] = noRollout): Refresh => ({
    stack: declared.stack,
    pulumiStack: "dev",
    startedAt: at,
    finishedAt: at + 40,
    requests: 3,
    dpusRead: 3,
    declared,
    observed: observeTopology(loaded, declared, observed),
    rollout,
  });

  it("places every node (host, cluster), keeps declared details apart from observations, counts states per kind", () => {
    const s = fleetState(refresh(converged, 1000), undefined);
    expect(s.version).toBe(1);
    expect(s.refreshMs).toBe(40);
    expect(s.changes).toEqual([]);
    const dfw = s.nodes.find((n) => n.id === "service:alpha/nic1/dfw");
    expect(dfw).toMatchObject({ host: "alpha", cluster: "blue", state: "converged", details: ["nsx-dfw 4.2.1"], notes: [] });
    expect(s.nodes.find((n) => n.id === "host:gamma")).toMatchObject({ host: "gamma", cluster: null });
    expect(s.nodes.find((n) => n.id === "cluster:blue")).toMatchObject({ host: null, cluster: "blue" });
    expect(s.counts.dpu).toEqual({ converged: 3, unmanaged: 1 });
    expect(s.counts.cluster).toBeUndefined();
    expect(s.nodes.map((n) => n.id)).toEqual(declared.nodes.map((n) => n.id));
  });

  it("records state changes between refreshes with what the port showed; rollout flags only on the hosts named", () => {
    const first = fleetState(refresh(converged, 1000), undefined);
    const drifted = { ...converged, "alpha/nic1": { ...(converged["alpha/nic1"] as object), mode: "nic" } as DpuObservation };
    const rollout = {
      file: "/x/lab.db",
      exists: true,
      disrupted: [{ host: "beta", scopes: ["group:cluster:blue"], run: "r1", expiresAt: 9000 }],
      maintenance: [{ host: "gamma", run: "r1", since: 500, note: "", group: null }],
    };
    const second = fleetState(refresh(drifted, 2000, rollout), first);
    expect(second.version).toBe(2);
    const dpu = second.nodes.find((n) => n.id === "dpu:alpha/nic1");
    expect(dpu?.state).toBe("drifted");
    expect(dpu?.notes).toEqual(["mode nic, not dpu"]);
    expect(dpu?.details).toEqual(declared.nodes.find((n) => n.id === "dpu:alpha/nic1")?.details);
    expect(second.changes).toEqual([{ at: 2000, id: "dpu:alpha/nic1", from: "converged", to: "drifted", notes: ["mode nic, not dpu"] }]);
    expect(second.nodes.filter((n) => n.rollout).map((n) => [n.id, n.rollout])).toEqual([
      ["host:beta", ["disrupted"]],
      ["host:gamma", ["maintenance"]],
    ]);
    // A third refresh with nothing new adds no change; the log keeps the earlier one.
    const third = fleetState(refresh(drifted, 3000, rollout), second);
    expect(third.changes).toEqual(second.changes);
  });

  it("a task running on a port: its DPU is changing with the task's name and percent, even while the DPU is off for it", () => {
    const busy = { ...converged, "gamma/nic1": { ...(converged["gamma/nic1"] as object), powerState: "Off", tasks: [{ name: "DPU reset", percent: 40 }, { name: "Firmware update", percent: null }] } as DpuObservation };
    const s = fleetState(refresh(busy, 1000), undefined);
    expect(s.nodes.find((n) => n.id === "dpu:gamma/nic1")).toMatchObject({ state: "changing", notes: ["DPU reset 40 %", "Firmware update"] });
    // Off with nothing running is a failure.
    const off = { ...converged, "gamma/nic1": { ...(converged["gamma/nic1"] as object), powerState: "Off", tasks: [] } as DpuObservation };
    expect(fleetState(refresh(off, 1000), undefined).nodes.find((n) => n.id === "dpu:gamma/nic1")).toMatchObject({ state: "failed", notes: ["power Off"] });
  });

  it("a cluster's part of the topology: its boxes and the edges inside it; hosts outside every cluster as one more group", () => {
    expect(clusterNames(declared)).toEqual(["blue", NO_CLUSTER]);
    const blue = clusterTopology(declared, "blue");
    expect(blue?.nodes.map((n) => n.id)).toEqual(declared.nodes.filter((n) => /^(cluster:blue|[a-z]+:(alpha|beta)(\/|$))/.test(n.id)).map((n) => n.id));
    expect(blue?.nodes[0].id).toBe("cluster:blue");
    expect(blue?.edges.map((e) => e.kind).sort()).toEqual(declared.edges.filter((e) => !e.from.includes("gamma") && !e.to.includes("gamma")).map((e) => e.kind).sort());
    expect(clusterTopology(declared, NO_CLUSTER)?.nodes.map((n) => n.id)).toEqual(declared.nodes.filter((n) => n.id.includes("gamma")).map((n) => n.id));
    expect(clusterTopology(declared, "red")).toBeUndefined();
  });

  it("before the first read: the stack's word (version 0, not observed), and the first read logs no change from it", () => {
    const before = declaredState(declared.stack, "dev", declared, noRollout, 500);
    expect(before).toMatchObject({ version: 0, observed: false, requests: 0, dpusRead: 0, changes: [] });
    expect(new Set(before.nodes.map((n) => n.state))).toEqual(new Set(["declared", "unmanaged"]));
    const first = fleetState(refresh(converged, 1000), before);
    expect(first).toMatchObject({ version: 1, observed: true, changes: [] });
  });
});
