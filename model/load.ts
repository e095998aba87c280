/**
 * The expanded stack model: a stack after component expansion and validation, with every
 * host, DPU, accelerator and image it names resolved to its inventory entry. Plain data
 * (no classes, no cycles), typed from `schemas/generated/`, with the source position of
 * every value so policy findings can point at the line that causes them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Accelerator, Fleet, Host as InventoryHost, Image, Smartnic as InventorySmartnic } from "../schemas/generated/fleet";
import type { Service } from "../schemas/generated/common";
import type {
  AcceleratorShareSpec,
  ComponentUse,
  DeviceSpec,
  DpuOsSpec,
  HostSpec,
  RuleWaiver,
  ServicePairSpec,
  SmartnicSpec,
  Stack,
  StackMaintenance,
  StackPolicy,
  StackRollout,
} from "../schemas/generated/stack";
import { childPointer, parentPointer, pointer, type SourceIndex, type SourceLocation } from "../schemas/source-index";
import { guardUnexpected, schemaPath, validateValue } from "../schemas/validate";
import { parseYamlFile, parseYamlText, type ParsedYaml, type YamlLimits } from "../schemas/yaml-source";
import { stringify } from "yaml";
import { defaultSearch, type ComponentSearch } from "./component-registry";
import { validateParsedInventory, type FleetInventory } from "./inventory";
import { describeValue, InputError, type StackError } from "../schemas/diagnostics";
import { expandComponents, type ExpandedComponent } from "./expand";

/** A service on one DPU. */
export interface ServiceModel {
  /** Service name within the DPU. */
  name: string;
  /** JSON pointer in the expanded stack. */
  pointer: string;
  /** The service as declared. */
  spec: Service;
}

/** A virtual PCIe function on one DPU. */
export interface DeviceModel {
  /** Device name within the DPU. */
  name: string;
  /** JSON pointer in the expanded stack. */
  pointer: string;
  /** The device as declared. */
  spec: DeviceSpec;
}

/** A DPU the stack manages, joined with its inventory entry. */
export interface SmartNicModel {
  /** `host/smartnic`, unique in the stack. */
  id: string;
  /** Host name. */
  host: string;
  /** DPU name within the host. */
  name: string;
  /** JSON pointer in the expanded stack. */
  pointer: string;
  /** The DPU as declared (defaults applied). */
  spec: SmartnicSpec;
  /** The DPU in the inventory: vendor, model, cores, memory, management address. */
  hardware: InventorySmartnic;
  /** Vendor of the host the DPU sits in. */
  hostVendor: InventoryHost["vendor"];
  /** The DPU OS image from the inventory, when an OS is declared. */
  osImage?: Image;
  /** Services declared on this DPU (service pairs are separate). */
  services: ServiceModel[];
  /** Host devices declared on this DPU. */
  devices: DeviceModel[];
}

/** A host the stack manages, joined with its inventory entry. */
export interface HostModel {
  /** Host name. */
  name: string;
  /** JSON pointer in the expanded stack. */
  pointer: string;
  /** The host as declared. */
  spec: HostSpec;
  /** The host in the inventory (its DPUs are in `smartnics` of the stack model). */
  hardware: Omit<InventoryHost, "smartnics">;
  /** The host OS image from the inventory, when a host OS is declared. */
  osImage?: Image;
  /** Ids of the host's DPUs this stack manages. */
  smartnics: string[];
}

/** A service pair with both sides resolved. */
export interface ServicePairModel {
  /** Pair name. */
  name: string;
  /** JSON pointer in the expanded stack. */
  pointer: string;
  /** The pair as declared. */
  spec: ServicePairSpec;
  /** Id of the primary DPU. */
  primary: string;
  /** Id of the secondary DPU. */
  secondary: string;
}

/** An accelerator share with both ends resolved. */
export interface AcceleratorShareModel {
  /** Share name. */
  name: string;
  /** JSON pointer in the expanded stack. */
  pointer: string;
  /** The share as declared. */
  spec: AcceleratorShareSpec;
  /** Host holding the accelerator. */
  sourceHost: string;
  /** The accelerator in the inventory. */
  accelerator: Accelerator;
  /** Id of the source host's DPU that exports the accelerator (its lowest-slot managed DPU). */
  exporter: string;
  /** Id of the consuming DPU. */
  consumer: string;
}

