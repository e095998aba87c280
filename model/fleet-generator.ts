/**
 * Generated fleets: an inventory (Fleet) and a stack over it, of any size, deterministic
 * (the same options give the same documents). One generator for every caller:
 * `smartfleet generate-fleet` (the inventory only), the benchmarks (`npm run bench`,
 * `bench/e2e-timing.ts`) and tests that need scale. Management ports get addresses from
 * one allocator, `managementAddress`, each caller on its own `127.B.x.y` block.
 *
 * Model layer: documents in, documents out; `writeFleetFiles` is the only I/O.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import type { HostPrivilege, Service } from "../schemas/generated/common";
import type { ComponentUse, DeviceSpec, HostOsSpec, Stack, StackRollout } from "../schemas/generated/stack";
import type { FleetHost, FleetImage, FleetInventory, FleetSmartNic } from "./inventory";
import { servedSha256 } from "./images";

/** DPUs per `127.B.x.y` block: x in 0..255, y in 1..250. */
export const ADDRESSES_PER_BLOCK = 256 * 250;

/**
 * The management address of the `index`-th DPU (0-based) of a fleet whose addresses start
 * at `127.<firstBlock>.0.1`: 250 per /24 (y in 1..250, never .0 or .255), then the next
 * /24, then the next block. `blocks` is how many `127.B` blocks the caller owns (default 1);
 * going past them is an error, so a fleet never strays onto addresses others use.
 */
export function managementAddress(index: number, firstBlock = 1, blocks = 1): string {
  if (!Number.isInteger(index) || index < 0) throw new Error(`a DPU index is a non-negative integer, got ${index}`);
  const block = firstBlock + Math.floor(index / ADDRESSES_PER_BLOCK);
  if (block >= firstBlock + blocks || block > 255) {
    const last = Math.min(255, firstBlock + blocks - 1);
    throw new Error(`too many DPUs: 127.${firstBlock}${last > firstBlock ? `-${last}` : ""}.x.y holds ${(last - firstBlock + 1) * ADDRESSES_PER_BLOCK}`);
  }
  const inBlock = index % ADDRESSES_PER_BLOCK;
  return `127.${block}.${Math.floor(inBlock / 250)}.${(inBlock % 250) + 1}`;
}

/** DPU vendors the generator can place (each with one model and its factory account). */
export type GeneratedVendor = "nvidia" | "amd";

const DPU_KINDS: Record<GeneratedVendor, { model: FleetSmartNic["model"]; serial: (n: number) => string; factoryCredentials: FleetSmartNic["factoryCredentials"] }> = {
  nvidia: { model: "bluefield-3", serial: (n) => `MT${String(n).padStart(10, "0")}`, factoryCredentials: { username: "root", password: "0penBmc" } },
  amd: { model: "pensando-dsc2", serial: (n) => `PEN${String(n).padStart(9, "0")}`, factoryCredentials: { username: "admin", password: "Pen$ando1" } },
};

const HOST_KINDS = [
  { vendor: "dell", model: "PowerEdge R760" },
  { vendor: "hpe", model: "ProLiant DL380 Gen11" },
  { vendor: "lenovo", model: "ThinkSystem SR650 V3" },
] as const;

/** What the inventory holds. */
export interface InventoryOptions {
  /** Fleet name: `metadata.name` of the inventory and of the stack, and the image server's host in the image URIs (`images.<name>`). */
  name: string;
  /** DPUs in the fleet. */
  dpus: number;
  /** DPUs per host (the last host holds the rest). Default 2. */
  nicsPerHost?: number;
  /** Vendors of the DPUs, taken in turn by DPU index. Default nvidia and AMD alternating. */
  vendors?: GeneratedVendor[];
  /** An FPGA in every n-th host (the first, the n+1-th...); 0 for none. Default 10. */
  fpgaEvery?: number;
  /** Management addresses start at `127.<addressBlock>.0.1`. Default 1. */
  addressBlock?: number;
  /** How many `127.B` blocks from `addressBlock` on the fleet may use. Default 1. */
  addressBlocks?: number;
  /**
   * The checksum listed for an image URI. Default: what this build's emulator image server
   * serves (`servedSha256`); the benchmark passes the one of the build it measures.
   */
  sha256?: (uri: string) => string;
  /** Workloads (VMs) every host carries: entering maintenance evacuates them, a disruption outside it is an outage. Unset: none. */
  workloads?: { count: number; evacuationSeconds?: number };
}

