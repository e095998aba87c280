// Benchmark fleets from the model's fleet generator (model/fleet-generator.ts): N DPUs
// (N even), two NVIDIA BlueField-3 per host, every DPU with SmartNic, DpuOs, two services
// and two host devices, and a vSAN witness pair between nic1 of every fourth host and the
// next. Management ports sit on 127.250.x.y and up, away from the addresses tests bind
// (127.0.x.y, 127.1.x.y, 127.20-219.x.y).
import { managementAddress, writeFleetFiles, writeStackFile, type FleetGeneratorOptions } from "../../model/fleet-generator";
import type { Privilege } from "./types";

/** The benchmark's management addresses: 127.250.0.1 onwards, up to 127.255.x.y. */
export const BENCH_BLOCK = 250;
const BENCH_BLOCKS = 6;

/** The loopback address of the i-th DPU (0-based): 127.250.0.1 onwards, 250 per /24. */
export function benchAddress(index: number): string {
  return managementAddress(index, BENCH_BLOCK, BENCH_BLOCKS);
}

/** The generator's options for a benchmark fleet of `dpus` DPUs. */
function benchOptions(dpus: number, hostPrivilege: Privilege, sha256?: (uri: string) => string): FleetGeneratorOptions {
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
    clusterHosts: 16,
    pairEvery: 4,
    allowHostPowerCycle: false,
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
export function writeBenchFleet(dir: string, dpus: number, servedSha256: (uri: string) => string, hostPrivilege: Privilege = "restricted"): BenchFleet {
  if (!Number.isInteger(dpus) || dpus < 2 || dpus % 2 !== 0) throw new Error(`--dpus takes an even number >= 2, got ${dpus}`);
  const files = writeFleetFiles(dir, benchOptions(dpus, hostPrivilege, servedSha256));
  return { fleetFile: files.fleetFile, stackFile: files.stackFile, hosts: files.hosts, pairs: files.pairs };
}

/** Rewrites the stack with every DPU's host privilege set to `hostPrivilege` (the fleet-wide change flips it); returns the number of service pairs. */
export function writeBenchStack(stackFile: string, dpus: number, hostPrivilege: Privilege): number {
  return writeStackFile(stackFile, benchOptions(dpus, hostPrivilege));
}
