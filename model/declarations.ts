/**
 * THE mapping from a loaded stack to the resources that make it so: every resource's kind,
 * Pulumi name, inputs (shaped exactly as `schemas/<kind>-inputs.schema.json` says), the
 * account it acts through, and what it waits for. The Pulumi program declares these,
 * CrossGuard's model and the tests read the same list, so what is checked is what is
 * applied. Decisions about the fleet's wiring (which DPU controls a host, where a port is
 * routed) are made here once.
 */
import type { DpuTarget } from "../schemas/generated/common";
import type { InputsByKind, ResourceKind } from "../schemas/kinds";
import { pointerSegments } from "../schemas/source-index";
import type { AcceleratorShareModel, HostModel, LoadedStack, ServicePairModel, SmartNicModel } from "./load";
import { hostRollouts, type HostRollout } from "./rollout";
import { factoryPassword } from "./credentials";

/** Where a DPU's management port is reached, when it is not the inventory's address (an emulator, a jump host). */
export interface Route {
  /** Host name or address. */
  address: string;
  /** TCP port. */
  port: number;
}

/** The account a resource acts through: the DPU's factory user, whose password the SmartNic claim rotates. */
export interface Account {
  /** User name of the management account. */
  username: string;
  /** The factory password (only the SmartNic claim uses it; a secret wherever it goes). */
  factoryPassword?: string;
  /** Pairs and shares: the user name on the other DPU (secondary, consumer), whose port consents with the same password. */
  peerUsername?: string;
}

/** One resource to declare. */
export type ResourceDeclaration = { [K in ResourceKind]: DeclarationOf<K> }[ResourceKind];

/** A declaration of one kind. */
export interface DeclarationOf<K extends ResourceKind> {
  /** The kind. */
  kind: K;
  /** Pulumi resource name, unique in the stack (the last part of its URN). */
  name: string;
  /** The host whose component groups this resource; absent for pairs and shares, which span hosts. */
  host?: string;
  /** JSON pointer of what declared it in the expanded stack. */
  pointer: string;
  /** The inputs the kind's schema describes. */
  inputs: InputsByKind[K];
  /** The management account. */
  account: Account;
  /** Names of the declarations this one waits for (always declared before it). */
  dependsOn: string[];
  /** Inputs taken from another resource's output, so that replacing that one replaces this one too. */
  inputsFrom?: Record<string, { resource: string; output: string }>;
}

/** Options of the mapping. */
export interface DeclarationOptions {
  /** Routes by DPU serial (from an endpoints file); DPUs without one use the inventory's address. */
  routes?: ReadonlyMap<string, Route>;
}

/** Every resource the stack declares, in an order where each comes after what it depends on. */
export function resourceDeclarations(stack: LoadedStack, options: DeclarationOptions = {}): ResourceDeclaration[] {
  const wiring = new Wiring(stack, options.routes ?? new Map());
  const out: ResourceDeclaration[] = [];
  for (const host of stack.hosts) out.push(...hostDeclarations(wiring, host));
  for (const pair of stack.servicePairs) out.push(pairDeclaration(wiring, pair));
  for (const share of stack.acceleratorShares) out.push(...shareDeclarations(wiring, share));
  return out;
}

/** Names and targets of the DPUs a stack manages, resolved once. */
class Wiring {
  private readonly nics: Map<string, SmartNicModel>;
  private readonly rollouts: Map<string, HostRollout>;

  constructor(
    readonly stack: LoadedStack,
    private readonly routes: ReadonlyMap<string, Route>,
  ) {
    this.nics = new Map(stack.smartnics.map((nic) => [nic.id, nic]));
    this.rollouts = hostRollouts(stack);
  }

  /** The rollout a disruptive resource on `host` is held to (context for its provider, never diffed). */
  rollout(host: string): HostRollout {
    const rollout = this.rollouts.get(host) as HostRollout;
    // The rollout names the DPUs it gates and switches over; they are reached where this stack routes them.
    const routed = (dpu: HostRollout["dpus"][number]) => ({ ...dpu, target: this.target(this.nic(`${dpu.target.host}/${dpu.target.smartnic}`)) });
    return {
      ...rollout,
      dpus: rollout.dpus.map(routed),
      pairSides: rollout.pairSides.map((side) => ({ ...side, primary: routed(side.primary), secondary: routed(side.secondary) })),
    };
  }

  /** The managed DPU `host/nic`. */
  nic(id: string): SmartNicModel {
    const nic = this.nics.get(id);
    if (!nic) throw new Error(`internal: ${id} was resolved by the loader but is not a managed DPU`);
    return nic;
  }