/** What the stack declares on every managed DPU and around it. */
export interface StackOptions {
  /** Team in `metadata.owner`. */
  owner?: string;
  /** The inventory file, relative to the stack file. Default `fleet.yaml`. */
  inventory?: string;
  /** Host privilege of every DPU (the benchmark's fleet-wide change flips it). Default restricted. */
  hostPrivilege?: HostPrivilege;
  /** ESXi on every host, installed through its nic1. Default false. */
  hostOs?: boolean;
  /** DPU OS cluster per this many hosts (`c0`, `c1`...; per vendor when vendors mix); 0 for none. Default 16. */
  clusterHosts?: number;
  /** Services on every DPU, by name. Default `DEFAULT_SERVICES`. */
  services?: Record<string, GeneratedService>;
  /** Host devices of every DPU, by name. Default `DEFAULT_DEVICES`. */
  devices?: Record<string, GeneratedDevice>;
  /** A vSAN witness pair between nic1 of host h and of host h+1 for every h that is a multiple of this; 0 for none. Default 4. */
  pairEvery?: number;
  /**
   * More vSAN witness pairs, one per `[a, b]` of 0-based host indices: primary nic1 of host
   * a, secondary nic1 of host b, named `witness-<a>-<b>` (e.g. across clusters). Default none.
   */
  pairsBetween?: ReadonlyArray<readonly [number, number]>;
  /** The `security-edge@^1` component over the first this many hosts (it restricts their nic1 itself); 0 for none. Default 0. */
  edgeHosts?: number;
  /** `maintenance.allowHostPowerCycle`; unset leaves `maintenance` out. */
  allowHostPowerCycle?: boolean;
  /** The stack's `rollout` (as written: defaults may be left out); unset leaves it out (one host at a time per cluster). */
  rollout?: GeneratedRollout;
}

/** A stack's `rollout` as written (every field has a default). */
export type GeneratedRollout = Partial<Omit<StackRollout, "healthGate" | "hostMaintenance">> & {
  healthGate?: Partial<StackRollout["healthGate"]>;
  hostMaintenance?: Partial<StackRollout["hostMaintenance"]>;
};

/** Everything a generated fleet is made from. */
export type FleetGeneratorOptions = InventoryOptions & StackOptions;

/** A service as written in a stack (`config` may be left out). */
export type GeneratedService = Omit<Service, "config"> & { config?: Record<string, unknown> };

/** A host device as written in a stack (`function` defaults to vf). */
export type GeneratedDevice = Omit<DeviceSpec, "function"> & { function?: DeviceSpec["function"] };

/** A DPU as written in a stack. */
export interface GeneratedSmartnicSpec {
  mode: "dpu";
  hostPrivilege?: HostPrivilege;
  os: { image: string; version: string; hostname: string; cluster?: string };
  services: Record<string, GeneratedService>;
  devices: Record<string, GeneratedDevice>;
}

/** A stack document as written (defaults left out). */
export interface GeneratedStack {
  apiVersion: Stack["apiVersion"];
  kind: Stack["kind"];
  metadata: Stack["metadata"];
  inventory: string;
  hosts: Record<string, { os?: HostOsSpec; smartnics: Record<string, GeneratedSmartnicSpec> }>;
  servicePairs?: Record<string, { service: GeneratedService; primary: string; secondary: string }>;
  components?: Array<Omit<ComponentUse, "with"> & { with?: Record<string, unknown> }>;
  maintenance?: Stack["maintenance"];
  rollout?: GeneratedRollout;
}

/** A generated fleet: the inventory and the stack over all of it. */
export interface GeneratedFleet {
  inventory: FleetInventory;
  stack: GeneratedStack;
}

/** Every DPU: a firewall for the NSX distributed firewall and vSAN storage. */
export const DEFAULT_SERVICES: Record<string, GeneratedService> = {
  dfw: { type: "nsx-dfw", version: "4.2.1", cores: 2, memoryGiB: 4, config: { defaultAction: "drop" } },
  vsan: { type: "vsan-storage", version: "8.0.3", cores: 2, memoryGiB: 4 },
};

/** Every DPU: a vNIC backed by the firewall and an NVMe disk backed by vSAN. */
export const DEFAULT_DEVICES: Record<string, GeneratedDevice> = {
  vnic0: { kind: "vnic", function: "vf", backing: { service: "dfw" } },
  nvme0: { kind: "nvme", function: "pf", backing: { service: "vsan" } },
};

const WITNESS: GeneratedService = { type: "vsan-witness", version: "8.0.3", cores: 1, memoryGiB: 2 };
const DPU_OS = { image: "esxi-arm", version: "8.0.3" };
const HOST_OS = { image: "esxi-x86", version: "8.0.3" };

/** Name of the h-th host (0-based): `esx-0001` onwards. */
export function hostName(h: number): string {
  return `esx-${String(h + 1).padStart(4, "0")}`;
}

/** Hosts needed for `dpus` DPUs at `nicsPerHost` each. */
function hostCount(dpus: number, nicsPerHost: number): number {
  return Math.ceil(dpus / nicsPerHost);
}

