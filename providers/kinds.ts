/**
 * The implementation of every kind in the kind table (`schemas/kinds.ts`), keyed by kind.
 * The lazy provider loads the same modules by file name in the provider process; this map
 * is for tools and tests that call implementations directly.
 */
import { KIND_TABLE, type KindRow, type ResourceKind } from "../schemas/kinds";
import { implementation as acceleratorShare } from "./accelerator-share";
import type { KindImplementation } from "./common/kind";
import { implementation as dpuOs } from "./dpu-os";
import { implementation as dpuService } from "./dpu-service";
import { implementation as host } from "./host";
import { implementation as hostDevice } from "./host-device";
import { implementation as hostOsInstall } from "./host-os-install";
import { implementation as servicePair } from "./service-pair";
import { implementation as smartNic } from "./smart-nic";

/** A kind of the table with its implementation. */
export interface KindEntry extends KindRow {
  /** The provider implementation. */
  implementation: KindImplementation<object, object>;
}

const IMPLEMENTATIONS: Record<ResourceKind, KindImplementation<object, object>> = {
  SmartNic: erase(smartNic),
  Host: erase(host),
  DpuOs: erase(dpuOs),
  DpuService: erase(dpuService),
  HostDevice: erase(hostDevice),
  ServicePair: erase(servicePair),
  HostOsInstall: erase(hostOsInstall),
  AcceleratorShare: erase(acceleratorShare),
};

/** All kinds, in the table's order (the order a fleet is brought up). */
export const KINDS: readonly KindEntry[] = KIND_TABLE.map((row) => ({ ...row, implementation: IMPLEMENTATIONS[row.kind] }));

/** Implementations differ only in their input types; the registry treats them alike. */
function erase<I extends object, O extends I>(implementation: KindImplementation<I, O>): KindImplementation<object, object> {
  return implementation as unknown as KindImplementation<object, object>;
}
