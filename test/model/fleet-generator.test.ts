import { afterAll, describe, expect, it } from "vitest";
import { checkStack } from "../../policies/check";
import { generateFleet, managementAddress, writeFleetFiles } from "../../model/fleet-generator";
import { loadInventory } from "../../model/inventory";
import { loadStackSync } from "../../model/load";
import { hostRollouts } from "../../model/rollout";
import { verifyImage } from "../../emulator/images";
import { tempDir } from "../support/stack-fixtures";

const tmp = tempDir("sf-fleet-gen-");
afterAll(() => tmp.cleanup());

describe("the fleet generator", () => {
  it("writes a 1,000-DPU stack that loads with every DPU resolved, expands its component and passes every rule", () => {
    const files = writeFleetFiles(`${tmp.dir}/large`, { name: "large-1000", dpus: 1000, vendors: ["nvidia"], owner: "perf", hostOs: true, pairEvery: 2, edgeHosts: 50 });
    expect(files).toMatchObject({ dpus: 1000, hosts: 500, pairs: 250 });
    const stack = loadStackSync(files.stackFile);
    expect(stack.smartnics).toHaveLength(1000);
    expect(stack.servicePairs).toHaveLength(250);
    expect(stack.components.map((c) => c.name)).toEqual(["security-edge"]);
    const report = checkStack(stack);
    expect(report.findings).toEqual([]);
    expect(report.inputErrors).toEqual([]);
  });

  it("mixes NVIDIA and AMD DPUs into clusters per vendor, an odd count leaving the last host one DPU, and stays policy-clean", () => {
    const files = writeFleetFiles(`${tmp.dir}/mixed`, { name: "mixed", dpus: 7, nicsPerHost: 2, hostOs: true, allowHostPowerCycle: true });
    const fleet = loadInventory(files.fleetFile);
    expect(fleet.hosts.map((h) => h.smartnics.length)).toEqual([2, 2, 2, 1]);
    expect(fleet.hosts.flatMap((h) => h.smartnics.map((n) => n.vendor))).toEqual(["nvidia", "amd", "nvidia", "amd", "nvidia", "amd", "nvidia"]);
    expect(fleet.hosts.flatMap((h) => h.accelerators ?? [])).toHaveLength(1);
    for (const image of fleet.images ?? []) expect(verifyImage(fleet.images ?? [], image.uri).error).toBeNull();
    const stack = loadStackSync(files.stackFile);
    expect(stack.smartnics).toHaveLength(7);
    expect(new Set(stack.smartnics.map((n) => n.spec.os?.cluster))).toEqual(new Set(["c0-nvidia", "c0-amd"]));
    const report = checkStack(stack);
    expect(report.findings).toEqual([]);
    expect(report.inputErrors).toEqual([]);
  });

  it("is deterministic and flips only the host privilege when asked", () => {
    const opts = { name: "same", dpus: 6, vendors: ["nvidia" as const] };
    expect(generateFleet(opts)).toEqual(generateFleet(opts));
    const privileged = generateFleet({ ...opts, hostPrivilege: "privileged" }).stack;
    const text = JSON.stringify(privileged);
    expect(text.match(/"hostPrivilege":"privileged"/g)).toHaveLength(6);
    expect(text).not.toMatch(/restricted/);
  });

  it("gives every host the workloads asked for and adds pairs between the hosts named, across clusters too; stays policy-clean", () => {
    const files = writeFleetFiles(`${tmp.dir}/rollout`, {
      name: "rollout",
      dpus: 8,
      nicsPerHost: 1,
      vendors: ["nvidia"],
      fpgaEvery: 0,
      clusterHosts: 4,
      pairEvery: 2,
      pairsBetween: [[1, 6], [3, 4]],
      workloads: { count: 3, evacuationSeconds: 60 },
    });
    const fleet = loadInventory(files.fleetFile);
    expect(fleet.hosts.map((h) => h.workloads)).toEqual(Array(8).fill({ count: 3, evacuationSeconds: 60 }));
    const stack = loadStackSync(files.stackFile);
    const cluster = (ref: string) => stack.smartnics.find((n) => `${n.host}/${n.name}` === ref)?.spec.os?.cluster;
    expect(stack.servicePairs.map((p) => [p.name, cluster(p.primary), cluster(p.secondary)])).toEqual([
      ["witness-0", "c0", "c0"],
      ["witness-1", "c0", "c0"],
      ["witness-2", "c1", "c1"],
      ["witness-3", "c1", "c1"],
      ["witness-1-6", "c0", "c1"],
      ["witness-3-4", "c0", "c1"],
    ]);
    expect(checkStack(stack).findings).toEqual([]);
    expect(generateFleet({ name: "none", dpus: 2 }).inventory.hosts[0]).not.toHaveProperty("workloads");
    expect(() => generateFleet({ name: "bad", dpus: 2, nicsPerHost: 1, pairsBetween: [[0, 2]] })).toThrow(/a pair joins two different hosts among 0\.\.1, got \[0, 2\]/);
  });

  it("writes the rollout it is given (defaults left to the loader) and none when given none", () => {
    const rollout = { maxUnavailable: "10%", groupBy: "cluster", healthGate: { settleSeconds: 0 } };
    const files = writeFleetFiles(`${tmp.dir}/rollout`, { name: "rolling", dpus: 100, vendors: ["nvidia"], clusterHosts: 20, rollout });
    const stack = loadStackSync(files.stackFile);
    expect(stack.stack.rollout).toMatchObject({ maxUnavailable: "10%", groupBy: "cluster", canary: 0, healthGate: { settleSeconds: 0, timeoutSeconds: 600 }, onFailure: "halt" });
    // 50 hosts in clusters of 20: budgets count hosts, 10% of 20 is 2, of the last 10 it is 1.
    const budgets = [...hostRollouts(stack).values()].map((r) => `${r.group}:${r.groupSize}:${r.budget}`);
    expect(new Set(budgets)).toEqual(new Set(["cluster:c0:20:2", "cluster:c1:20:2", "cluster:c2:10:1"]));
    const fleetWide = loadStackSync(writeFleetFiles(`${tmp.dir}/fleet-wide`, { name: "wide", dpus: 10, vendors: ["nvidia"], rollout: { maxUnavailable: "100%", groupBy: "fleet" } }).stackFile);
    expect(new Set([...hostRollouts(fleetWide).values()].map((r) => `${r.group}:${r.budget}`))).toEqual(new Set(["fleet:5"]));
    expect(generateFleet({ name: "none", dpus: 2 }).stack.rollout).toBeUndefined();
  });

  it("allocates management addresses 250 per /24 from the caller's block, never .0 or .255, and fails past its blocks", () => {
    expect(managementAddress(0)).toBe("127.1.0.1");
    expect(managementAddress(249)).toBe("127.1.0.250");
    expect(managementAddress(250)).toBe("127.1.1.1");
    expect(managementAddress(599)).toBe("127.1.2.100");
    expect(managementAddress(64_000, 250, 6)).toBe("127.251.0.1");
    expect(() => managementAddress(64_000)).toThrow(/too many DPUs: 127\.1\.x\.y holds 64000/);
    expect(() => managementAddress(6 * 64_000, 250, 6)).toThrow(/127\.250-255\.x\.y/);
    expect(() => managementAddress(0, 256)).toThrow(/too many DPUs/);
  });
});
