// Checks of the benchmark's own logic (fleet generation, the floor provider, results
// shape, chart, request breakdown): no emulator, no Pulumi.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { benchAddress, writeBenchFleet, writeBenchStack, ROLLING_CLUSTER_HOSTS, ROLLING_ROLLOUT } from "../../bench/lib/fleet";
import { budgetBoundCriticalPath, readRollingLog } from "../../bench/lib/rolling";
import { loadStackSync } from "../../model/load";
import { hostRollouts, schedule } from "../../model/rollout";
import { implementation as floor } from "../../bench/lib/floor-provider";
import { buildResults, targetsOf } from "../../bench/lib/results";
import { renderChart } from "../../bench/lib/chart";
import { renderSummary } from "../../bench/lib/summary";
import { median } from "../../bench/lib/stats";
import { breakdown } from "../../bench/lib/suite";
import type { RawResults } from "../../bench/lib/types";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-bench-test-"));

/** Runs `body` in a temp dir removed afterwards. */
function inTempDir<T>(body: (dir: string) => T): T {
  const dir = tmp();
  try {
    return body(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const count = (text: string, pattern: RegExp) => (text.match(pattern) ?? []).length;

describe("benchmark fleets", () => {
  it("bench addresses start at 127.250.0.1 and never reach the blocks tests use", () => {
    expect(benchAddress(0)).toBe("127.250.0.1");
    expect(benchAddress(249)).toBe("127.250.0.250");
    expect(benchAddress(250)).toBe("127.250.1.1");
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const address = benchAddress(i);
      const [a, b, c, d] = address.split(".").map(Number);
      expect(a).toBe(127);
      expect(b >= 250 && b <= 255 && c <= 255 && d >= 1 && d <= 250, address).toBe(true);
      seen.add(address);
    }
    expect(seen.size).toBe(5000);
  });

  it("a fleet of 10 DPUs has 5 hosts with two DPUs, each with OS, two services and two devices, and one witness pair", () => {
    inTempDir((dir) => {
      const fleet = writeBenchFleet(dir, 10, () => "a".repeat(64));
      expect({ hosts: fleet.hosts, pairs: fleet.pairs }).toEqual({ hosts: 5, pairs: 1 });
      const inventory = fs.readFileSync(fleet.fleetFile, "utf8");
      expect(count(inventory, /name: nic\d/g)).toBe(10);
      expect(count(inventory, /address: 127\.250\.0\.\d+/g)).toBe(10);
      const stack = fs.readFileSync(fleet.stackFile, "utf8");
      expect(count(stack, /hostPrivilege: restricted/g)).toBe(10);
      expect(count(stack, /image: esxi-arm/g)).toBe(10);
      expect(count(stack, /type: nsx-dfw/g)).toBe(10);
      expect(count(stack, /type: vsan-storage/g)).toBe(10);
      expect(count(stack, /vnic0:/g) + count(stack, /nvme0:/g)).toBe(20);
      expect(stack).toMatch(/witness-0:\n(.*\n)*?\s+primary: esx-0001\/nic1\n\s+secondary: esx-0002\/nic1/);
    });
  });

  it("the fleet-wide change rewrites every DPU's host privilege", () => {
    inTempDir((dir) => {
      const { stackFile } = writeBenchFleet(dir, 6, () => "a".repeat(64));
      writeBenchStack(stackFile, 6, "privileged");
      const stack = fs.readFileSync(stackFile, "utf8");
      expect(count(stack, /hostPrivilege: privileged/g)).toBe(6);
      expect(stack).not.toMatch(/restricted/);
    });
  });

  it("every bench stack declares the fleet-wide bring-up rollout; the rolling layout 10 % per cluster of 20 hosts", () => {
    inTempDir((dir) => {
      const { stackFile } = writeBenchFleet(dir, 100, () => "a".repeat(64));
      const wide = loadStackSync(stackFile);
      expect(wide.stack.rollout).toMatchObject({ maxUnavailable: "100%", groupBy: "fleet", canary: 0, healthGate: { settleSeconds: 0 } });
      expect(new Set([...hostRollouts(wide).values()].map((r) => `${r.group}/${r.groupSize}/${r.budget}`))).toEqual(new Set(["fleet/50/50"]));
      writeBenchStack(stackFile, 100, "privileged", { clusterHosts: ROLLING_CLUSTER_HOSTS, rollout: ROLLING_ROLLOUT });
      const rolling = loadStackSync(stackFile);
      expect(rolling.stack.rollout).toMatchObject({ maxUnavailable: "10%", groupBy: "cluster", healthGate: { settleSeconds: 0 } });
      expect(new Set([...hostRollouts(rolling).values()].map((r) => `${r.group}/${r.groupSize}/${r.budget}`))).toEqual(new Set(["cluster:c0/20/2", "cluster:c1/20/2", "cluster:c2/10/1"]));
    });
  });

  it("the budget-bound critical path of the rolling change: ten 90 s waves in each group (pairs fit in), the log read per group", () => {
    inTempDir((dir) => {
      const { stackFile } = writeBenchFleet(dir, 100, () => "a".repeat(64), "privileged", { clusterHosts: ROLLING_CLUSTER_HOSTS, rollout: ROLLING_ROLLOUT });
      const critical = budgetBoundCriticalPath({ loadStackSync, hostRollouts, schedule } as never, stackFile, 90);
      expect(critical.seconds).toBe(900);
      expect(critical.groups).toEqual({ "cluster:c0": { hosts: 20, budget: 2 }, "cluster:c1": { hosts: 20, budget: 2 }, "cluster:c2": { hosts: 10, budget: 1 } });
      const log = [
        { kind: "dpu-reboot", host: "esx-0001", dpu: "a", start: 0, end: 90_000 },
        { kind: "dpu-reboot", host: "esx-0001", dpu: "b", start: 100, end: 90_200 },
        { kind: "dpu-reboot", host: "esx-0003", dpu: "c", start: 50, end: 90_050 },
        { kind: "dpu-reboot", host: "esx-0002", dpu: "d", start: 90_200, end: 180_000 },
        { kind: "service-restart", host: "esx-0004", start: 0, end: 1 },
      ];
      expect(readRollingLog(log, (h) => critical.groupOf.get(h) ?? "")).toEqual({ reboots: 4, medianRebootSeconds: 90, peakHostsByGroup: { "cluster:c0": 2 }, spanSeconds: 180 });
    });
  });

  it("fails if the fleet size is odd: hosts carry two DPUs", () => {
    inTempDir((dir) => expect(() => writeBenchFleet(dir, 7, () => "")).toThrow(/even number/));
  });
});

describe("the floor provider", () => {
  it("reports a change only when an input other than the serialized provider differs", async () => {
    const olds = { __provider: "old text", target: { serial: "S1" }, hostPrivilege: "restricted" };
    expect((await floor.diff("id", olds, { ...olds, __provider: "new text" })).changes).toBe(false);
    expect((await floor.diff("id", olds, { ...olds, hostPrivilege: "privileged" })).changes).toBe(true);
    const created = await floor.create({ target: { serial: "S1" }, name: "dfw" });
    expect((await floor.create({ target: { serial: "S1" }, name: "dfw" })).id).toBe(created.id);
    expect(created.outs).toEqual({ target: { serial: "S1" }, name: "dfw" });
  });
});

describe("results", () => {
  it("median of odd and even counts", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("judges a target on the ratio itself, not on the ratio shown to two places", () => {
    const oneDpu = (shard: number) => [
      { scenario: "preview-one-dpu", dpus: 2000, tool: "smartfleet", runs: [52.36], median: 52.36 },
      { scenario: "preview-one-dpu", dpus: 2000, tool: "smartfleet-8-shards", runs: [shard], median: shard },
    ];
    const judged = (shard: number) => targetsOf(oneDpu(shard), [], [2000]).find((t) => t.target.startsWith("preview of a one-DPU change, smartfleet-8-shards "));
    expect(judged(10.5)).toMatchObject({ reached: 0.2, limit: 0.2, met: false });
    expect(judged(10.47)).toMatchObject({ reached: 0.2, met: true });
  });

  function sampleRaw(): RawResults {
    const measurements: RawResults["measurements"] = [];
    for (const run of [0, 1, 2]) {
      measurements.push({ scenario: "up", dpus: 100, tool: "smartfleet", seconds: 12 + run, run });
      measurements.push({ scenario: "up", dpus: 100, tool: "floor", seconds: 10 + run, run });
      measurements.push({ scenario: "change", dpus: 100, tool: "smartfleet", seconds: 8, run });
      measurements.push({ scenario: "change", dpus: 100, tool: "ansible-forks5", seconds: 60, run });
    }
    const counters = [0, 1, 2].map((run) => ({ scenario: "refresh", dpus: 100, run, tool: "smartfleet", managementRequests: 2180 + run, resources: 715, stateBytes: 715 * 5000, providerPeakRssMiB: 200 + run }));
    return { measurements, counters, checkpoints: [], requestBreakdown: [], cpuProfiles: [], failures: [], notes: [], loadAtStart: [1, 1, 1] };
  }

  it("keep the rows and counters in exactly the shape issue #6 gives, with the targets computed from medians", () => {
    const opts = { dpus: [100], runs: 3, scenarios: new Set(["up", "refresh", "change"]), tools: new Set(["smartfleet", "floor", "ansible"]), parallel: 32, timeScale: 1 };
    const results = buildResults({ raw: sampleRaw(), opts, versions: {}, startedAt: new Date(), finishedAt: new Date(), scenarios: ["up", "preview", "refresh", "change"], notes: [] });
    for (const row of results.rows) expect(Object.keys(row)).toEqual(["scenario", "dpus", "tool", "runs", "median"]);
    // Issue #6's keys first and in its order; issue #15 added the tool and the largest provider's and the engine's peaks after them.
    for (const c of results.counters) expect(Object.keys(c)).toEqual(["scenario", "dpus", "managementRequests", "stateBytesPerResource", "providerPeakRssMiB", "tool", "largestProviderPeakRssMiB", "enginePeakRssMiB"]);
    expect(results.rows.find((r) => r.tool === "smartfleet" && r.scenario === "up")).toEqual({ scenario: "up", dpus: 100, tool: "smartfleet", runs: [12, 13, 14], median: 13 });
    expect(results.counters[0]).toEqual({ scenario: "refresh", dpus: 100, managementRequests: 2181, stateBytesPerResource: 5000, providerPeakRssMiB: 201, tool: "smartfleet", largestProviderPeakRssMiB: null, enginePeakRssMiB: null });
    const byName = Object.fromEntries(results.targets.map((t) => [t.target, t]));
    expect(byName["up at time scale 0, smartfleet / floor"].reached).toBe(1.18);
    expect(byName["up at time scale 0, smartfleet / floor"].met).toBe(true);
    expect(byName["same change, Ansible (default forks) / smartfleet"].reached).toBe(7.5);
    expect(byName["no-change refresh, management requests per DPU"].met).toBe(false);
    const svg = renderChart(results);
    expect(svg).toMatch(/^<\?xml/);
    expect(count(svg, /<circle /g)).toBe(results.rows.length);
    expect(renderSummary(results)).toMatch(/\| up \| 100 \| 13 \(12–14\) \| 11 \(10–12\)/);
  });

  it("compare the rolling change with its critical path and plan with the no-change preview of the same run", () => {
    const raw = sampleRaw();
    raw.measurements.push(
      { scenario: "change-rolling", dpus: 100, tool: "smartfleet", seconds: 990, run: 0 },
      { scenario: "change-rolling", dpus: 100, tool: "critical-path", seconds: 900, run: 0 },
      { scenario: "preview", dpus: 100, tool: "smartfleet", seconds: 10, run: 0 },
      { scenario: "plan", dpus: 100, tool: "smartfleet", seconds: 11.5, run: 0 },
    );
    const opts = { dpus: [100], runs: 1, scenarios: new Set(["up", "preview", "plan", "change-rolling"]), tools: new Set(["smartfleet"]), parallel: 128, timeScale: 1 };
    const results = buildResults({ raw, opts, versions: {}, startedAt: new Date(), finishedAt: new Date(), scenarios: ["up", "preview", "refresh", "plan", "change", "change-timed", "change-rolling", "destroy"], notes: [] });
    const byName = Object.fromEntries(results.targets.map((t) => [t.target, t]));
    expect(byName["rolling change under a 10 % budget, smartfleet / budget-bound critical path"]).toMatchObject({ reached: 1.1, limit: 1.15, met: true });
    expect(byName["plan with a pending change, smartfleet plan / no-change preview"]).toMatchObject({ reached: 1.15, limit: 1.1, met: false });
    expect(results.rows.map((r) => r.scenario)).toEqual(["up", "up", "preview", "plan", "change", "change", "change-rolling", "change-rolling"]);
    // Issue #15's tighter limits apply at 500 DPUs only.
    expect(results.targets.map((t) => t.target).filter((t) => t.includes("issue #15"))).toEqual([]);
  });

  it("hold up and the no-change preview at 500 DPUs to issue #15's limits as well as issue #6's", () => {
    const measurements = [
      { scenario: "up", dpus: 500, tool: "smartfleet", seconds: 36, run: 0 },
      { scenario: "up", dpus: 500, tool: "floor", seconds: 30, run: 0 },
      { scenario: "preview", dpus: 500, tool: "smartfleet", seconds: 21, run: 0 },
      { scenario: "preview", dpus: 500, tool: "floor", seconds: 20, run: 0 },
    ];
    const opts = { dpus: [500], runs: 1, scenarios: new Set(["up", "preview"]), tools: new Set(["smartfleet", "floor"]), parallel: 128, timeScale: 0 };
    const results = buildResults({ raw: { ...sampleRaw(), measurements, counters: [] }, opts, versions: {}, startedAt: new Date(), finishedAt: new Date(), scenarios: ["up", "preview"], notes: [] });
    const byName = Object.fromEntries(results.targets.map((t) => [t.target, t]));
    expect(byName["up at time scale 0, smartfleet / floor"]).toMatchObject({ reached: 1.2, limit: 1.3, met: true });
    expect(byName["up at time scale 0, smartfleet / floor (issue #15)"]).toMatchObject({ reached: 1.2, limit: 1.15, met: false });
    expect(byName["no-change preview, smartfleet / floor (issue #15)"]).toMatchObject({ reached: 1.05, limit: 1.05, met: true });
  });

  it("the request breakdown masks member ids and counts by method and path", () => {
    inTempDir((dir) => {
      const file = path.join(dir, "trace.txt");
      fs.writeFileSync(file, ["GET 127.250.0.1 /redfish/v1/Oem/SmartFleet/Services/dfw", "GET 127.250.0.2 /redfish/v1/Oem/SmartFleet/Services/vsan", "POST 127.250.0.1 /redfish/v1/SessionService/Sessions", ""].join("\n"));
      expect(breakdown(file)).toEqual({ "GET /redfish/v1/Oem/SmartFleet/Services/{id}": 2, "POST /redfish/v1/SessionService/Sessions": 1 });
    });
  });
});
