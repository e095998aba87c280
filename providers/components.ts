/**
 * Component resources a team uses to declare DPU fleets from TypeScript (the YAML
 * program in `stacks/index.ts` uses the same classes): one `ManagedHost` per server
 * with its DPUs, their OS, services and devices as children, plus `declareFleet`, which
 * adds service pairs and accelerator shares with explicit dependencies on both sides.
 */
import * as pulumi from "@pulumi/pulumi";
import type { DeviceKind, DpuTarget, HostPrivilege, Mode, PciFunction, Service } from "../schemas/generated/common";
import type { SmartNicInputs } from "../schemas/generated/smartnic-inputs";
import { AcceleratorShare } from "./accelerator-share";
import { DpuOs } from "./dpu-os";
import { DpuService } from "./dpu-service";
import { Host } from "./host";
import { HostDevice } from "./host-device";
import { HostOsInstall } from "./host-os-install";
import { ServicePair } from "./service-pair";
import { SmartNic } from "./smart-nic";

/** An image the management ports can pull. */
export interface ImageRef {
  /** Image name. */
  image: string;
  /** Image version. */
  version: string;
  /** Where the port pulls it from. */
  uri: string;
  /** Its expected SHA-256. */
  sha256: string;
}

/** A device a DPU presents to its host. */
export interface DeviceDeclaration {
  /** What the host sees. */
  kind: DeviceKind;
  /** Physical or virtual function (default vf). */
  function?: PciFunction;
  /** A service on the same DPU backing it. */
  backingService?: string;
  /** An accelerator share (by name) backing an fpga device. */
  backingAccelerator?: string;
}

/** A DPU in a host, as it should be. */
export interface DpuDeclaration {
  /** Name within the host. */
  name: string;
  /** Where its management port is and its serial. */
  target: DpuTarget;
  /** Hardware facts from the inventory. */
  hardware: Pick<SmartNicInputs, "vendor" | "model" | "armCores" | "memoryGiB"> & { slot?: number };
  /** Factory account user name. */
  username: string;
  /** Factory account password (made a secret here). */
  factoryPassword: pulumi.Input<string>;
  /** Desired mode. */
  mode: Mode;
  /** Desired host privilege. */
  hostPrivilege: HostPrivilege;
  /** The mode it ships in. */
  factoryMode?: Mode;
  /** Desired NIC firmware version. */
  firmware?: string;
  /** The DPU OS. */
  os?: ImageRef & { hostname?: string; ntp?: string[]; cluster?: string };
  /** Services by name. */
  services?: Record<string, Service>;
  /** Devices by name. */
  devices?: Record<string, DeviceDeclaration>;
}

/** A server, as it should be. */
export interface ManagedHostArgs {
  /** Host name. */
  name: string;
  /** Serial number. */
  serial: string;
  /** Vendor, model and size from the inventory. */
  hardware: { vendor: "dell" | "hpe" | "lenovo" | "other"; model: string; cpus: number; memoryGiB: number };
  /** Its DPUs (at least one: power and boot go through them). */
  smartnics: DpuDeclaration[];
  /** The host OS, installed through the DPU named in `installVia`. */
  os?: ImageRef & { installVia: string };
  /** The management password every DPU is claimed with (a secret). */
  password: pulumi.Input<string>;
  /** Whether mode changes and OS installs may power-cycle the host. */
  allowHostPowerCycle: boolean;
}

/** One server with its DPUs, their OS, services and devices as children. */
export class ManagedHost extends pulumi.ComponentResource {
  /** The host resource. */
  readonly host: Host;
  /** SmartNic resources by DPU name. */
  readonly smartnics: Record<string, SmartNic> = {};
  /** DPU OS resources by DPU name. */
  readonly dpuOs: Record<string, DpuOs> = {};
  /** Services by `dpu/service`. */
  readonly services: Record<string, DpuService> = {};
  /** Devices by `dpu/device` (fpga devices are added by `presentSharedFpga`). */
  readonly devices: Record<string, HostDevice> = {};
  /** The host OS install, when declared. */
  readonly hostOs?: HostOsInstall;

  private readonly args: ManagedHostArgs;

