/**
 * The CrossGuard adapter's half that matters: rebuilds the policy model from the inputs of
 * the smartfleet resources in a Pulumi stack, so the shared rules run unchanged. Also maps
 * each model pointer back to the URN of the resource that declared it, for reporting.
 */
import * as fs from "node:fs";
import type { AcceleratorShareInputs } from "../schemas/generated/accelerator-share-inputs";
import type { DpuTarget } from "../schemas/generated/common";
import type { DpuOsInputs } from "../schemas/generated/dpu-os-inputs";
import type { DpuServiceInputs } from "../schemas/generated/dpu-service-inputs";
import type { HostDeviceInputs } from "../schemas/generated/host-device-inputs";
import type { HostInputs } from "../schemas/generated/host-inputs";
import type { HostOsInstallInputs } from "../schemas/generated/host-os-install-inputs";
import type { ServicePairInputs } from "../schemas/generated/service-pair-inputs";
import type { SmartNicInputs } from "../schemas/generated/smartnic-inputs";
import type { DeviceSpec, Stack } from "../schemas/generated/stack";
import { childPointer, pointer, SourceIndex } from "../schemas/source-index";
import { schemaPath, validateValue } from "../schemas/validate";
import type { StackError } from "../schemas/diagnostics";
import { kindOfType, kindRow, type ResourceKind } from "../schemas/kinds";
import type { HostModel } from "../model/load";
import { DEFAULT_ROLLOUT } from "../model/rollout";
import type { PolicyModel, PolicySmartNic } from "./rule";


/** What the adapter needs of a resource (a subset of CrossGuard's PolicyResource). */
export interface ResourceInputs {
  /** Pulumi type token. */
  type: string;
  /** URN, to report against. */
  urn: string;
  /** Input properties as Pulumi resolved them. */
  props: Record<string, unknown>;
}

/** A resource whose inputs do not match its schema. */
export interface InvalidResource {
  /** Its URN. */
  urn: string;
  /** The schema problems. */
  errors: StackError[];
}

/** The rebuilt model plus what is needed to report against resources. */
export interface ResourceModel {
  /** The model the rules read. */
  model: PolicyModel;
  /** URN of the resource behind each model pointer. */
  urnByPointer: Map<string, string>;
  /** Resources skipped because their inputs are not valid. */
  invalid: InvalidResource[];
}

const declaredKeys = new Map<string, Set<string>>();

/**
 * The props the kind's input schema declares. Resources carry more: the dynamic provider's
 * `__provider`, credentials (secrets, never policy inputs) and output placeholders.
 */
function declaredInputs(kind: ResourceKind, props: Record<string, unknown>): Record<string, unknown> {
  let keys = declaredKeys.get(kind);
  if (!keys) {
    const schema = JSON.parse(fs.readFileSync(schemaPath(inputSchemaOf(kind)), "utf8")) as { properties: Record<string, unknown> };
    keys = new Set(Object.keys(schema.properties));
    declaredKeys.set(kind, keys);
  }
  return Object.fromEntries(Object.entries(props).filter(([key, value]) => keys.has(key) && value !== undefined));
}

function inputSchemaOf(kind: ResourceKind): string {
  return (kindRow(kind) as { inputSchema: string }).inputSchema;
}

/** Validates and groups the smartfleet resources by kind, keeping only the declared inputs. */
function groupByKind(resources: ResourceInputs[]) {
  const byKind = new Map<string, { urn: string; inputs: unknown }[]>();
  const invalid: InvalidResource[] = [];
  for (const resource of resources) {
    const kind = kindOfType(resource.type);
    if (!kind) continue;
    const inputs = declaredInputs(kind, resource.props);
    const sources = new SourceIndex({ file: resource.urn, line: 1, column: 1 });
    const errors = validateValue(inputs, schemaPath(inputSchemaOf(kind)), sources);
    if (errors.length > 0) {
      invalid.push({ urn: resource.urn, errors });
      continue;
    }
    byKind.set(kind, [...(byKind.get(kind) ?? []), { urn: resource.urn, inputs }]);
  }
  const of = <T>(kind: string) => (byKind.get(kind) ?? []) as { urn: string; inputs: T }[];
  return { of, invalid };
}

