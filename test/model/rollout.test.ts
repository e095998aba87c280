import { afterAll, describe, expect, it } from "vitest";
import { classify, disruptsHost, estimateSeconds } from "../../model/disruption";
import { budgetOf, hostRollouts, schedule, type HostRollout } from "../../model/rollout";
import { load, stackText, tempDir } from "../support/stack-fixtures";

const files = tempDir("smartfleet-rollout-");
afterAll(() => files.cleanup());

/** Rollouts of `n` hosts in groups named by `groupOf(i)`, with pairs by index. */
function rollouts(n: number, opts: { budget?: number; canary?: number; groupOf?: (i: number) => string; pairs?: Record<number, string[]>; settle?: number } = {}): Map<string, HostRollout> {
  const group = opts.groupOf ?? (() => "cluster:a");
  const sizes = new Map<string, number>();
  for (let i = 0; i < n; i++) sizes.set(group(i), (sizes.get(group(i)) ?? 0) + 1);
  return new Map(
    Array.from({ length: n }, (_, i) => [
      `h${i}`,
      {
        stack: "s",
        host: `h${i}`,
        hostSerial: `S${i}`,
        group: group(i),
        groupSize: sizes.get(group(i)) as number,
        budget: opts.budget ?? 1,
        canary: opts.canary ?? 0,
        pairs: opts.pairs?.[i] ?? [],
        dpus: [],
        pairSides: [],
        hostMaintenance: { mode: "none" as const },
        healthGate: { settleSeconds: opts.settle ?? 0, timeoutSeconds: 600 },
        onFailure: "halt" as const,
        allowHostPowerCycle: false,
      },
    ]),
  );
}

const work = (n: number, seconds = 90) => Array.from({ length: n }, (_, i) => ({ host: `h${i}`, seconds }));

describe("the disruption model", () => {
  it("classifies a mode change as a host power cycle, a privilege or firmware change as a DPU reboot", () => {
    expect(classify("SmartNic", "update", [{ property: "mode", from: "nic", to: "dpu" }])).toBe("host-power-cycle");
    expect(classify("SmartNic", "update", [{ property: "hostPrivilege" }])).toBe("dpu-reboot");
    expect(classify("SmartNic", "update", [{ property: "firmware" }])).toBe("dpu-reboot");
    expect(classify("SmartNic", "update", [{ property: "slot" }])).toBe("none");
  });

  it("classifies DPU OS and host OS installs, service changes and the rest", () => {
    expect(classify("DpuOs", "update", [{ property: "version" }])).toBe("dpu-reboot");
    expect(classify("DpuOs", "update", [{ property: "ntp" }])).toBe("none");
    expect(classify("HostOsInstall", "create", [{ property: "version" }])).toBe("host-os-install");
    expect(classify("DpuService", "update", [{ property: "service" }])).toBe("service-restart");
    expect(classify("DpuService", "create", [{ property: "service" }])).toBe("none");
    expect(classify("HostDevice", "replace", [{ property: "kind" }])).toBe("none");
    expect(classify("SmartNic", "same", [{ property: "mode" }])).toBe("none");
  });

  it("says which disruptions take the host down and how long they take by default", () => {
    expect(["none", "service-restart", "dpu-reboot", "host-power-cycle", "host-os-install"].map((k) => disruptsHost(k as never))).toEqual([false, false, true, true, true]);
    expect(estimateSeconds("SmartNic", "update", [{ property: "hostPrivilege" }])).toBe(90);
    expect(estimateSeconds("SmartNic", "update", [{ property: "mode" }])).toBe(150);
    expect(estimateSeconds("DpuOs", "update", [{ property: "version" }])).toBe(480);
  });
});

describe("rollout budgets and schedules", () => {
  it("turns maxUnavailable into a budget: a count, or a percentage rounded down, at least 1", () => {
    expect(budgetOf(2, 10)).toBe(2);
    expect(budgetOf("10%", 10)).toBe(1);
    expect(budgetOf("10%", 5)).toBe(1);
    expect(budgetOf("25%", 16)).toBe(4);
    expect(budgetOf(50, 4)).toBe(4);
  });

  it("runs one host at a time per group by default and groups in parallel", () => {
    const plan = schedule(work(4), rollouts(4, { groupOf: (i) => `cluster:${i % 2}` }));
    expect(plan.totalSeconds).toBe(180);
    expect(plan.hosts.map((h) => [h.host, h.start, h.order])).toEqual([
      ["h0", 0, 1],
      ["h1", 0, 1],
      ["h2", 90, 2],
      ["h3", 90, 2],
    ]);
  });

  it("is work-conserving: a freed slot starts the next host at once, not in fixed waves", () => {
    const plan = schedule([{ host: "h0", seconds: 100 }, { host: "h1", seconds: 10 }, { host: "h2", seconds: 10 }], rollouts(3, { budget: 2 }));
    expect(plan.hosts.find((h) => h.host === "h2")?.start).toBe(10);
    expect(plan.totalSeconds).toBe(100);
  });

  it("lets canaries go alone before the rest of their group, with the gate's settle time", () => {
    const plan = schedule(work(4, 60), rollouts(4, { budget: 3, canary: 1, settle: 30 }));
    expect(plan.hosts.map((h) => [h.host, h.start])).toEqual([
      ["h0", 0],
      ["h1", 90],
      ["h2", 90],
      ["h3", 90],
    ]);
  });

  it("never disrupts two hosts that share a service pair at once, whatever the budget", () => {
    const plan = schedule(work(2), rollouts(2, { budget: 2, pairs: { 0: ["witness"], 1: ["witness"] } }));
    expect(plan.hosts.map((h) => h.start)).toEqual([0, 90]);
  });

  it("leaves hosts with nothing disruptive out of the schedule", () => {
    expect(schedule([{ host: "h0", seconds: 0 }], rollouts(1)).hosts).toEqual([]);
  });

  it("groups the lab-like stack's hosts by DPU OS cluster and finds the pairs on each host", () => {
    const file = files.write(
      "clusters.yaml",
      stackText(`hosts:
  esx-01:
    smartnics:
      nic1: { os: { image: esxi-arm, version: "8.0.3", cluster: east } }
  esx-02:
    smartnics:
      nic1: { os: { image: esxi-arm, version: "8.0.3", cluster: east } }
  esx-03:
    smartnics:
      nic1: { os: { image: esxi-arm, version: "8.0.3", cluster: west } }
servicePairs:
  witness:
    service: { type: vsan-witness, version: "8.0.3", cores: 2, memoryGiB: 4 }
    primary: esx-01/nic1
    secondary: esx-03/nic1
rollout: { maxUnavailable: "50%" }
`),
    );
    const all = hostRollouts(load(file));
    expect(all.get("esx-01")).toMatchObject({ group: "cluster:east", groupSize: 2, budget: 1, pairs: ["witness"], onFailure: "halt" });
    expect(all.get("esx-03")).toMatchObject({ group: "cluster:west", groupSize: 1, budget: 1, pairs: ["witness"] });
    expect(all.get("esx-02")?.pairs).toEqual([]);
  });
});
