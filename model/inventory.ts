/**
 * The fleet inventory: types for `schemas/fleet.schema.json`, loading with schema
 * validation, and the semantic rules a schema cannot express (unique names, unique
 * management addresses, unique image name@version and URI, vendor/model agreement),
 * which the stack loader and `smartfleet check` apply too, and the emulator's own
 * loopback-only rule (`{ loopbackOnly: true }`). Errors are `InputError`s whose `StackError`s name file,
 * line and column, like every other input of smartfleet.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Accelerator, Fleet, Host, Image, Smartnic, SmartnicFactoryState, SmartnicManagement } from "../schemas/generated/fleet";
import { SourceIndex, type SourceLocation } from "../schemas/source-index";
import { guardUnexpected, schemaPath, validateValue } from "../schemas/validate";
import { loadValidatedYamlWithSources } from "../schemas/validated-yaml";
import { parseYamlFile, type ParsedYaml, type YamlLimits } from "../schemas/yaml-source";
import { anchorPasswordFile } from "./credentials";
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
export type FleetHost = Omit<Host, "accelerators" | "smartnics" | "labels" | "workloads"> & {
  /** Accelerators (FPGAs). */
  accelerators?: Accelerator[];
  /** Labels (rack, site, ...); none by default. */
  labels?: Host["labels"];
  /** Workloads on the host; none by default. */
  workloads?: Partial<Host["workloads"]>;
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

/** Which rules apply beyond the fleet rules every inventory obeys. */
export interface InventoryRuleOptions {
  /**
   * Require every management address to be a loopback address (127.0.0.0/8). The emulator
   * binds only loopback addresses, so it needs this; a real fleet's BMCs have real
   * addresses, so `smartfleet check` and the stack loader do not apply it. Default false.
   */
  loopbackOnly?: boolean;
}

/**
 * The fleet rules, everything the schema cannot say, true of any fleet (real or emulated):
 * unique host names, unique serials across hosts and DPUs, unique device names and slots
 * within a host, unique management address:port, unique image name@version and image URI,
 * and each DPU model made by the vendor named.
 */
export function fleetProblems(fleet: ValidFleet, locate: Locator): StackError[] {
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
      seen(ports, `${nic.management.address}:${nic.management.port ?? 8443}`, `${p}/management`, "management address:port");
      const { password, passwordFrom } = nic.factoryCredentials;
      if (password === undefined && passwordFrom === undefined) {
        add(`${p}/factoryCredentials`, "no factory password: add passwordFrom (env:NAME or file:PATH, read when needed) or password");
      } else if (password !== undefined && passwordFrom !== undefined) {
        add(`${p}/factoryCredentials`, "both password and passwordFrom: keep one (passwordFrom keeps the secret out of the inventory)");
      }
    });
  });
  return problems;
}

/** The emulator's rule: every management address is a loopback address (127.0.0.0/8). */
export function loopbackProblems(fleet: ValidFleet, locate: Locator): StackError[] {
  const problems: StackError[] = [];
  fleet.hosts.forEach((host, h) => {
    host.smartnics.forEach((nic, n) => {
      const address = nic.management.address;
      if (/^127\.\d+\.\d+\.\d+$/.test(address)) return;
      const p = `/hosts/${h}/smartnics/${n}/management/address`;
      problems.push({
        ...locate(p),
        path: p,
        message: `address '${address}' is not a loopback address (127.0.0.0/8); the emulator binds only loopback addresses`,
      });
    });
  });
  return problems;
}

/** The fleet rules, plus the loopback rule when `options.loopbackOnly` is set. */
export function semanticProblems(fleet: ValidFleet, locate: Locator, options: InventoryRuleOptions = {}): StackError[] {
  return [...fleetProblems(fleet, locate), ...(options.loopbackOnly ? loopbackProblems(fleet, locate) : [])];
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
      labels: host.labels ?? {},
      workloads: { count: 0, evacuationSeconds: 30, ...host.workloads },
      smartnics: host.smartnics.map((nic) => ({
        ...nic,
        management: { ...nic.management, port: nic.management.port ?? 8443 },
        factoryState: { mode: "dpu", hostPrivilege: "privileged", ...nic.factoryState },
      })),
    })),
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function check(fleet: FleetInventory, file: string, sources: SourceIndex, options: InventoryRuleOptions): ValidFleet {
  const withAll = withDefaults(fleet);
  const problems = semanticProblems(withAll, (p) => sources.locate(p), options);
  if (problems.length) throw new InputError(problems, { summary: `${file}: ${plural(problems.length, "error")}` });
  anchorPasswordFiles(withAll, file);
  return withAll;
}