  /** Declares the host and everything on its DPUs except fpga devices (they need their share first). */
  constructor(name: string, args: ManagedHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("smartfleet:fleet:ManagedHost", name, {}, opts);
    this.args = args;
    const password = pulumi.secret(args.password);
    const child = { parent: this };
    for (const nic of args.smartnics) {
      const nicName = `${args.name}-${nic.name}`;
      const smartNic = new SmartNic(
        nicName,
        {
          target: nic.target,
          ...nic.hardware,
          hostVendor: args.hardware.vendor,
          mode: nic.mode,
          hostPrivilege: nic.hostPrivilege,
          factoryMode: nic.factoryMode ?? "dpu",
          ...(nic.firmware ? { firmware: nic.firmware } : {}),
          allowHostPowerCycle: args.allowHostPowerCycle,
          username: nic.username,
          password,
          factoryPassword: pulumi.secret(nic.factoryPassword),
        },
        child,
      );
      this.smartnics[nic.name] = smartNic;
      const access = { username: nic.username, password };
      let ready: pulumi.Resource = smartNic;
      if (nic.os) {
        const { image, version, uri, sha256, hostname, ntp, cluster } = nic.os;
        ready = this.dpuOs[nic.name] = new DpuOs(
          `${nicName}-os`,
          { target: nic.target, image, version, uri, sha256, ntp: ntp ?? [], ...(hostname ? { hostname } : {}), ...(cluster ? { cluster } : {}), ...access },
          { ...child, dependsOn: [smartNic] },
        );
      }
      for (const [serviceName, service] of Object.entries(nic.services ?? {})) {
        this.services[`${nic.name}/${serviceName}`] = new DpuService(
          `${nicName}-${serviceName}`,
          { target: nic.target, name: serviceName, service: { ...service, config: service.config ?? {} }, ...access },
          { ...child, dependsOn: [ready] },
        );
      }
      for (const [deviceName, device] of Object.entries(nic.devices ?? {})) {
        if (device.kind === "fpga") continue;
        const backing = device.backingService ? this.services[`${nic.name}/${device.backingService}`] : undefined;
        this.devices[`${nic.name}/${deviceName}`] = new HostDevice(
          `${nicName}-${deviceName}`,
          {
            target: nic.target,
            name: deviceName,
            kind: device.kind,
            function: device.function ?? "vf",
            // From the service resource, so a replacement of the service replaces the device too.
            ...(device.backingService ? { backingService: backing ? backing.name : device.backingService } : {}),
            ...access,
          },
          { ...child, dependsOn: [backing ?? ready] },
        );
      }
    }
    const via = args.smartnics.find((n) => n.name === args.os?.installVia) ?? args.smartnics[0];
    if (!via) throw new Error(`host ${args.name} has no DPU to reach it through`);
    const viaAccess = { username: via.username, password };
    this.host = new Host(
      args.name,
      { name: args.name, serial: args.serial, ...args.hardware, via: via.target, ...viaAccess },
      { ...child, dependsOn: [this.smartnics[via.name]] },
    );
    if (args.os) {
      const { image, version, uri, sha256 } = args.os;
      this.hostOs = new HostOsInstall(
        `${args.name}-os`,
        { host: args.name, hostSerial: args.serial, via: via.target, image, version, uri, sha256, allowHostPowerCycle: args.allowHostPowerCycle, ...viaAccess },
        { ...child, dependsOn: [this.host] },
      );
    }
    this.registerOutputs({});
  }

  /** The DPU declaration of `name`; fails clearly for an unknown one. */
  dpu(name: string): DpuDeclaration {
    const found = this.args.smartnics.find((n) => n.name === name);
    if (!found) throw new Error(`host ${this.args.name} has no DPU ${name}`);
    return found;
  }

  /** Declares the fpga devices backed by `share` on the DPU that consumes it. */
  presentSharedFpga(share: AcceleratorShare, shareName: string, consumerDpu: string): void {
    const nic = this.dpu(consumerDpu);
    for (const [deviceName, device] of Object.entries(nic.devices ?? {})) {
      if (device.kind !== "fpga" || device.backingAccelerator !== shareName) continue;
      this.devices[`${nic.name}/${deviceName}`] = new HostDevice(
        `${this.args.name}-${nic.name}-${deviceName}`,
        {
          target: nic.target,
          name: deviceName,
          kind: "fpga",
          function: device.function ?? "pf",
          backingAccelerator: shareName,
          username: nic.username,
          password: pulumi.secret(this.args.password),
        },
        { parent: this, dependsOn: [share] },
      );
    }
  }

  /** Per-host summary: DPUs with mode and OS, services with state, devices with host PCI addresses. */
  summary(): pulumi.Output<HostSummary> {
    const nics = Object.entries(this.smartnics).map(([name, nic]) =>
      pulumi.all([nic.mode, nic.hostPrivilege, this.dpuOs[name]?.version]).apply(([mode, hostPrivilege, os]) => ({ name, mode, hostPrivilege, os: os ?? null })),
    );
    const services = Object.entries(this.services).map(([name, s]) => s.state.apply((state) => ({ name, state })));
    const devices = Object.entries(this.devices).map(([name, d]) => d.hostPciAddress.apply((hostPciAddress) => ({ name, hostPciAddress })));
    return pulumi
      .all([pulumi.all(nics), pulumi.all(services), pulumi.all(devices), this.hostOs?.version ?? pulumi.output(undefined), this.host.powerState])
      .apply(([nicList, serviceList, deviceList, hostOs, powerState]) => ({
        powerState,
        hostOs: hostOs ?? null,
        smartnics: nicList,
        services: serviceList,
        hostPciAddresses: Object.fromEntries(deviceList.map((d) => [d.name, d.hostPciAddress])),
      }));
  }
}

