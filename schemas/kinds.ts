/**
 * The one table of resource kinds. Every room that needs "which kinds exist" reads it:
 * the model (what a stack declares), the policies (which schema checks a resource's
 * inputs in CrossGuard), the providers (which module implements a kind) and the tests.
 * Adding a kind means a row here, its input schema, and its provider file.
 */
import type { AcceleratorShareInputs } from "./generated/accelerator-share-inputs";
import type { DpuOsInputs } from "./generated/dpu-os-inputs";
import type { DpuServiceInputs } from "./generated/dpu-service-inputs";
import type { HostDeviceInputs } from "./generated/host-device-inputs";
import type { HostInputs } from "./generated/host-inputs";
import type { HostOsInstallInputs } from "./generated/host-os-install-inputs";
import type { ServicePairInputs } from "./generated/service-pair-inputs";
import type { SmartNicInputs } from "./generated/smartnic-inputs";

/** The inputs of each kind, as its schema in `schemas/<kind>-inputs.schema.json` defines them. */
export interface InputsByKind {
  SmartNic: SmartNicInputs;
  Host: HostInputs;
  DpuOs: DpuOsInputs;
  DpuService: DpuServiceInputs;
  HostDevice: HostDeviceInputs;
  ServicePair: ServicePairInputs;
  HostOsInstall: HostOsInstallInputs;
  AcceleratorShare: AcceleratorShareInputs;
}

/** A resource kind. */
export type ResourceKind = keyof InputsByKind;

/** One row of the table. */
export interface KindRow {
  /** The kind; the Pulumi type token is `typeToken(kind)`. */
  kind: ResourceKind;
  /** Base name of the input schema in `schemas/` (`schemaPath(inputSchema)`). */
  inputSchema: string;
  /** The provider module implementing it, relative to `providers/` (also its test's name in `test/providers/`). */
  providerFile: string;
}

/** Every kind, in the order a fleet is brought up. */
export const KIND_TABLE: readonly KindRow[] = [
  { kind: "SmartNic", inputSchema: "smartnic-inputs", providerFile: "smart-nic" },
  { kind: "Host", inputSchema: "host-inputs", providerFile: "host" },
  { kind: "DpuOs", inputSchema: "dpu-os-inputs", providerFile: "dpu-os" },
  { kind: "DpuService", inputSchema: "dpu-service-inputs", providerFile: "dpu-service" },
  { kind: "HostDevice", inputSchema: "host-device-inputs", providerFile: "host-device" },
  { kind: "ServicePair", inputSchema: "service-pair-inputs", providerFile: "service-pair" },
  { kind: "HostOsInstall", inputSchema: "host-os-install-inputs", providerFile: "host-os-install" },
  { kind: "AcceleratorShare", inputSchema: "accelerator-share-inputs", providerFile: "accelerator-share" },
];

/** Pulumi puts Node dynamic resources under the `pulumi-nodejs` package; `smartfleet` is our module. */
export const TYPE_MODULE = "smartfleet";

/** The Pulumi type token of a kind: `pulumi-nodejs:dynamic/smartfleet:<kind>`. */
export function typeToken(kind: ResourceKind): string {
  return `pulumi-nodejs:dynamic/${TYPE_MODULE}:${kind}`;
}

/** The row of `kind`, or undefined for a name that is not one of ours. */
export function kindRow(kind: string): KindRow | undefined {
  return KIND_TABLE.find((row) => row.kind === kind);
}

/** The kind a Pulumi type token names, when it is one of ours. */
export function kindOfType(type: string): ResourceKind | undefined {
  const match = /^pulumi-nodejs:dynamic\/smartfleet:(\w+)$/.exec(type);
  return match ? kindRow(match[1])?.kind : undefined;
}
