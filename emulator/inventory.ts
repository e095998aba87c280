/**
 * The fleet inventory: types for `schemas/fleet.schema.json`, loading with schema
 * validation, and the semantic rules a schema cannot express (unique names, unique
 * management addresses, unique image name@version and URI, vendor/model agreement,
 * loopback-only addresses). Errors are `InputError`s whose `StackError`s name file,
 * line and column, like every other input of smartfleet.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SourceIndex, type SourceLocation } from "../schemas/source-index";
import { loadValidatedYamlWithSources, schemaPath, validateValue } from "../schemas/validate";
import { describeValue, InputError, type StackError } from "../stacks/errors";

export { InputError, type StackError } from "../stacks/errors";

/** An image the image server offers. */
export interface FleetImage {
  /** Image name, e.g. esxi-arm. */
  name: string;
  /** Image version. */
  version: string;
  /** Where the management port pulls it from. */
  uri: string;
  /** Expected SHA-256 of its bytes. */
  sha256: string;
}

/** An accelerator card in a host. */
export interface FleetAccelerator {
  /** Name, unique within the host. */
  name: string;
  /** Model, e.g. alveo-u55c. */
  model: string;
  /** PCIe slot. */
  slot: number;
}

/** A DPU in a host slot. */
export interface FleetSmartNic {
  /** Name, unique within the host. */
  name: string;
  /** Serial, unique in the fleet. */
  serial: string;
  /** PCIe slot. */
  slot: number;
  /** Vendor. */
  vendor: "nvidia" | "amd" | "intel";
  /** Model. */
  model: "bluefield-2" | "bluefield-3" | "pensando-dsc2" | "ipu-e2000";
  /** Arm cores. */
  armCores: number;
  /** Memory in GiB. */
  memoryGiB: number;
  /** Management port location. */
  management: { address: string; port?: number };
  /** Factory account. */
  factoryCredentials: { username: string; password: string };
  /** Mode and host privilege as shipped. */
  factoryState?: { mode?: "dpu" | "nic"; hostPrivilege?: "privileged" | "restricted" };
}

/** A physical server. */
export interface FleetHost {
  /** Name, unique in the fleet. */
  name: string;
  /** Serial number. */
  serial: string;
  /** Vendor. */
  vendor: "dell" | "hpe" | "lenovo" | "other";
  /** Model. */
  model: string;
  /** CPU cores. */
  cpus: number;
  /** Memory in GiB. */
  memoryGiB: number;
  /** Accelerators (FPGAs). */
  accelerators?: FleetAccelerator[];
  /** DPUs. */
  smartnics: FleetSmartNic[];
}

/** A whole fleet inventory (the document `schemas/fleet.schema.json` describes). */
export interface FleetInventory {
  /** Format version. */
  apiVersion: "smartfleet.dev/v1";
  /** Always Fleet. */
  kind: "Fleet";
  /** Fleet identity. */
  metadata: { name: string };
  /** Image catalog. */
  images?: FleetImage[];
  /** Hosts. */
  hosts: FleetHost[];
}

/** Locates a JSON pointer in the source; `[0, 0]`-free fallbacks come from the SourceIndex. */
type Locator = (jsonPath: string) => SourceLocation;

const MODEL_VENDOR: Record<FleetSmartNic["model"], FleetSmartNic["vendor"]> = {
  "bluefield-2": "nvidia",
  "bluefield-3": "nvidia",
  "pensando-dsc2": "amd",
  "ipu-e2000": "intel",
};

