/**
 * The fleet inventory: types for `schemas/fleet.schema.json`, loading with schema
 * validation, and the semantic rules a schema cannot express (unique names, unique
 * management addresses, unique image name@version and URI, vendor/model agreement,
 * loopback-only addresses). Errors are `InputError`s whose `StackError`s name file,
 * line and column, like every other input of smartfleet.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Accelerator, Fleet, Host, Image, Smartnic, SmartnicFactoryState, SmartnicManagement } from "../schemas/generated/fleet";
import { SourceIndex, type SourceLocation } from "../schemas/source-index";
import { loadValidatedYamlWithSources, schemaPath, validateValue } from "../schemas/validate";
import { describeValue, InputError, type StackError } from "../schemas/diagnostics";

export { InputError, type StackError } from "../schemas/diagnostics";

/** An image of the catalog (the generated schema type). */
export type FleetImage = Image;

/** An accelerator card in a host (the generated schema type). */
export type FleetAccelerator = Accelerator;

/** A DPU as written: the schema defaults (port, factory state) may be left out. */
export type FleetSmartNic = Omit<Smartnic, "management" | "factoryState"> & {
  /** Management port; `port` defaults to 8443. */
  management: Omit<SmartnicManagement, "port"> & { port?: number };
  /** Mode and host privilege as shipped; default dpu / privileged. */
  factoryState?: Partial<SmartnicFactoryState>;
};

/** A host as written: `accelerators` defaults to none. */
export type FleetHost = Omit<Host, "accelerators" | "smartnics"> & {
  /** Accelerators (FPGAs). */
  accelerators?: Accelerator[];
  /** DPUs. */
  smartnics: FleetSmartNic[];
};

/** A fleet inventory as written (in YAML or in code); `images` defaults to none. */
export type FleetInventory = Omit<Fleet, "images" | "hosts"> & {
  /** Image catalog. */
  images?: Image[];
  /** Hosts. */
  hosts: FleetHost[];
};

/** A validated inventory: every default filled in (the generated schema type). */
export type ValidFleet = Fleet;

/** Locates a JSON pointer in the source; `[0, 0]`-free fallbacks come from the SourceIndex. */
type Locator = (jsonPath: string) => SourceLocation;

const MODEL_VENDOR: Record<Smartnic["model"], Smartnic["vendor"]> = {
  "bluefield-2": "nvidia",
  "bluefield-3": "nvidia",
  "pensando-dsc2": "amd",
  "ipu-e2000": "intel",
};

/** The semantic rules: everything the schema cannot say. */
export function semanticProblems(fleet: ValidFleet, locate: Locator): StackError[] {
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
function withDefaults(fleet: FleetInventory): ValidFleet {
  const copy = structuredClone(fleet);
  return {
    ...copy,
    images: copy.images ?? [],
    hosts: copy.hosts.map((host) => ({
      ...host,
      accelerators: host.accelerators ?? [],
      smartnics: host.smartnics.map((nic) => ({
        ...nic,
        management: { ...nic.management, port: nic.management.port ?? 8443 },
        factoryState: { mode: "dpu", hostPrivilege: "privileged", ...nic.factoryState },
      })),
    })),
  };
}

function check(fleet: FleetInventory, file: string, sources: SourceIndex): ValidFleet {
  const withAll = withDefaults(fleet);
  const problems = semanticProblems(withAll, (p) => sources.locate(p));
  if (problems.length) throw new InputError(problems, { summary: `${file}: ${problems.length} error${problems.length === 1 ? "" : "s"}` });
  return withAll;
}

/**
 * Validates an inventory built in code against the schema and the semantic rules;
 * returns a copy with defaults filled in. Throws `InputError` listing every problem.
 */
export function validateInventory(value: unknown, file = "<inventory>"): ValidFleet {
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
export function loadInventory(file: string): ValidFleet {
  const { value, sources } = loadValidatedYamlWithSources<FleetInventory>(file, schemaPath("fleet"));
  return check(value, file, sources);
}

/** A DPU with the host it sits in, as the emulator needs it. */
export interface PlacedDpu {
  /** The host. */
  host: Host;
  /** The DPU. */
  nic: Smartnic;
}

/** Every DPU of the fleet with its host, in inventory order. */
export function placedDpus(fleet: ValidFleet): PlacedDpu[] {
  return fleet.hosts.flatMap((host) => host.smartnics.map((nic) => ({ host, nic })));
}
