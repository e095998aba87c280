// Benchmark fleets from the model's fleet generator (model/fleet-generator.ts): N DPUs
// (N even), two NVIDIA BlueField-3 per host, every DPU with SmartNic, DpuOs, two services
// and two host devices, and a vSAN witness pair between nic1 of every fourth host and the
// next. Management ports sit on 127.250.x.y and up, away from the addresses tests bind
// (127.0.x.y, 127.1.x.y, 127.20-219.x.y).
//
// Every bench stack declares its rollout (the budget the providers hold around each DPU
// reboot and OS install): without one a stack rolls one host at a time per cluster with a
// 30 s settle, and bringing a fleet under management (a reboot per DPU for its host
// privilege) would crawl. See "Rollout" in bench/README.md.
import { managementAddress, writeFleetFiles, writeStackFile, type FleetGeneratorOptions, type GeneratedRollout } from "../../model/fleet-generator";
import type { Privilege } from "./types";

/** The benchmark's management addresses: 127.250.0.1 onwards, up to 127.255.x.y. */
export const BENCH_BLOCK = 250;
const BENCH_BLOCKS = 6;

/** The loopback address of the i-th DPU (0-based): 127.250.0.1 onwards, 250 per /24. */
export function benchAddress(index: number): string {
  return managementAddress(index, BENCH_BLOCK, BENCH_BLOCKS);
}

/**
 * What an operator declares to bring up a fleet that carries no workloads yet, or to
 * change it all at once: every host at once (the whole fleet one group, 100 %), no settle
 * wait; the health gate still reads every host after its disruption. The scenarios up to
 * `change-timed` run under it, so they measure what they measured before rollouts.
 */
export const BRING_UP_ROLLOUT: GeneratedRollout = { maxUnavailable: "100%", groupBy: "fleet", healthGate: { settleSeconds: 0 } };

/** `change-rolling`'s budget: 10 % of each cluster's hosts at once (rounded down, at least 1), no settle wait. */
export const ROLLING_ROLLOUT: GeneratedRollout = { maxUnavailable: "10%", groupBy: "cluster", healthGate: { settleSeconds: 0 } };

/** Hosts per DPU OS cluster: 16 for every scenario; 20 for `change-rolling`, where 10 % of a cluster is 2 hosts (budgets count hosts, not DPUs). */
export const BENCH_CLUSTER_HOSTS = 16;
export const ROLLING_CLUSTER_HOSTS = 20;

/** The shape of a bench stack besides its size and privilege. */
export interface BenchLayout {
  /** Hosts per DPU OS cluster (default `BENCH_CLUSTER_HOSTS`). */
  clusterHosts?: number;
  /** The stack's rollout (default `BRING_UP_ROLLOUT`). */
  rollout?: GeneratedRollout;
}

/** The generator's options for a benchmark fleet of `dpus` DPUs. */
function benchOptions(dpus: number, hostPrivilege: Privilege, sha256?: (uri: string) => string, layout: BenchLayout = {}): FleetGeneratorOptions {
  return {
    name: `bench-${dpus}`,
    owner: "bench",
    dpus,
    nicsPerHost: 2,
    vendors: ["nvidia"],
    fpgaEvery: 0,
    addressBlock: BENCH_BLOCK,
    addressBlocks: BENCH_BLOCKS,
    ...(sha256 ? { sha256 } : {}),
    hostPrivilege,
    clusterHosts: layout.clusterHosts ?? BENCH_CLUSTER_HOSTS,
    pairEvery: 4,
    allowHostPowerCycle: false,
    rollout: layout.rollout ?? BRING_UP_ROLLOUT,
  };
}

/** The files of a benchmark fleet. */
export interface BenchFleet {
  fleetFile: string;
  stackFile: string;
  hosts: number;
  pairs: number;
}

/**
 * Writes `fleet.yaml` and `stack.yaml` for `dpus` DPUs into `dir` and returns their paths,
 * the hosts and the service pairs. `servedSha256` comes from the build being measured, so
 * the catalog's checksums match what its emulator's image server serves.
 */
export function writeBenchFleet(dir: string, dpus: number, servedSha256: (uri: string) => string, hostPrivilege: Privilege = "restricted", layout: BenchLayout = {}): BenchFleet {
  if (!Number.isInteger(dpus) || dpus < 2 || dpus % 2 !== 0) throw new Error(`--dpus takes an even number >= 2, got ${dpus}`);
  const files = writeFleetFiles(dir, benchOptions(dpus, hostPrivilege, servedSha256, layout));
  return { fleetFile: files.fleetFile, stackFile: files.stackFile, hosts: files.hosts, pairs: files.pairs };
}

/**
 * Rewrites the stack with every DPU's host privilege set to `hostPrivilege` (the fleet-wide
 * change flips it) and `layout`'s clusters and rollout; returns the number of service pairs.
 */
export function writeBenchStack(stackFile: string, dpus: number, hostPrivilege: Privilege, layout: BenchLayout = {}): number {
  return writeStackFile(stackFile, benchOptions(dpus, hostPrivilege, undefined, layout));
}