/**
 * Validates a parsed inventory document (schema, with defaults filled in in place, then the
 * fleet rules and, if asked, the loopback rule); errors are positioned through
 * `parsed.sources`. Returns the document. Throws `InputError` listing every problem.
 */
export function validateParsedInventory(parsed: ParsedYaml, options: InventoryRuleOptions = {}): ValidFleet {
  const { file, value, sources } = parsed;
  refuseOtherKind(value, file, sources);
  const errors = guardUnexpected(file, () => validateValue(value, schemaPath("fleet"), sources));
  if (errors.length) throw new InputError(errors, { summary: `${file}: ${plural(errors.length, "error")}` });
  const fleet = value as ValidFleet;
  const problems = semanticProblems(fleet, (p) => sources.locate(p), options);
  if (problems.length) throw new InputError(problems, { summary: `${file}: ${plural(problems.length, "error")}` });
  anchorPasswordFiles(fleet, file);
  return fleet;
}

/** What a document of another kind is, said when it is given where an inventory is expected. */
const NOT_AN_INVENTORY: Record<string, string> = {
  Stack: "this is a Stack, not a Fleet inventory: give the inventory file the stack names in `inventory:`",
  Component: "this is a Component, not a Fleet inventory: a stack uses it under `components:`",
};

/** Refuses a Stack or Component given as an inventory, naming what it is instead of listing the schema's complaints. */
function refuseOtherKind(value: unknown, file: string, sources: SourceIndex): void {
  const kind = value && typeof value === "object" ? (value as { kind?: unknown }).kind : undefined;
  if (typeof kind !== "string" || !NOT_AN_INVENTORY[kind]) return;
  throw new InputError([{ ...sources.locate("/kind"), path: "/kind", message: NOT_AN_INVENTORY[kind], got: describeValue(kind) }], { summary: `${file}: not a Fleet inventory` });
}

/** Relative `passwordFrom: file:` references mean files beside the inventory, whoever reads them later. */
function anchorPasswordFiles(fleet: FleetInventory, file: string): void {
  if (file.startsWith("<")) return; // built in code: relative to the working directory, as given
  for (const host of fleet.hosts) for (const nic of host.smartnics) anchorPasswordFile(nic.factoryCredentials, file);
}

/** Options of `validateInventory`: the name used in errors and the rules to apply. */
export interface ValidateInventoryOptions extends InventoryRuleOptions {
  /** The name errors carry as their file (default `<inventory>`). */
  file?: string;
}

/**
 * Validates an inventory built in code against the schema and the fleet rules (and the
 * loopback rule with `{ loopbackOnly: true }`); returns a copy with defaults filled in.
 * The second argument is the name errors carry, or options. Throws `InputError` listing
 * every problem.
 */
export function validateInventory(value: unknown, fileOrOptions: string | ValidateInventoryOptions = {}): ValidFleet {
  const options = typeof fileOrOptions === "string" ? { file: fileOrOptions } : fileOrOptions;
  const file = options.file ?? "<inventory>";
  const sources = new SourceIndex({ file, line: 1, column: 1 });
  const copy = structuredClone(value);
  const errors = validateValue(copy, schemaPath("fleet"), sources);
  if (errors.length) throw new InputError(errors, { summary: `${file}: ${plural(errors.length, "error")}` });
  return check(copy as FleetInventory, file, sources, options);
}

/** Options of `loadInventory`: YAML limits and the rules to apply. */
export interface LoadInventoryOptions extends YamlLimits, InventoryRuleOptions {}

/**
 * Reads, parses and validates an inventory YAML file: the schema, the fleet rules and,
 * with `{ loopbackOnly: true }` (the emulator), the loopback rule. Errors name
 * file:line:column. Throws `InputError` listing every problem.
 */
export function loadInventory(file: string, options: LoadInventoryOptions = {}): ValidFleet {
  const parsed = guardUnexpected(file, () => parseYamlFile(file, options));
  refuseOtherKind(parsed.value, file, parsed.sources);
  const { value, sources } = loadValidatedYamlWithSources<FleetInventory>(file, schemaPath("fleet"), options);
  return check(value, file, sources, options);
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