/** A stack loaded, expanded, validated and joined with its inventory. */
export interface LoadedStack {
  /** The stack file as given, or the virtual name of a stack given in code (`<typescript stack NAME>`). */
  file: string;
  /** The inventory file (resolved relative to the stack file), or the virtual name of an inventory given in code. */
  inventoryFile: string;
  /** The expanded stack document with defaults applied. */
  stack: Stack;
  /** The inventory document with defaults applied. */
  inventory: Fleet;
  /** Managed hosts, in declaration order. */
  hosts: HostModel[];
  /** Managed DPUs, in declaration order. */
  smartnics: SmartNicModel[];
  /** Service pairs. */
  servicePairs: ServicePairModel[];
  /** Accelerator shares. */
  acceleratorShares: AcceleratorShareModel[];
  /** Components that were expanded. */
  components: ExpandedComponent[];
  /** Rules this stack switches off, with reasons. */
  waivers: RuleWaiver[];
  /** Source positions by JSON pointer (values), for findings; see `locate`. */
  sources: Record<string, SourceLocation>;
}

/** Options for loading a stack. */
export interface LoadOptions extends YamlLimits {
  /** Where components are looked up (default: the project's, then npm packages). */
  search?: ComponentSearch;
  /**
   * Folders an inventory may be read from besides the stack's own repository (default: the
   * folders in `SMARTFLEET_INVENTORY_PATH`, separated by the platform's path delimiter).
   */
  inventoryRoots?: string[];
}