/** What the program exports per host. */
export interface HostSummary {
  /** `On` or `Off`. */
  powerState: string;
  /** The host OS version, or null. */
  hostOs: string | null;
  /** DPUs with mode, privilege and OS version. */
  smartnics: Array<{ name: string; mode: string; hostPrivilege: string; os: string | null }>;
  /** Services (`dpu/service`) with their state. */
  services: Array<{ name: string; state: string }>;
  /** Host PCI address per device (`dpu/device`). */
  hostPciAddresses: Record<string, string>;
}

/** A service pair between two DPUs, by `host/dpu`. */
export interface PairDeclaration {
  /** The service both sides run. */
  service: Service;
  /** `host/dpu` of the primary. */
  primary: string;
  /** `host/dpu` of the secondary. */
  secondary: string;
}

/** An accelerator share: the accelerator's host and name, the exporting DPU and the consuming DPU (`host/dpu`). */
export interface ShareDeclaration {
  /** Host holding the accelerator. */
  sourceHost: string;
  /** Accelerator name in that host. */
  accelerator: string;
  /** Accelerator model, when known. */
  acceleratorModel?: string;
  /** `host/dpu` exporting it. */
  exporter: string;
  /** `host/dpu` consuming it. */
  consumer: string;
}

/** A whole fleet: hosts, then service pairs and accelerator shares across them. */
export interface FleetDeclaration {
  /** Hosts. */
  hosts: Omit<ManagedHostArgs, "password" | "allowHostPowerCycle">[];
  /** Service pairs by name. */
  servicePairs?: Record<string, PairDeclaration>;
  /** Accelerator shares by name. */
  acceleratorShares?: Record<string, ShareDeclaration>;
  /** The management password (a secret). */
  password: pulumi.Input<string>;
  /** Whether mode changes and OS installs may power-cycle hosts. */
  allowHostPowerCycle: boolean;
}

/** The declared resources of a fleet. */
export interface DeclaredFleet {
  /** Host components by name. */
  hosts: Record<string, ManagedHost>;
  /** Service pairs by name. */
  servicePairs: Record<string, ServicePair>;
  /** Accelerator shares by name. */
  acceleratorShares: Record<string, AcceleratorShare>;
}

/** Declares every host, then pairs (depending on both DPUs' OS) and shares (depending on both DPUs). */
export function declareFleet(fleet: FleetDeclaration, opts?: pulumi.ComponentResourceOptions): DeclaredFleet {
  const hosts: Record<string, ManagedHost> = {};
  for (const host of fleet.hosts) {
    hosts[host.name] = new ManagedHost(host.name, { ...host, password: fleet.password, allowHostPowerCycle: fleet.allowHostPowerCycle }, opts);
  }
  const side = (ref: string) => {
    const [hostName, dpuName] = ref.split("/");
    const host = hosts[hostName];
    if (!host) throw new Error(`no host ${hostName} in this fleet (${ref})`);
    const dpu = host.dpu(dpuName);
    return { host, dpu, ready: host.dpuOs[dpuName] ?? host.smartnics[dpuName] };
  };
  const password = pulumi.secret(fleet.password);
  const servicePairs: Record<string, ServicePair> = {};
  for (const [name, pair] of Object.entries(fleet.servicePairs ?? {})) {
    const primary = side(pair.primary);
    const secondary = side(pair.secondary);
    servicePairs[name] = new ServicePair(
      `pair-${name}`,
      { name, service: { ...pair.service, config: pair.service.config ?? {} }, primary: primary.dpu.target, secondary: secondary.dpu.target, username: primary.dpu.username, password },
      { ...opts, dependsOn: [primary.ready, secondary.ready] },
    );
  }
  const acceleratorShares: Record<string, AcceleratorShare> = {};
  for (const [name, share] of Object.entries(fleet.acceleratorShares ?? {})) {
    const source = side(share.exporter);
    const consumer = side(share.consumer);
    acceleratorShares[name] = new AcceleratorShare(
      `share-${name}`,
      {
        name,
        sourceHost: share.sourceHost,
        accelerator: share.accelerator,
        ...(share.acceleratorModel ? { acceleratorModel: share.acceleratorModel } : {}),
        source: source.dpu.target,
        consumer: consumer.dpu.target,
        username: source.dpu.username,
        password,
      },
      { ...opts, dependsOn: [source.host.smartnics[source.dpu.name], consumer.host.smartnics[consumer.dpu.name]] },
    );
    consumer.host.presentSharedFpga(acceleratorShares[name], name, consumer.dpu.name);
  }
  return { hosts, servicePairs, acceleratorShares };
}