  /** Where the DPU's port is and which DPU it must be (its serial). */
  target(nic: SmartNicModel): DpuTarget {
    const { serial, management } = nic.hardware;
    const route = this.routes.get(serial);
    return { host: nic.host, smartnic: nic.name, serial, address: route?.address ?? management.address, port: route?.port ?? management.port };
  }

  account(nic: SmartNicModel): Account {
    return { username: nic.hardware.factoryCredentials.username };
  }

  /** What must be in place before anything runs on the DPU: its OS when declared, else its claim. */
  ready(nic: SmartNicModel): string {
    return nic.spec.os && nic.osImage ? names.dpuOs(nic) : names.smartNic(nic);
  }

  /**
   * The DPU that controls a host's power and boot: the one installing its OS, else the
   * managed DPU in the lowest slot. Decided here only, so every resource agrees.
   */
  controllingDpu(host: HostModel): SmartNicModel {
    const installVia = host.spec.os?.installVia;
    if (installVia) return this.nic(`${host.name}/${installVia}`);
    const managed = host.smartnics.map((id) => this.nic(id)).sort((a, b) => a.hardware.slot - b.hardware.slot);
    if (managed.length === 0) throw new Error(`internal: host ${host.name} has no managed DPU to reach it through`);
    return managed[0];
  }
}

/** Pulumi names: stable, because they are part of every URN in existing state. */
const names = {
  smartNic: (nic: SmartNicModel) => `${nic.host}-${nic.name}`,
  dpuOs: (nic: SmartNicModel) => `${nic.host}-${nic.name}-os`,
  onDpu: (nic: SmartNicModel, member: string) => `${nic.host}-${nic.name}-${member}`,
  host: (host: Pick<HostModel, "name">) => host.name,
  hostOs: (host: HostModel) => `${host.name}-os`,
  pair: (pair: Pick<ServicePairModel, "name">) => `pair-${pair.name}`,
  share: (share: Pick<AcceleratorShareModel, "name">) => `share-${share.name}`,
};

/**
 * The resource a JSON pointer into the stack is about, by its Pulumi name: the host, pair
 * or share it names (`/hosts/esx-01/...`, `/servicePairs/w/...`); undefined for a pointer
 * at the stack as a whole.
 */
export function declarationAt(pointer: string): string | undefined {
  const [section, name] = pointerSegments(pointer);
  if (name === undefined) return undefined;
  if (section === "hosts") return names.host({ name });
  if (section === "servicePairs") return names.pair({ name });
  if (section === "acceleratorShares") return names.share({ name });
  return undefined;
}

/** A host's DPUs with what runs on them, then the host and its OS install. */
function hostDeclarations(wiring: Wiring, host: HostModel): ResourceDeclaration[] {
  const out: ResourceDeclaration[] = [];
  for (const id of host.smartnics) out.push(...dpuDeclarations(wiring, wiring.nic(id)));
  const via = wiring.controllingDpu(host);
  const { name, serial, vendor, model, cpus, memoryGiB } = host.hardware;
  out.push({
    kind: "Host",
    name: names.host(host),
    host: host.name,
    pointer: host.pointer,
    inputs: { name, serial, vendor, model, cpus, memoryGiB, via: wiring.target(via) },
    account: wiring.account(via),
    dependsOn: [names.smartNic(via)],
  });
  if (host.spec.os && host.osImage) {
    const { image, version } = host.spec.os;
    out.push({
      kind: "HostOsInstall",
      name: names.hostOs(host),
      host: host.name,
      pointer: `${host.pointer}/os`,
      inputs: { host: name, hostSerial: serial, via: wiring.target(via), image, version, uri: host.osImage.uri, sha256: host.osImage.sha256, rollout: wiring.rollout(host.name) },
      account: wiring.account(via),
      dependsOn: [names.host(host)],
    });
  }
  return out;
}