/** The repository root (the folder holding package.json above this module). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root above ${__dirname}`);
    dir = parent;
  }
  return dir;
}

/** The semantic rules: everything the schema cannot say. */
export function semanticProblems(fleet: FleetInventory, locate: Locator): StackError[] {
  const problems: StackError[] = [];
  const add = (p: string, message: string, got?: unknown): void => {
    problems.push({ ...locate(p), path: p, message, got: got === undefined ? undefined : describeValue(got) });
  };
  const seen = <T>(map: Map<T, string>, key: T, p: string, what: string): void => {
    const first = map.get(key);
    if (first !== undefined) add(p, `duplicate ${what} '${String(key)}' (first used at ${first})`);
    else map.set(key, p);
  };
  const hostNames = new Map<string, string>();
  const serials = new Map<string, string>();
  const ports = new Map<string, string>();
  const images = new Map<string, string>();
  const uris = new Map<string, string>();
  (fleet.images ?? []).forEach((img, i) => {
    seen(images, `${img.name}@${img.version}`, `/images/${i}`, "image name@version");
    seen(uris, img.uri, `/images/${i}/uri`, "image URI");
  });
  fleet.hosts.forEach((host, h) => {
    seen(hostNames, host.name, `/hosts/${h}/name`, "host name");
    seen(serials, host.serial, `/hosts/${h}/serial`, "serial");
    const nicNames = new Map<string, string>();
    const slots = new Map<number, string>();
    (host.accelerators ?? []).forEach((acc, a) => {
      seen(nicNames, acc.name, `/hosts/${h}/accelerators/${a}/name`, "device name in host");
      seen(slots, acc.slot, `/hosts/${h}/accelerators/${a}/slot`, "slot in host");
    });
    host.smartnics.forEach((nic, n) => {
      const p = `/hosts/${h}/smartnics/${n}`;
      seen(nicNames, nic.name, `${p}/name`, "device name in host");
      seen(slots, nic.slot, `${p}/slot`, "slot in host");
      seen(serials, nic.serial, `${p}/serial`, "serial");
      if (MODEL_VENDOR[nic.model] && MODEL_VENDOR[nic.model] !== nic.vendor) {
        add(`${p}/model`, `model '${nic.model}' is made by ${MODEL_VENDOR[nic.model]}, not ${nic.vendor}`);
      }
      const address = nic.management.address;
      if (!/^127\.\d+\.\d+\.\d+$/.test(address)) {
        add(`${p}/management/address`, `address '${address}' is not a loopback address (127.0.0.0/8)`);
      }
      seen(ports, `${address}:${nic.management.port ?? 8443}`, `${p}/management`, "management address:port");
    });
  });
  return problems;
}

/** Fills the schema defaults into a copy of an inventory built in code. */
function withDefaults(fleet: FleetInventory): FleetInventory {
  const copy = structuredClone(fleet);
  copy.images ??= [];
  for (const host of copy.hosts) {
    host.accelerators ??= [];
    for (const nic of host.smartnics) {
      nic.management.port ??= 8443;
      nic.factoryState = { mode: "dpu", hostPrivilege: "privileged", ...nic.factoryState };
    }
  }
  return copy;
}

function check(fleet: FleetInventory, file: string, sources: SourceIndex): FleetInventory {
  const withAll = withDefaults(fleet);
  const problems = semanticProblems(withAll, (p) => sources.locate(p));
  if (problems.length) throw new InputError(problems, { summary: `${file}: ${problems.length} error${problems.length === 1 ? "" : "s"}` });
  return withAll;
}

/**
 * Validates an inventory built in code against the schema and the semantic rules;
 * returns a copy with defaults filled in. Throws `InputError` listing every problem.
 */
export function validateInventory(value: unknown, file = "<inventory>"): FleetInventory {
  const sources = new SourceIndex({ file, line: 1, column: 1 });
  const copy = structuredClone(value);
  const errors = validateValue(copy, schemaPath("fleet"), sources);
  if (errors.length) throw new InputError(errors, { summary: `${file}: ${errors.length} error${errors.length === 1 ? "" : "s"}` });
  return check(copy as FleetInventory, file, sources);
}

/**
 * Reads, parses and validates an inventory YAML file; errors name file:line:column.
 * Throws `InputError` listing every problem.
 */
export function loadInventory(file: string): FleetInventory {
  const { value, sources } = loadValidatedYamlWithSources<FleetInventory>(file, schemaPath("fleet"));
  return check(value, file, sources);
}

/** A DPU with the host it sits in, as the emulator needs it. */
export interface PlacedDpu {
  /** The host. */
  host: FleetHost;
  /** The DPU. */
  nic: FleetSmartNic;
}

/** Every DPU of the fleet with its host, in inventory order. */
export function placedDpus(fleet: FleetInventory): PlacedDpu[] {
  return fleet.hosts.flatMap((host) => host.smartnics.map((nic) => ({ host, nic })));
}