function checkCounts(dpus: number, nicsPerHost: number): void {
  if (!Number.isInteger(dpus) || dpus < 1) throw new Error(`a generated fleet needs a positive whole number of DPUs, got ${dpus}`);
  if (!Number.isInteger(nicsPerHost) || nicsPerHost < 1) throw new Error(`DPUs per host must be a positive integer, got ${nicsPerHost}`);
}

/** The vendor of the `index`-th DPU. */
function vendorOf(vendors: GeneratedVendor[], index: number): GeneratedVendor {
  return vendors[index % vendors.length];
}

/** The inventory: hosts with their DPUs, addresses from `managementAddress`, an image catalog whose checksums verify. */
export function generateInventory(opts: InventoryOptions): FleetInventory {
  const nicsPerHost = opts.nicsPerHost ?? 2;
  checkCounts(opts.dpus, nicsPerHost);
  const vendors = opts.vendors ?? ["nvidia", "amd"];
  if (vendors.length === 0) throw new Error("a generated fleet needs at least one DPU vendor");
  const fpgaEvery = opts.fpgaEvery ?? 10;
  const sha256 = opts.sha256 ?? servedSha256;
  const image = (name: string, version: string, file: string): FleetImage => {
    const uri = `http://images.${opts.name}/${file}`;
    return { name, version, uri, sha256: sha256(uri) };
  };
  const hosts: FleetHost[] = [];
  let dpu = 0;
  for (let h = 0; dpu < opts.dpus; h++) {
    const kind = HOST_KINDS[h % HOST_KINDS.length];
    const smartnics: FleetSmartNic[] = [];
    for (let n = 0; n < nicsPerHost && dpu < opts.dpus; n++, dpu++) {
      const vendor = vendorOf(vendors, dpu);
      const dpuKind = DPU_KINDS[vendor];
      smartnics.push({
        name: `nic${n + 1}`,
        serial: dpuKind.serial(dpu + 1),
        slot: n + 1,
        vendor,
        model: dpuKind.model,
        armCores: 16,
        memoryGiB: 32,
        management: { address: managementAddress(dpu, opts.addressBlock ?? 1, opts.addressBlocks ?? 1), port: 8443 },
        factoryCredentials: { ...dpuKind.factoryCredentials },
      });
    }
    hosts.push({
      name: hostName(h),
      serial: `SRV-${String(h + 1).padStart(6, "0")}`,
      vendor: kind.vendor,
      model: kind.model,
      cpus: 64,
      memoryGiB: 512,
      accelerators: fpgaEvery > 0 && h % fpgaEvery === 0 ? [{ name: "fpga0", model: "alveo-u55c", slot: 10 }] : [],
      ...(opts.workloads ? { workloads: { ...opts.workloads } } : {}),
      smartnics,
    });
  }
  return {
    apiVersion: "smartfleet.dev/v1",
    kind: "Fleet",
    metadata: { name: opts.name },
    images: [
      image("esxi-arm", "8.0.3", "esxi-arm-8.0.3.bfb"),
      image("esxi-arm", "8.0.2", "esxi-arm-8.0.2.bfb"),
      image("esxi-x86", "8.0.3", "esxi-x86-8.0.3.iso"),
      image("bf-nic-fw", "32.43.1014", "fw-BlueField-3-32.43.1014.bin"),
    ],
    hosts,
  };
}

/**
 * The stack over every DPU of the inventory `generateInventory(opts)` makes: each DPU in
 * DPU mode with its host privilege, ESXi on it (hostname `<host>-<nic>`, a cluster per
 * `clusterHosts` hosts), its services and devices; optionally ESXi on the hosts, witness
 * pairs and the security-edge component.
 */