/** The DPU's claim, its OS, its services and the devices it presents (fpga devices come with their share). */
function dpuDeclarations(wiring: Wiring, nic: SmartNicModel): ResourceDeclaration[] {
  const target = wiring.target(nic);
  const account = wiring.account(nic);
  const { vendor, model, slot, armCores, memoryGiB, factoryState } = nic.hardware;
  const out: ResourceDeclaration[] = [
    {
      kind: "SmartNic",
      name: names.smartNic(nic),
      host: nic.host,
      pointer: nic.pointer,
      inputs: {
        target,
        vendor,
        model,
        slot,
        armCores,
        memoryGiB,
        hostVendor: nic.hostVendor,
        mode: nic.spec.mode,
        hostPrivilege: nic.spec.hostPrivilege,
        factoryMode: factoryState.mode,
        ...(nic.spec.firmware ? { firmware: nic.spec.firmware } : {}),
        rollout: wiring.rollout(nic.host),
      },
      account: { ...account, factoryPassword: factoryPassword(nic.hardware) },
      dependsOn: [],
    },
  ];
  if (nic.spec.os && nic.osImage) {
    const { image, version, hostname, ntp, cluster } = nic.spec.os;
    out.push({
      kind: "DpuOs",
      name: names.dpuOs(nic),
      host: nic.host,
      pointer: `${nic.pointer}/os`,
      inputs: {
        target,
        image,
        version,
        uri: nic.osImage.uri,
        sha256: nic.osImage.sha256,
        ntp,
        ...(hostname ? { hostname } : {}),
        ...(cluster ? { cluster } : {}),
        rollout: wiring.rollout(nic.host),
      },
      account,
      dependsOn: [names.smartNic(nic)],
    });
  }
  const ready = wiring.ready(nic);
  for (const service of nic.services) {
    out.push({
      kind: "DpuService",
      name: names.onDpu(nic, service.name),
      host: nic.host,
      pointer: service.pointer,
      inputs: { target, name: service.name, service: { ...service.spec, config: service.spec.config ?? {} } },
      account,
      dependsOn: [ready],
    });
  }
  for (const device of nic.devices) {
    const { kind, function: fn, backing, sizeGiB } = device.spec;
    if (kind === "fpga") continue;
    const backingService = backing?.service ? names.onDpu(nic, backing.service) : undefined;
    out.push({
      kind: "HostDevice",
      name: names.onDpu(nic, device.name),
      host: nic.host,
      pointer: device.pointer,
      inputs: { target, name: device.name, kind, function: fn, ...(sizeGiB !== undefined ? { sizeGiB } : {}), ...(backing?.service ? { backingService: backing.service } : {}) },
      account,
      dependsOn: [backingService ?? ready],
      // From the service resource, so a replacement of the service replaces the device too.
      ...(backingService ? { inputsFrom: { backingService: { resource: backingService, output: "name" } } } : {}),
    });
  }
  return out;
}

/** A pair waits for both DPUs to be ready; it acts through the primary's account (and the secondary's, for its consent). */
function pairDeclaration(wiring: Wiring, pair: ServicePairModel): ResourceDeclaration {
  const primary = wiring.nic(pair.primary);
  const secondary = wiring.nic(pair.secondary);
  const service = pair.spec.service;
  return {
    kind: "ServicePair",
    name: names.pair(pair),
    pointer: pair.pointer,
    inputs: { name: pair.name, service: { ...service, config: service.config ?? {} }, primary: wiring.target(primary), secondary: wiring.target(secondary) },
    account: { ...wiring.account(primary), peerUsername: wiring.account(secondary).username },
    dependsOn: [wiring.ready(primary), wiring.ready(secondary)],
  };
}

/** The share between the two DPUs, then the fpga devices it backs on the consumer. */
function shareDeclarations(wiring: Wiring, share: AcceleratorShareModel): ResourceDeclaration[] {
  const source = wiring.nic(share.exporter);
  const consumer = wiring.nic(share.consumer);
  const shareName = names.share(share);
  const out: ResourceDeclaration[] = [
    {
      kind: "AcceleratorShare",
      name: shareName,
      pointer: share.pointer,
      inputs: {
        name: share.name,
        sourceHost: share.sourceHost,
        accelerator: share.accelerator.name,
        ...(share.accelerator.model ? { acceleratorModel: share.accelerator.model } : {}),
        source: wiring.target(source),
        consumer: wiring.target(consumer),
      },
      account: { ...wiring.account(source), peerUsername: wiring.account(consumer).username },
      dependsOn: [names.smartNic(source), names.smartNic(consumer)],
    },
  ];
  for (const device of consumer.devices) {
    if (device.spec.kind !== "fpga" || device.spec.backing?.accelerator !== share.name) continue;
    out.push({
      kind: "HostDevice",
      name: names.onDpu(consumer, device.name),
      host: consumer.host,
      pointer: device.pointer,
      inputs: { target: wiring.target(consumer), name: device.name, kind: "fpga", function: device.spec.function, backingAccelerator: share.name },
      account: wiring.account(consumer),
      dependsOn: [shareName],
    });
  }
  return out;
}
