/**
 * Every resource kind smartfleet manages, in one list: its name, the file that
 * implements it (what the lazy provider loads from `dist/providers/`), and its
 * implementation. Tests and tools iterate this list; adding a kind means adding it here.
 */
import { implementation as acceleratorShare } from "./accelerator-share";
import type { KindImplementation } from "./common/kind";
import { implementation as dpuOs } from "./dpu-os";
import { implementation as dpuService } from "./dpu-service";
import { implementation as host } from "./host";
import { implementation as hostDevice } from "./host-device";
import { implementation as hostOsInstall } from "./host-os-install";
import { implementation as servicePair } from "./service-pair";
import { implementation as smartNic } from "./smart-nic";

/** One registered kind. */
export interface KindEntry {
  /** The kind; the Pulumi type is `pulumi-nodejs:dynamic/smartfleet:<kind>`. */
  kind: string;
  /** The implementation module, relative to `providers/` (without extension). */
  file: string;
  /** The provider implementation. */
  implementation: KindImplementation<object, object>;
}

/** All kinds, in the order a fleet is brought up. */
export const KINDS: readonly KindEntry[] = [
  { kind: "SmartNic", file: "smart-nic", implementation: erase(smartNic) },
  { kind: "Host", file: "host", implementation: erase(host) },
  { kind: "DpuOs", file: "dpu-os", implementation: erase(dpuOs) },
  { kind: "DpuService", file: "dpu-service", implementation: erase(dpuService) },
  { kind: "HostDevice", file: "host-device", implementation: erase(hostDevice) },
  { kind: "ServicePair", file: "service-pair", implementation: erase(servicePair) },
  { kind: "HostOsInstall", file: "host-os-install", implementation: erase(hostOsInstall) },
  { kind: "AcceleratorShare", file: "accelerator-share", implementation: erase(acceleratorShare) },
];

/** The full Pulumi type token of a kind. */
export function typeToken(kind: string): string {
  return `pulumi-nodejs:dynamic/smartfleet:${kind}`;
}

/** Lists differ only in their input types; the registry treats them alike. */
function erase<I extends object, O extends I>(implementation: KindImplementation<I, O>): KindImplementation<object, object> {
  return implementation as unknown as KindImplementation<object, object>;
}
