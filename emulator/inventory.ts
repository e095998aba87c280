/**
 * The fleet inventory: types for `schemas/fleet.schema.json`, loading with schema
 * validation, and the semantic rules a schema cannot express (unique names, unique
 * management addresses, vendor/model agreement, loopback-only addresses).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { isMap, isSeq, LineCounter, parseDocument, type Document } from "yaml";

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

/** One problem in an inventory, located in its file. */
export interface InventoryProblem {
  /** File the problem is in (`<memory>` for an inventory built in code). */
  file: string;
  /** 1-based line (0 when unknown). */
  line: number;
  /** 1-based column (0 when unknown). */
  column: number;
  /** JSON path of the offending value, e.g. `/hosts/0/smartnics/1/serial`. */
  path: string;
  /** What is wrong and what is allowed. */
  message: string;
}

/** Thrown when an inventory is invalid; lists every problem at once. */
export class InventoryError extends Error {
  /** Every problem found. */
  readonly errors: InventoryProblem[];

  constructor(errors: InventoryProblem[], options?: { cause?: unknown }) {
    super(
      `invalid fleet inventory:\n` +
        errors.map((e) => `  ${e.file}:${e.line}:${e.column} ${e.path || "/"}: ${e.message}`).join("\n"),
      options,
    );
    this.name = "InventoryError";
    this.errors = errors;
  }
}

/** Locates a JSON path in the source file; returns [0, 0] when unknown. */
type Locator = (jsonPath: string) => [number, number];

const MODEL_VENDOR: Record<FleetSmartNic["model"], FleetSmartNic["vendor"]> = {
  "bluefield-2": "nvidia",
  "bluefield-3": "nvidia",
  "pensando-dsc2": "amd",
  "ipu-e2000": "intel",
};

let compiledValidator: ReturnType<Ajv2020["compile"]> | undefined;

function schemaValidator(): ReturnType<Ajv2020["compile"]> {
  if (!compiledValidator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true, useDefaults: true });
    addFormats(ajv);
    const schema = JSON.parse(fs.readFileSync(path.join(repoRoot(), "schemas", "fleet.schema.json"), "utf8"));
    compiledValidator = ajv.compile(schema);
  }
  return compiledValidator;
}

/** The repository root (the folder holding package.json above this module). */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root above ${__dirname}`);
    dir = parent;
  }
  // Compiled output lives in dist/, which has no package.json of its own.
  return dir;
}

function locatorFor(doc: Document | undefined, lines: LineCounter | undefined): Locator {
  return (jsonPath) => {
    if (!doc || !lines) return [0, 0];
    const keys = jsonPath.split("/").slice(1).map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    let node: unknown = doc.contents;
    let offset = 0;
    for (const key of keys) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
        if (!pair) break;
        node = pair.value;
        offset = (pair.key as { range?: [number, number] }).range?.[0] ?? offset;
        if ((node as { range?: [number, number] } | null)?.range) offset = (node as { range: [number, number] }).range[0];
      } else if (isSeq(node)) {
        node = node.items[Number(key)];
        if ((node as { range?: [number, number] } | null)?.range) offset = (node as { range: [number, number] }).range[0];
      } else break;
    }
    const pos = lines.linePos(offset);
    return [pos.line, pos.col];
  };
}

function schemaProblems(value: unknown, file: string, locate: Locator): InventoryProblem[] {
  const validate = schemaValidator();
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => {
    const [line, column] = locate(e.instancePath);
    const allowed =
      e.keyword === "enum"
        ? `; allowed: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`
        : e.keyword === "additionalProperties"
          ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
          : "";
    return { file, line, column, path: e.instancePath, message: `${e.message ?? "is invalid"}${allowed}` };
  });
}

/** The semantic rules: everything the schema cannot say. */
export function semanticProblems(fleet: FleetInventory, file: string, locate: Locator = () => [0, 0]): InventoryProblem[] {
  const problems: InventoryProblem[] = [];
  const add = (p: string, message: string): void => {
    const [line, column] = locate(p);
    problems.push({ file, line, column, path: p, message });
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

/**
 * Validates an inventory (an object built in code, or the YAML text of `file`) against
 * the schema and the semantic rules; returns it with defaults filled in.
 * Throws `InventoryError` listing every problem.
 */
export function validateInventory(value: unknown, file = "<memory>", source?: { doc: Document; lines: LineCounter }): FleetInventory {
  const locate = locatorFor(source?.doc, source?.lines);
  const problems = schemaProblems(value, file, locate);
  if (problems.length) throw new InventoryError(problems);
  const fleet = withDefaults(value as FleetInventory);
  const semantic = semanticProblems(fleet, file, locate);
  if (semantic.length) throw new InventoryError(semantic);
  return fleet;
}

/** Reads, parses and validates an inventory YAML file. */
export function loadInventory(file: string): FleetInventory {
  const abs = path.resolve(file);
  let text: string;
  try {
    text = fs.readFileSync(abs, "utf8");
  } catch (cause) {
    throw new InventoryError([{ file: abs, line: 0, column: 0, path: "", message: `cannot read the inventory: ${(cause as Error).message}` }], { cause });
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length) {
    throw new InventoryError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return { file: abs, line: pos.line, column: pos.col, path: "", message: `YAML: ${e.message}` };
      }),
    );
  }
  return validateInventory(doc.toJS(), abs, { doc, lines });
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
