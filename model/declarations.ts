/**
 * The inputs of every resource a loaded stack declares, shaped exactly as the resource
 * input schemas (`schemas/*-inputs.schema.json`) say. The Pulumi program declares these;
 * the CrossGuard adapter rebuilds the policy model from them.
 */
import type { AcceleratorShareInputs } from "../schemas/generated/accelerator-share-inputs";
import type { DpuTarget } from "../schemas/generated/common";
import type { DpuOsInputs } from "../schemas/generated/dpu-os-inputs";
import type { DpuServiceInputs } from "../schemas/generated/dpu-service-inputs";
import type { HostDeviceInputs } from "../schemas/generated/host-device-inputs";
import type { HostInputs } from "../schemas/generated/host-inputs";
import type { HostOsInstallInputs } from "../schemas/generated/host-os-install-inputs";
import type { ServicePairInputs } from "../schemas/generated/service-pair-inputs";
import type { SmartNicInputs } from "../schemas/generated/smartnic-inputs";
import type { LoadedStack, SmartNicModel } from "./load";

/** Inputs by resource kind. */
export interface InputsByKind {
  Host: HostInputs;
  SmartNic: SmartNicInputs;
  DpuOs: DpuOsInputs;
  DpuService: DpuServiceInputs;
  HostDevice: HostDeviceInputs;
  ServicePair: ServicePairInputs;
  HostOsInstall: HostOsInstallInputs;
  AcceleratorShare: AcceleratorShareInputs;
}

/** A resource kind. */
export type ResourceKind = keyof InputsByKind;

/** One resource to declare: its kind, a logical name unique in the stack, and its inputs. */
export type ResourceDeclaration = { [K in ResourceKind]: { kind: K; name: string; inputs: InputsByKind[K] } }[ResourceKind];

function target(stack: LoadedStack, host: string, smartnic: string): DpuTarget {
  const nic = stack.inventory.hosts.find((h) => h.name === host)?.smartnics.find((n) => n.name === smartnic);
  if (!nic) throw new Error(`internal: ${host}/${smartnic} was resolved by the loader but is not in the inventory`);
  return { host, smartnic, serial: nic.serial, address: nic.management.address, port: nic.management.port };
}

function nicTarget(stack: LoadedStack, nic: Pick<SmartNicModel, "host" | "name">): DpuTarget {
  return target(stack, nic.host, nic.name);
}

/** The DPU that controls a host's power and boot: the one installing its OS, else its lowest-slot DPU. */
function controllingDpu(stack: LoadedStack, host: string): string {
  const installVia = stack.stack.hosts[host]?.os?.installVia;
  if (installVia) return installVia;
  const inventoryHost = stack.inventory.hosts.find((h) => h.name === host);
  const managed = new Set(stack.smartnics.filter((n) => n.host === host).map((n) => n.name));
  const candidates = [...(inventoryHost?.smartnics ?? [])].sort((a, b) => Number(managed.has(b.name)) - Number(managed.has(a.name)) || a.slot - b.slot);
  return candidates[0].name;
}

/** Every resource the stack declares, in dependency order (hosts and DPUs first). */
export function resourceDeclarations(stack: LoadedStack): ResourceDeclaration[] {
  const out: ResourceDeclaration[] = [];
  const allow = stack.stack.maintenance.allowHostPowerCycle;
  for (const host of stack.hosts) {
    const { name, serial, vendor, model, cpus, memoryGiB } = host.hardware;
    out.push({ kind: "Host", name, inputs: { name, serial, vendor, model, cpus, memoryGiB, via: target(stack, name, controllingDpu(stack, name)) } });
  }
  for (const nic of stack.smartnics) {
    const t = nicTarget(stack, nic);
    const { vendor, model, slot, armCores, memoryGiB } = nic.hardware;
    out.push({
      kind: "SmartNic",
      name: nic.id,
      inputs: {
        target: t,
        vendor,
        model,
        slot,
        armCores,
        memoryGiB,
        hostVendor: nic.hostVendor,
        mode: nic.spec.mode,
        hostPrivilege: nic.spec.hostPrivilege,
        factoryMode: nic.hardware.factoryState.mode,
        ...(nic.spec.firmware ? { firmware: nic.spec.firmware } : {}),
        allowHostPowerCycle: allow,
      },
    });
    if (nic.spec.os && nic.osImage) {
      const { image, version, hostname, ntp, cluster } = nic.spec.os;
      out.push({
        kind: "DpuOs",
        name: `${nic.id}/os`,
        inputs: { target: t, image, version, uri: nic.osImage.uri, sha256: nic.osImage.sha256, ntp, ...(hostname ? { hostname } : {}), ...(cluster ? { cluster } : {}) },
      });
    }
    for (const service of nic.services) {
      out.push({ kind: "DpuService", name: `${nic.id}/services/${service.name}`, inputs: { target: t, name: service.name, service: service.spec } });
    }
    for (const device of nic.devices) {
      const { kind, function: fn, backing } = device.spec;
      out.push({
        kind: "HostDevice",
        name: `${nic.id}/devices/${device.name}`,
        inputs: {
          target: t,
          name: device.name,
          kind,
          function: fn,
          ...(backing?.service ? { backingService: backing.service } : {}),
          ...(backing?.accelerator ? { backingAccelerator: backing.accelerator } : {}),
        },
      });
    }
  }
  for (const host of stack.hosts) {
    if (!host.spec.os || !host.osImage) continue;
    const { image, version, installVia } = host.spec.os;
    out.push({
      kind: "HostOsInstall",
      name: `${host.name}/os`,
      inputs: { host: host.name, hostSerial: host.hardware.serial, via: target(stack, host.name, installVia), image, version, uri: host.osImage.uri, sha256: host.osImage.sha256, allowHostPowerCycle: allow },
    });
  }
  for (const pair of stack.servicePairs) {
    const [ph, pn] = pair.primary.split("/");
    const [sh, sn] = pair.secondary.split("/");
    out.push({ kind: "ServicePair", name: `pairs/${pair.name}`, inputs: { name: pair.name, service: pair.spec.service, primary: target(stack, ph, pn), secondary: target(stack, sh, sn) } });
  }
  for (const share of stack.acceleratorShares) {
    const [eh, en] = share.exporter.split("/");
    const [ch, cn] = share.consumer.split("/");
    out.push({
      kind: "AcceleratorShare",
      name: `shares/${share.name}`,
      inputs: {
        name: share.name,
        sourceHost: share.sourceHost,
        accelerator: share.accelerator.name,
        acceleratorModel: share.accelerator.model,
        acceleratorSlot: share.accelerator.slot,
        source: target(stack, eh, en),
        consumer: target(stack, ch, cn),
      },
    });
  }
  return out;
}