/** Where the value at `path` (or its nearest recorded ancestor) is in the source. */
export function locate(stack: Pick<LoadedStack, "sources" | "file">, path: string): SourceLocation {
  for (let current = path; ; current = parentPointer(current)) {
    const found = stack.sources[current];
    if (found) return found;
    if (current === "") return { file: stack.file, line: 1, column: 1 };
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Validates and expands a parsed stack document; returns it with its positions. */
function expandDocument(parsed: ParsedYaml, search: ComponentSearch | undefined): { stack: Stack; sources: SourceIndex; components: ExpandedComponent[] } {
  const file = parsed.file;
  const raw = parsed.value;
  // Validate a copy first: defaults must not be filled in before components merge, or a
  // component setting e.g. hostPrivilege would clash with a default nobody wrote.
  const shapeErrors = validateValue(structuredClone(raw), schemaPath("stack"), parsed.sources);
  if (shapeErrors.length > 0) throw new InputError(shapeErrors, { summary: `${file}: ${plural(shapeErrors.length, "error")}` });
  const document = raw as Record<string, unknown>;
  const components = expandComponents(document, file, parsed.sources, search);
  const mergedErrors = validateValue(document, schemaPath("stack"), parsed.sources);
  if (mergedErrors.length > 0) {
    throw new InputError(mergedErrors, { summary: `${file}: ${plural(mergedErrors.length, "error")} after expanding components` });
  }
  return { stack: document as unknown as Stack, sources: parsed.sources, components };
}

/** Collects reference errors while joining the stack with its inventory. */
class Joiner {
  readonly errors: StackError[] = [];
  private readonly hostsByName: Map<string, InventoryHost>;
  readonly smartnics = new Map<string, SmartNicModel>();

  constructor(
    private readonly stack: Stack,
    private readonly inventory: Fleet,
    private readonly inventoryFile: string,
    private readonly sources: SourceIndex,
  ) {
    this.hostsByName = new Map(inventory.hosts.map((h) => [h.name, h]));
  }

  private fail(path: string, message: string, got?: unknown, allowed?: string[], atKey = false): void {
    const at = atKey ? this.sources.locateKey(path) : this.sources.locate(path);
    this.errors.push({ ...at, path, message, got: got === undefined ? undefined : describeValue(got), allowed: allowed?.slice(0, 20) });
  }

  private image(path: string, name: string, version: string): Image | undefined {
    const found = this.inventory.images.find((i) => i.name === name && i.version === version);
    if (!found) {
      const offered = this.inventory.images.map((i) => `${i.name} ${i.version}`);
      this.fail(path, `image is not offered by the inventory ${this.inventoryFile}`, `${name} ${version}`, offered);
    }
    return found;
  }

  hosts(): HostModel[] {
    const models: HostModel[] = [];
    for (const [name, spec] of Object.entries(this.stack.hosts)) {
      const hostPath = pointer("hosts", name);
      const hardware = this.hostsByName.get(name);
      if (!hardware) {
        this.fail(hostPath, `host is not in the inventory ${this.inventoryFile}`, name, [...this.hostsByName.keys()], true);
        continue;
      }
      const { smartnics: inventoryNics, ...hostHardware } = hardware;
      const nicIds: string[] = [];
      for (const [nicName, nicSpec] of Object.entries(spec.smartnics)) {
        const nicPath = childPointer(hostPath, "smartnics", nicName);
        const nicHardware = inventoryNics.find((n) => n.name === nicName);
        if (!nicHardware) {
          this.fail(nicPath, `host ${name} has no DPU of that name in the inventory`, nicName, inventoryNics.map((n) => n.name), true);
          continue;
        }
        const id = `${name}/${nicName}`;
        nicIds.push(id);
        this.smartnics.set(id, {
          id,
          host: name,
          name: nicName,
          pointer: nicPath,
          spec: nicSpec,
          hardware: nicHardware,
          hostVendor: hardware.vendor,
          osImage: nicSpec.os ? this.image(childPointer(nicPath, "os"), nicSpec.os.image, nicSpec.os.version) : undefined,
          services: Object.entries(nicSpec.services).map(([s, svc]) => ({ name: s, pointer: childPointer(nicPath, "services", s), spec: svc })),
          devices: Object.entries(nicSpec.devices).map(([d, dev]) => ({ name: d, pointer: childPointer(nicPath, "devices", d), spec: dev })),
        });
      }
      let osImage: Image | undefined;
      if (spec.os) {
        osImage = this.image(childPointer(hostPath, "os"), spec.os.image, spec.os.version);
        if (!inventoryNics.some((n) => n.name === spec.os?.installVia)) {
          this.fail(childPointer(hostPath, "os", "installVia"), `host ${name} has no DPU of that name`, spec.os.installVia, inventoryNics.map((n) => n.name));
        }
      }
      models.push({ name, pointer: hostPath, spec, hardware: hostHardware, osImage, smartnics: nicIds });
    }
    return models;
  }

  private dpu(path: string, ref: string): string | undefined {
    if (this.smartnics.has(ref)) return ref;
    const [host, nic] = ref.split("/");
    const inInventory = this.hostsByName.get(host)?.smartnics.some((n) => n.name === nic);
    this.fail(
      path,
      inInventory ? `DPU ${ref} is not managed by this stack; declare it under hosts.${host}.smartnics` : `DPU ${ref} is not in the inventory`,
      ref,
      [...this.smartnics.keys()],
    );
    return undefined;
  }

  servicePairs(): ServicePairModel[] {
    const models: ServicePairModel[] = [];
    for (const [name, spec] of Object.entries(this.stack.servicePairs)) {
      const pairPath = pointer("servicePairs", name);
      const primary = this.dpu(childPointer(pairPath, "primary"), spec.primary);
      const secondary = this.dpu(childPointer(pairPath, "secondary"), spec.secondary);
      if (primary && secondary) models.push({ name, pointer: pairPath, spec, primary, secondary });
    }
    return models;
  }

  acceleratorShares(): AcceleratorShareModel[] {
    const models: AcceleratorShareModel[] = [];
    for (const [name, spec] of Object.entries(this.stack.acceleratorShares)) {
      const sharePath = pointer("acceleratorShares", name);
      const [sourceHost, acceleratorName] = spec.source.split("/");
      const host = this.hostsByName.get(sourceHost);
      const accelerator = host?.accelerators.find((a) => a.name === acceleratorName);
      const consumer = this.dpu(childPointer(sharePath, "consumer"), spec.consumer);
      if (!host || !accelerator) {
        const known = this.inventory.hosts.flatMap((h) => h.accelerators.map((a) => `${h.name}/${a.name}`));
        this.fail(childPointer(sharePath, "source"), "accelerator is not in the inventory", spec.source, known);
        continue;
      }
      const exporter = [...this.smartnics.values()]
        .filter((n) => n.host === sourceHost)
        .sort((a, b) => a.hardware.slot - b.hardware.slot)[0];
      if (!exporter) {
        this.fail(childPointer(sharePath, "source"), `host ${sourceHost} has no DPU managed by this stack to export the accelerator through`, spec.source);
        continue;
      }
      if (consumer) models.push({ name, pointer: sharePath, spec, sourceHost, accelerator, exporter: exporter.id, consumer });
    }
    return models;
  }

  /** Device backings must name a service on the same DPU or a share consumed by it; only block devices have a size. */
  deviceBackings(shares: AcceleratorShareModel[]): void {
    for (const nic of this.smartnics.values()) {
      for (const device of nic.devices) {
        const { backing, kind, sizeGiB } = device.spec;
        if (sizeGiB !== undefined && kind !== "nvme" && kind !== "virtio-blk") {
          this.fail(childPointer(device.pointer, "sizeGiB"), `only nvme and virtio-blk devices have a size; this device is ${kind}`, sizeGiB);
        }
        if (backing?.service && !nic.services.some((s) => s.name === backing.service)) {
          this.fail(childPointer(device.pointer, "backing", "service"), `no service of that name on ${nic.id}`, backing.service, nic.services.map((s) => s.name));
        }
        if (backing?.accelerator && !shares.some((s) => s.name === backing.accelerator && s.consumer === nic.id)) {
          this.fail(
            childPointer(device.pointer, "backing", "accelerator"),
            `no accelerator share of that name is consumed by ${nic.id}`,
            backing.accelerator,
            shares.filter((s) => s.consumer === nic.id).map((s) => s.name),
          );
        }
      }
    }
  }
}

function toRecord(sources: SourceIndex): Record<string, SourceLocation> {
  const record: Record<string, SourceLocation> = {};
  for (const path of sources.paths()) record[path] = sources.locate(path);
  return record;
}

/** Where a stack's inventory comes from: the stack's `inventory:` file, or a document given in code. */
interface InventorySource {
  /** The inventory file, or the virtual name of a document given in code. */
  file: string;
  /** The inventory file as named in reference errors. */
  label: string;
  /** Parses the inventory; throws `InputError` when it cannot be read or parsed. */
  parse(): ParsedYaml;
}

/**
 * The one path from a parsed stack document to a `LoadedStack`, for files and documents
 * built in code alike: schema validation, component expansion, the inventory's schema
 * and fleet rules, then the join.
 */
function loadParsedStack(
  parsed: ParsedYaml,
  inventoryOf: (stack: Stack) => InventorySource,
  search: ComponentSearch | undefined,
): LoadedStack {
  const file = parsed.file;
  const { stack, sources, components } = expandDocument(parsed, search);
  const inventorySource = inventoryOf(stack);
  const inventoryFile = inventorySource.file;
  let inventory: Fleet;
  try {
    // The fleet rules (unique names, serials, slots, addresses, images; model/vendor) are
    // checked here too: the join keys hosts by name, so a duplicate would silently win.
    inventory = guardUnexpected(inventoryFile, () => validateParsedInventory(inventorySource.parse()));
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    const at = sources.locate("/inventory");
    throw new InputError(
      err.errors.map((e) => (e.message === "file not found" ? { ...e, ...at, path: "/inventory", got: describeValue(stack.inventory) } : e)),
      { cause: err, summary: `${file}: the inventory ${inventoryFile} is not usable` },
    );
  }
  const joiner = new Joiner(stack, inventory, inventorySource.label, sources);
  const hosts = joiner.hosts();
  const servicePairs = joiner.servicePairs();
  const acceleratorShares = joiner.acceleratorShares();
  joiner.deviceBackings(acceleratorShares);
  if (joiner.errors.length > 0) {
    throw new InputError(joiner.errors, { summary: `${file}: ${plural(joiner.errors.length, "reference")} not resolved` });
  }
  return {
    file,
    inventoryFile,
    stack,
    inventory,
    hosts,
    smartnics: [...joiner.smartnics.values()],
    servicePairs,
    acceleratorShares,
    components,
    waivers: stack.policy.disable,
    sources: toRecord(sources),
  };
}

/** Loads the stack synchronously; see `loadStack`. */
export function loadStackSync(file: string, options: LoadOptions = {}): LoadedStack {
  return guardUnexpected(file, () => {
    const parsed = parseYamlFile(file, options);
    return loadParsedStack(
      parsed,
      (stack) => {
        const inventoryFile = path.resolve(path.dirname(file), stack.inventory);
        return {
          file: inventoryFile,
          label: path.relative(process.cwd(), inventoryFile) || inventoryFile,
          parse: () => {
            confineInventory(parsed, inventoryFile, options.inventoryRoots ?? rootsFromEnvironment());
            return parseYamlFile(inventoryFile, options);
          },
        };
      },
      options.search,
    );
  });
}

/**
 * Refuses an inventory outside the stack's repository (the nearest folder above the stack
 * holding .git, Pulumi.yaml or package.json) and the allowed roots: a stack from a pull
 * request must not make `check` in CI read /proc/self/environ or a key file. Links are
 * followed before the check, so a link inside the repository cannot point out of it.
 */
function confineInventory(stack: ParsedYaml, inventoryFile: string, allowedRoots: string[]): void {
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const roots = [repositoryOf(real(stack.file)), ...allowedRoots.map(real)];
  const target = real(inventoryFile);
  if (roots.some((root) => target === root || target.startsWith(root + path.sep))) return;
  throw new InputError([
    {
      ...stack.sources.locate("/inventory"),
      path: "/inventory",
      message: `the inventory ${inventoryFile} is outside the stack's repository ${roots[0]}; move it inside, or allow its folder in SMARTFLEET_INVENTORY_PATH`,
    },
  ]);
}

/** The nearest folder at or above `file`'s folder holding .git, Pulumi.yaml or package.json; else `file`'s folder. */
function repositoryOf(file: string): string {
  for (let dir = path.dirname(file), parent = ""; dir !== parent; parent = dir, dir = path.dirname(dir)) {
    if ([".git", "Pulumi.yaml", "package.json"].some((marker) => fs.existsSync(path.join(dir, marker)))) return dir;
  }
  return path.dirname(file);
}

function rootsFromEnvironment(): string[] {
  return (process.env.SMARTFLEET_INVENTORY_PATH ?? "").split(path.delimiter).filter((p) => p !== "");
}

/**
 * Loads a stack file: parses it (positions kept), validates it, expands its components,
 * validates the result, loads the inventory it names and resolves every host, DPU,
 * accelerator and image against it. Throws `InputError` listing every problem found.
 */
export async function loadStack(file: string, options: LoadOptions = {}): Promise<LoadedStack> {
  return loadStackSync(file, options);
}

/** Makes the properties `K` of `T` optional (the ones the schema gives a default). */
type WithDefaults<T, K extends keyof T> = Omit<T, K> & Partial<Pick<T, K>>;

/** A service as written: `config` defaults to `{}`. */
export type ServiceDocument = WithDefaults<Service, "config">;

/** A DPU as written in a stack: every property with a schema default may be left out. */
export type SmartnicDocument = Omit<WithDefaults<SmartnicSpec, "mode" | "hostPrivilege">, "os" | "services" | "devices"> & {
  /** The OS or hypervisor on the DPU; `ntp` defaults to none. */
  os?: WithDefaults<DpuOsSpec, "ntp">;
  /** Services running on this DPU, by name. */
  services?: Record<string, ServiceDocument>;
  /** Virtual PCIe functions this DPU presents to its host, by name; `function` defaults to vf. */
  devices?: Record<string, WithDefaults<DeviceSpec, "function">>;
};

/**
 * A stack document as written (in YAML or in code), typed from `schemas/generated/stack`:
 * every property with a schema default may be left out, and `inventory` too when the
 * inventory document is given alongside (`loadStackDocuments`). A `Stack` is one.
 */
export type StackDocument = Omit<Stack, "inventory" | "hosts" | "servicePairs" | "acceleratorShares" | "components" | "maintenance" | "rollout" | "policy"> & {
  /** The inventory file; not read by `loadStackDocuments`, which is given the inventory. */
  inventory?: string;
  /** Hosts of the inventory this stack manages, by inventory name. */
  hosts?: Record<string, Omit<HostSpec, "smartnics"> & { smartnics?: Record<string, SmartnicDocument> }>;
  /** Services protected by fault tolerance across two DPUs, by name. */
  servicePairs?: Record<string, Omit<ServicePairSpec, "service"> & { service: ServiceDocument }>;
  /** Accelerators in one host used by another host through their DPUs, by name. */
  acceleratorShares?: Record<string, AcceleratorShareSpec>;
  /** Shared components to expand into this stack. */
  components?: WithDefaults<ComponentUse, "with">[];
  /** What disruption applying the stack may cause. */
  maintenance?: Partial<StackMaintenance>;
  /** How disruptive changes roll over the fleet. */
  rollout?: Partial<StackRollout>;
  /** Policy settings for this stack. */
  policy?: Partial<StackPolicy>;
};

/** Options for loading documents given in code. */
export interface StackDocumentOptions extends LoadOptions {
  /**
   * Names the documents in errors: `<typescript stack NAME>` and `<typescript inventory NAME>`
   * (default: the stack's `metadata.name`).
   */
  name?: string;
  /** Where components are looked up from (its node_modules and its parents'), as a stack file's directory is; default the working directory. */
  baseDir?: string;
}

/**
 * Renders a document given in code as YAML text, so that it takes the path a file takes.
 * A JSON round trip first: only JSON data is a document (`undefined` members vanish, as
 * they would in a file), and shared objects are written out rather than as YAML aliases.
 */
function renderDocument(value: unknown): string {
  if (value === undefined) return "";
  return stringify(JSON.parse(JSON.stringify(value)) as unknown, { aliasDuplicateObjects: false, lineWidth: 0 });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Loads a stack and its inventory given as documents in code (a TypeScript program
 * declaring its fleet) exactly as `loadStackSync` loads files: each document is rendered
 * to YAML text and goes through the same parse, schema validation, component expansion,
 * inventory rules and join, so a program and a YAML file map to resources one way.
 * Errors name the virtual files `<typescript stack NAME>` and `<typescript inventory NAME>`
 * with line and column in the rendered text, and the JSON pointer of the value. The
 * stack's `inventory:` is not read (the inventory is given); when left out it is set to
 * the inventory's virtual name. Throws `InputError` listing every problem.
 */
export function loadStackDocuments(stack: StackDocument, inventory: FleetInventory, options: StackDocumentOptions = {}): LoadedStack {
  const metadata: Record<string, unknown> = isRecord(stack) && isRecord(stack.metadata) ? stack.metadata : {};
  const name = options.name ?? (typeof metadata.name === "string" ? metadata.name : "stack");
  const file = `<typescript stack ${name}>`;
  const inventoryFile = `<typescript inventory ${name}>`;
  return guardUnexpected(file, () => {
    const document: unknown = isRecord(stack) && stack.inventory === undefined ? { ...stack, inventory: inventoryFile } : stack;
    const parsed = parseYamlText(renderDocument(document), file, options);
    const usesComponents = isRecord(parsed.value) && Array.isArray(parsed.value.components) && parsed.value.components.length > 0;
    const search = options.search ?? (usesComponents ? defaultSearch(path.join(path.resolve(options.baseDir ?? "."), "stack.yaml")) : undefined);
    return loadParsedStack(
      parsed,
      () => ({
        file: inventoryFile,
        label: inventoryFile,
        parse: () => guardUnexpected(inventoryFile, () => parseYamlText(renderDocument(inventory), inventoryFile, options)),
      }),
      search,
    );
  });
}