export function generateStack(opts: FleetGeneratorOptions): GeneratedStack {
  const nicsPerHost = opts.nicsPerHost ?? 2;
  checkCounts(opts.dpus, nicsPerHost);
  const vendors = opts.vendors ?? ["nvidia", "amd"];
  const mixed = new Set(vendors).size > 1;
  const clusterHosts = opts.clusterHosts ?? 16;
  const services = opts.services ?? DEFAULT_SERVICES;
  const devices = opts.devices ?? DEFAULT_DEVICES;
  const edgeHosts = opts.edgeHosts ?? 0;
  const pairEvery = opts.pairEvery ?? 4;
  const hosts: GeneratedStack["hosts"] = {};
  const count = hostCount(opts.dpus, nicsPerHost);
  let dpu = 0;
  for (let h = 0; h < count; h++) {
    const host = hostName(h);
    const smartnics: Record<string, GeneratedSmartnicSpec> = {};
    for (let n = 1; n <= nicsPerHost && dpu < opts.dpus; n++, dpu++) {
      const cluster = clusterHosts > 0 ? `c${Math.floor(h / clusterHosts)}${mixed ? `-${vendorOf(vendors, dpu)}` : ""}` : undefined;
      // The edge component restricts nic1 of the edge hosts itself; saying it twice would conflict.
      const restrictedByEdge = h < edgeHosts && n === 1;
      smartnics[`nic${n}`] = {
        mode: "dpu",
        ...(restrictedByEdge ? {} : { hostPrivilege: opts.hostPrivilege ?? "restricted" }),
        os: { ...DPU_OS, hostname: `${host}-nic${n}`, ...(cluster ? { cluster } : {}) },
        services: structuredClone(services),
        devices: structuredClone(devices),
      };
    }
    hosts[host] = { ...(opts.hostOs ? { os: { ...HOST_OS, installVia: "nic1" } } : {}), smartnics };
  }
  const stack: GeneratedStack = {
    apiVersion: "smartfleet.dev/v1",
    kind: "Stack",
    metadata: { name: opts.name, ...(opts.owner ? { owner: opts.owner } : {}) },
    inventory: opts.inventory ?? "fleet.yaml",
    hosts,
  };
  const pairs: NonNullable<GeneratedStack["servicePairs"]> = {};
  if (pairEvery > 0) {
    for (let h = 0, k = 0; h + 1 < count; h += pairEvery, k++) {
      pairs[`witness-${k}`] = { service: { ...WITNESS }, primary: `${hostName(h)}/nic1`, secondary: `${hostName(h + 1)}/nic1` };
    }
  }
  for (const [a, b] of opts.pairsBetween ?? []) {
    if (![a, b].every((h) => Number.isInteger(h) && h >= 0 && h < count) || a === b) throw new Error(`a pair joins two different hosts among 0..${count - 1}, got [${a}, ${b}]`);
    const name = `witness-${a}-${b}`;
    if (pairs[name]) throw new Error(`pair ${name} is asked for twice`);
    pairs[name] = { service: { ...WITNESS }, primary: `${hostName(a)}/nic1`, secondary: `${hostName(b)}/nic1` };
  }
  if (Object.keys(pairs).length > 0) stack.servicePairs = pairs;
  if (edgeHosts > 0) {
    const edge = Array.from({ length: Math.min(edgeHosts, count) }, (_, h) => hostName(h));
    stack.components = [{ use: "security-edge@^1", with: { hosts: edge } }];
  }
  if (opts.allowHostPowerCycle !== undefined) stack.maintenance = { allowHostPowerCycle: opts.allowHostPowerCycle };
  if (opts.rollout !== undefined) stack.rollout = structuredClone(opts.rollout);
  return stack;
}

/** The inventory and the stack over it. */
export function generateFleet(opts: FleetGeneratorOptions): GeneratedFleet {
  return { inventory: generateInventory(opts), stack: generateStack(opts) };
}

/** A document as YAML, with a comment line on top. */
export function toYaml(doc: unknown, comment?: string): string {
  return `${comment ? `# ${comment}\n` : ""}${stringify(doc, { lineWidth: 0 })}`;
}

/** The files `writeFleetFiles` wrote. */
export interface FleetFiles {
  /** The inventory (`fleet.yaml`). */
  fleetFile: string;
  /** The stack (`stack.yaml`), whose `inventory` names the fleet file beside it. */
  stackFile: string;
  /** Hosts in the inventory. */
  hosts: number;
  /** DPUs in the inventory (all managed by the stack). */
  dpus: number;
  /** Service pairs in the stack. */
  pairs: number;
}

/** Writes `fleet.yaml` and `stack.yaml` of a generated fleet into `dir`. */
export function writeFleetFiles(dir: string, opts: FleetGeneratorOptions): FleetFiles {
  const { inventory, stack } = generateFleet({ ...opts, inventory: opts.inventory ?? "fleet.yaml" });
  fs.mkdirSync(dir, { recursive: true });
  const fleetFile = path.join(dir, "fleet.yaml");
  const stackFile = path.join(dir, "stack.yaml");
  fs.writeFileSync(fleetFile, toYaml(inventory, `Generated by smartfleet's fleet generator: ${opts.dpus} DPUs`));
  fs.writeFileSync(stackFile, toYaml(stack));
  return { fleetFile, stackFile, hosts: inventory.hosts.length, dpus: opts.dpus, pairs: Object.keys(stack.servicePairs ?? {}).length };
}

/** Rewrites only the stack (e.g. every DPU's host privilege flipped); returns the number of service pairs. */
export function writeStackFile(stackFile: string, opts: FleetGeneratorOptions): number {
  const stack = generateStack(opts);
  fs.writeFileSync(stackFile, toYaml(stack));
  return Object.keys(stack.servicePairs ?? {}).length;
}