function idOf(target: DpuTarget): string {
  return `${target.host}/${target.smartnic}`;
}

/** Rebuilds the policy model from resource inputs. Never throws on odd input: invalid resources are listed instead. */
export function modelFromResources(resources: ResourceInputs[], stackName = "pulumi"): ResourceModel {
  const { of, invalid } = groupByKind(resources);
  const urnByPointer = new Map<string, string>();
  const stack: Stack = {
    apiVersion: "smartfleet.dev/v1",
    kind: "Stack",
    metadata: { name: stackName },
    inventory: "(rebuilt from resource inputs)",
    hosts: {},
    servicePairs: {},
    acceleratorShares: {},
    components: [],
    maintenance: { allowHostPowerCycle: false },
    rollout: DEFAULT_ROLLOUT,
    policy: { disable: [] },
  };
  const hosts = new Map<string, HostModel>();
  const nics = new Map<string, PolicySmartNic>();

  const hostEntry = (name: string) => (stack.hosts[name] ??= { smartnics: {} });

  for (const { urn, inputs } of of<HostInputs>("Host")) {
    const hostPointer = pointer("hosts", inputs.name);
    hostEntry(inputs.name);
    urnByPointer.set(hostPointer, urn);
    hosts.set(inputs.name, {
      name: inputs.name,
      pointer: hostPointer,
      spec: stack.hosts[inputs.name],
      hardware: { name: inputs.name, serial: inputs.serial, vendor: inputs.vendor, model: inputs.model, cpus: inputs.cpus, memoryGiB: inputs.memoryGiB, accelerators: [], labels: {}, workloads: { count: 0, evacuationSeconds: 30 } },
      smartnics: [],
    });
  }

  for (const { urn, inputs } of of<SmartNicInputs>("SmartNic")) {
    const { target } = inputs;
    const id = idOf(target);
    const nicPointer = pointer("hosts", target.host, "smartnics", target.smartnic);
    const spec = { mode: inputs.mode, hostPrivilege: inputs.hostPrivilege, ...(inputs.firmware ? { firmware: inputs.firmware } : {}), services: {}, devices: {} };
    hostEntry(target.host).smartnics[target.smartnic] = spec;
    if (inputs.rollout?.allowHostPowerCycle) stack.maintenance.allowHostPowerCycle = true;
    urnByPointer.set(nicPointer, urn);
    hosts.get(target.host)?.smartnics.push(id);
    nics.set(id, {
      id,
      host: target.host,
      name: target.smartnic,
      pointer: nicPointer,
      spec,
      hardware: {
        name: target.smartnic,
        serial: target.serial,
        slot: inputs.slot ?? 0,
        vendor: inputs.vendor,
        model: inputs.model,
        armCores: inputs.armCores,
        memoryGiB: inputs.memoryGiB,
        management: { address: target.address, port: target.port },
        factoryState: { mode: inputs.factoryMode, hostPrivilege: "privileged" },
      },
      hostVendor: inputs.hostVendor,
      services: [],
      devices: [],
    });
  }

  for (const { urn, inputs } of of<DpuOsInputs>("DpuOs")) {
    const nic = nics.get(idOf(inputs.target));
    if (!nic) continue;
    nic.spec.os = { image: inputs.image, version: inputs.version, ntp: inputs.ntp, ...(inputs.hostname ? { hostname: inputs.hostname } : {}), ...(inputs.cluster ? { cluster: inputs.cluster } : {}) };
    nic.osImage = { name: inputs.image, version: inputs.version, uri: inputs.uri, sha256: inputs.sha256 };
    urnByPointer.set(childPointer(nic.pointer, "os"), urn);
  }

  for (const { urn, inputs } of of<DpuServiceInputs>("DpuService")) {
    const nic = nics.get(idOf(inputs.target));
    if (!nic) continue;
    const servicePointer = childPointer(nic.pointer, "services", inputs.name);
    nic.spec.services[inputs.name] = inputs.service;
    nic.services.push({ name: inputs.name, pointer: servicePointer, spec: inputs.service });
    urnByPointer.set(servicePointer, urn);
  }

  for (const { urn, inputs } of of<HostDeviceInputs>("HostDevice")) {
    const nic = nics.get(idOf(inputs.target));
    if (!nic) continue;
    const devicePointer = childPointer(nic.pointer, "devices", inputs.name);
    const backing = { ...(inputs.backingService ? { service: inputs.backingService } : {}), ...(inputs.backingAccelerator ? { accelerator: inputs.backingAccelerator } : {}) };
    const spec: DeviceSpec = { kind: inputs.kind, function: inputs.function, ...(inputs.sizeGiB !== undefined ? { sizeGiB: inputs.sizeGiB } : {}), ...(Object.keys(backing).length ? { backing } : {}) };
    nic.spec.devices[inputs.name] = spec;
    nic.devices.push({ name: inputs.name, pointer: devicePointer, spec });
    urnByPointer.set(devicePointer, urn);
  }

  for (const { urn, inputs } of of<HostOsInstallInputs>("HostOsInstall")) {
    const host = hosts.get(inputs.host);
    const spec = hostEntry(inputs.host);
    spec.os = { image: inputs.image, version: inputs.version, installVia: inputs.via.smartnic };
    if (host) host.osImage = { name: inputs.image, version: inputs.version, uri: inputs.uri, sha256: inputs.sha256 };
    if (inputs.rollout?.allowHostPowerCycle) stack.maintenance.allowHostPowerCycle = true;
    urnByPointer.set(pointer("hosts", inputs.host, "os"), urn);
  }

  const servicePairs: PolicyModel["servicePairs"] = [];
  for (const { urn, inputs } of of<ServicePairInputs>("ServicePair")) {
    const spec = { service: inputs.service, primary: idOf(inputs.primary), secondary: idOf(inputs.secondary) };
    stack.servicePairs[inputs.name] = spec;
    const pairPointer = pointer("servicePairs", inputs.name);
    servicePairs.push({ name: inputs.name, pointer: pairPointer, spec, primary: spec.primary, secondary: spec.secondary });
    urnByPointer.set(pairPointer, urn);
  }

  const acceleratorShares: PolicyModel["acceleratorShares"] = [];
  for (const { urn, inputs } of of<AcceleratorShareInputs>("AcceleratorShare")) {
    const spec = { source: `${inputs.sourceHost}/${inputs.accelerator}`, consumer: idOf(inputs.consumer) };
    stack.acceleratorShares[inputs.name] = spec;
    const sharePointer = pointer("acceleratorShares", inputs.name);
    acceleratorShares.push({
      name: inputs.name,
      pointer: sharePointer,
      spec,
      sourceHost: inputs.sourceHost,
      accelerator: { name: inputs.accelerator, model: inputs.acceleratorModel ?? "unknown", slot: inputs.acceleratorSlot ?? 0 },
      exporter: idOf(inputs.source),
      consumer: spec.consumer,
    });
    urnByPointer.set(sharePointer, urn);
  }

  return {
    model: { hosts: [...hosts.values()], smartnics: [...nics.values()], servicePairs, acceleratorShares, stack },
    urnByPointer,
    invalid,
  };
}

/** The URN of the resource that declared the value at `path` (its nearest recorded ancestor). */
export function urnFor(urnByPointer: Map<string, string>, path: string): string | undefined {
  for (let current = path; current !== ""; current = current.slice(0, current.lastIndexOf("/"))) {
    const urn = urnByPointer.get(current);
    if (urn) return urn;
  }
  return undefined;
}
