/**
 * What runs on the DPUs for the hosts: services within the Arm cores and memory left after
 * the OS reserve, virtual PCIe functions presented to the host, services paired across two
 * DPUs for failover, and a host's accelerator shared with a DPU in another host.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { PlacedDpu } from "../../model/inventory";
import type { DpuState, HostDeviceKind, HostDeviceState, ServiceState, ServiceType, TaskKind, TaskRecord } from "../model";
import { HOST_DEVICE_KINDS, SERVICE_TYPES } from "../model";
import { badValue, missing, notAllowed, notFound, notInList, ServiceError } from "../service-error";
import { requireEnum, requireInt, requireName, requireString } from "./checks";
import type { SimulationCore, Transaction } from "./core";
import { DURATIONS_MS } from "./core";
import type { TaskEngine } from "./tasks";

/** What the DPU OS keeps for itself: services get the rest. */
export const OS_RESERVE = { cores: 2, memoryGiB: 4 } as const;

/** How long a consent token stays valid (DPU clock). */
export const CONSENT_TTL_MS = 300_000;

/** What a DPU consents to on its own port: the two ways another DPU's port changes it. */
export const CONSENT_PURPOSES = ["ServicePairSecondary", "AcceleratorShareConsumer"] as const;
/** One of `CONSENT_PURPOSES`. */
export type ConsentPurpose = (typeof CONSENT_PURPOSES)[number];

/** What a consent token binds: who consents, to whom, for which member, of which size or accelerator. */
interface ConsentClaims {
  /** The consenting DPU (the secondary or consumer), whose port issued the token. */
  iss: string;
  /** The DPU whose port may use it (the primary or source). */
  sub: string;
  pur: ConsentPurpose;
  /** The member Id on the requester's port. */
  id: string;
  /** ServicePairSecondary: the service type and the reservation on the consenting DPU. */
  type?: string;
  cores?: number;
  mem?: number;
  /** AcceleratorShareConsumer: the accelerator's name. */
  acc?: string;
  /** Expiry, ms since the epoch on the DPU clock. */
  exp: number;
  /** Nonce: each token is accepted once. */
  jti: string;
}

/** A consent as its port answers it (the token is only ever in this answer). */
export interface Consent {
  token: string;
  claims: ConsentClaims;
}

/** The short answer for a cross-DPU request without a valid consent: the same whether the serial exists or not. */
function noConsent(property: string, serial: string, why?: string): ServiceError {
  const message = `${property} '${serial}': no valid consent of that DPU for this request; obtain one on that DPU's own port (POST /redfish/v1/Oem/SmartFleet/Consents) and send it as ConsentToken`;
  return new ServiceError(403, "InsufficientPrivilege", [], why ? `${message} (${why})` : message);
}

/** Services, host devices, service pairs and accelerator shares of every DPU. */
export class Offloads {
  /**
   * The fleet's consent key. Every port of the emulated fleet is in this process, so they
   * share it directly; real BMCs would share a provisioned fleet key (HMAC) or sign with
   * their own key (JWS) that the others trust. Kept in memory only: a restart voids every
   * outstanding consent, which then has to be asked for again.
   */
  private readonly consentKey = randomBytes(32);
  /** Nonces of consents already used, until they expire. */
  private readonly usedConsents = new Map<string, number>();

  constructor(
    private readonly core: SimulationCore,
    private readonly tasks: TaskEngine,
  ) {
    tasks.register("service-deploy", {
      finish: (txn, task, kind) =>
        kind.restart
          ? this.finishRestart(txn, task, txn.dpu(task.serial).services.find((x) => x.id === kind.serviceId))
          : this.finishDeploy(txn, task, "service", txn.dpu(task.serial).services.find((x) => x.id === kind.serviceId)),
    });
    tasks.register("pair-deploy", {
      finish: (txn, task, kind) => this.finishDeploy(txn, task, "pair", txn.dpu(task.serial).servicePairs.find((x) => x.id === kind.pairId)),
    });
  }

  /** Cores and memory still free for services on a DPU. */
  freeCapacity(serial: string): { cores: number; memoryGiB: number } {
    const d = this.core.docOf(serial);
    const { nic } = this.core.placement(serial);
    let cores = nic.armCores - OS_RESERVE.cores;
    let memoryGiB = nic.memoryGiB - OS_RESERVE.memoryGiB;
    for (const reserved of [...d.services, ...d.servicePairs, ...d.pairMemberships]) {
      cores -= reserved.cores;
      memoryGiB -= reserved.memoryGiB;
    }
    return { cores, memoryGiB };
  }

  /**
   * A pair is protected when it is deployed, both DPUs run (none down, restarting or
   * installing), and its active side is where it was put on purpose (not failed over).
   */
  pairProtected(primarySerial: string, pairId: string): boolean {
    const pair = this.core.docOf(primarySerial).servicePairs.find((p) => p.id === pairId);
    if (!pair) return false;
    const runs = (serial: string): boolean => this.core.has(serial) && this.core.healthy(serial) && !this.core.rebooting(serial);
    return pair.state === "Enabled" && !pair.failedOver && runs(primarySerial) && runs(pair.secondarySerial);
  }

  // ---------------------------------------------------------------- services

  /** Deploys a service (a task); the service exists at once in state Deploying. */
  createService(serial: string, spec: Record<string, unknown>): { task: TaskRecord; service: ServiceState } {
    const s = serviceSpec(spec);
    return this.core.transact((txn) => {
      this.requireServiceHost(serial);
      this.requireCapacity(serial, s.cores, s.memoryGiB);
      const d = txn.dpu(serial);
      const id = s.id ?? String(d.nextId.service++);
      if (d.services.some((x) => x.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["Service", "Id", id], `service '${id}' exists`);
      // A service and a pair side are both Applications of the DPU OS, by Id.
      if (applicationIds(d).has(id)) throw new ServiceError(409, "ResourceAlreadyExists", ["Application", "Id", id], `a service pair '${id}' runs on DPU ${serial}`);
      const service: ServiceState = { id, name: s.name ?? id, serviceType: s.serviceType, version: s.version, cores: s.cores, memoryGiB: s.memoryGiB, config: s.config, storageGiB: s.storageGiB, state: "Deploying" };
      d.services.push(service);
      const task = this.tasks.start(txn, serial, `Deploy service ${id}`, { type: "service-deploy", serviceId: id }, DURATIONS_MS.serviceDeploy);
      return { task, service: { ...service } };
    });
  }

  /** Changes a service's version, size or config (capacity is re-checked). */
  patchService(serial: string, id: string, patch: Record<string, unknown>): void {
    this.core.transact((txn) => {
      const service = txn.dpu(serial).services.find((x) => x.id === id);
      if (!service) throw notFound("Service", id);
      const cores = patch.Cores === undefined ? service.cores : requireInt("Cores", patch.Cores, 1);
      const memoryGiB = patch.MemoryGiB === undefined ? service.memoryGiB : requireInt("MemoryGiB", patch.MemoryGiB, 1);
      // Only growth needs free capacity; the service's own reservation is already counted.
      this.requireCapacity(serial, cores - service.cores, memoryGiB - service.memoryGiB);
      const before = JSON.stringify([service.version, service.cores, service.memoryGiB, service.config]);
      service.cores = cores;
      service.memoryGiB = memoryGiB;
      if (patch.Version !== undefined) service.version = requireString("Version", patch.Version);
      if (patch.Name !== undefined) service.name = requireString("Name", patch.Name);
      if (patch.Config !== undefined) service.config = checkConfig(service.serviceType, patch.Config);
      if (patch.StorageGiB !== undefined) {
        // The storage it offers is a setting of the running service: no restart, but it must still hold the devices it backs.
        const storageGiB = storageOf(service.serviceType, patch.StorageGiB);
        const used = storageUsed(txn.dpu(serial), service.id);
        if (used > 0 && (storageGiB === null || storageGiB < used)) {
          throw new ServiceError(409, "ResourceInUse", [], `service '${id}' backs ${used} GiB of block devices; StorageGiB cannot go below that`);
        }
        service.storageGiB = storageGiB;
      }
      if (service.state === "Enabled" && JSON.stringify([service.version, service.cores, service.memoryGiB, service.config]) !== before) this.restartService(txn, serial, service);
    });
  }

  /** A running service takes a new version, size or config by restarting: Deploying (a task) until Enabled again. */
  private restartService(txn: Transaction, serial: string, service: ServiceState): void {
    service.state = "Deploying";
    this.tasks.start(txn, serial, `Restart service ${service.id}`, { type: "service-deploy", serviceId: service.id, restart: true }, DURATIONS_MS.serviceDeploy);
  }

  private finishRestart(txn: Transaction, task: TaskRecord, service: ServiceState | undefined): void {
    if (!service) return this.tasks.end(txn, task, "Killed", "the service was deleted");
    if (service.state === "Deploying") service.state = "Enabled";
    this.tasks.end(txn, task, "Completed", `service ${service.id} restarted`);
  }

  /** Removes a service (refused while host devices are backed by it). */
  deleteService(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.services.some((x) => x.id === id)) throw notFound("Service", id);
      if (d.hostDevices.some((h) => h.backingService === id)) throw new ServiceError(409, "ResourceInUse", [], `service '${id}' backs host devices; delete them first`);
      d.services = d.services.filter((x) => x.id !== id);
      this.killDeploys(txn, serial, (k) => k.type === "service-deploy" && k.serviceId === id, "the service was deleted");
    });
  }

  // ---------------------------------------------------------------- host devices

  /** Presents a virtual PCIe function to the host. */
  createHostDevice(serial: string, spec: Record<string, unknown>): HostDeviceState {
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const kind = requireEnum("Kind", spec.Kind, HOST_DEVICE_KINDS) as HostDeviceKind;
      if (kind === "fpga") throw notAllowed("fpga devices are created by an AcceleratorShare on the FPGA's host");
      if (d.bios.mode !== "dpu") throw notAllowed(`DPU ${serial} is in NIC mode; host devices need DPU mode`);
      const fn = spec.Function === undefined ? "vf" : requireEnum("Function", spec.Function, ["pf", "vf"] as const);
      const backing = spec.BackingService === undefined || spec.BackingService === null ? null : requireBacking(d, spec.BackingService);
      const id = spec.Id === undefined ? String(d.nextId.device++) : requireName("Id", spec.Id);
      if (d.hostDevices.some((x) => x.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["HostDevice", "Id", id], `host device '${id}' exists`);
      const name = spec.Name === undefined ? id : requireString("Name", spec.Name);
      const sizeGiB = deviceSize(kind, spec.SizeGiB);
      if (backing !== null) requireStorage(d, backing, sizeGiB ?? 0);
      const device: HostDeviceState = { id, name, kind, function: fn, backingService: backing, hostPciAddress: this.nextPciAddress(d), sizeGiB, share: null };
      d.hostDevices.push(device);
      return { ...device };
    });
  }

  /** Changes a host device's name or backing service. */
  patchHostDevice(serial: string, id: string, patch: Record<string, unknown>): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const device = d.hostDevices.find((x) => x.id === id);
      if (!device) throw notFound("HostDevice", id);
      if (patch.Name !== undefined) device.name = requireString("Name", patch.Name);
      if (patch.BackingService !== undefined) {
        const backing = patch.BackingService === null ? null : requireBacking(d, patch.BackingService);
        if (backing !== null && backing !== device.backingService) requireStorage(d, backing, device.sizeGiB ?? 0);
        device.backingService = backing;
      }
    });
  }

  /** Removes a host device (fpga devices go with their share). */
  deleteHostDevice(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const device = d.hostDevices.find((x) => x.id === id);
      if (!device) throw notFound("HostDevice", id);
      if (device.share) throw notAllowed(`device '${id}' belongs to accelerator share '${device.share.shareId}' on DPU ${device.share.sourceSerial}; delete the share there`);
      d.hostDevices = d.hostDevices.filter((x) => x.id !== id);
    });
  }

  // ---------------------------------------------------------------- service pairs

  /** Deploys a service on two DPUs (a task); created on the primary. */
  createServicePair(serial: string, spec: Record<string, unknown>): { task: TaskRecord; pairId: string } {
    const s = serviceSpec(spec);
    const secondarySerial = this.requirePeer(serial, spec);
    // Nothing about the secondary is looked at (not even whether it exists) before its consent.
    const consent = this.requireConsent(spec.ConsentToken, "Secondary/Serial", {
      iss: secondarySerial,
      sub: serial,
      pur: "ServicePairSecondary",
      id: s.id,
      type: s.serviceType,
      cores: s.cores,
      mem: s.memoryGiB,
    });
    const created = this.core.transact((txn) => {
      for (const each of [serial, secondarySerial]) this.requireServiceHost(each);
      for (const each of [serial, secondarySerial]) this.requireCapacity(each, s.cores, s.memoryGiB);
      const d = txn.dpu(serial);
      const id = s.id ?? String(d.nextId.pair++);
      if (d.servicePairs.some((p) => p.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["ServicePair", "Id", id], `service pair '${id}' exists`);
      // Each side shows the pair as an Application of its DPU OS, by Id: no service or other pair side may hold it.
      for (const each of [serial, secondarySerial]) {
        if (applicationIds(txn.dpu(each)).has(id)) throw new ServiceError(409, "ResourceAlreadyExists", ["Application", "Id", id], `DPU ${each} already runs a service or pair side '${id}'`);
      }
      const { serviceType, version, cores, memoryGiB, config } = s;
      d.servicePairs.push({ id, name: s.name ?? id, serviceType, version, cores, memoryGiB, config, secondarySerial, activeSide: "primary", state: "Deploying" });
      txn.dpu(secondarySerial).pairMemberships.push({ pairId: id, primarySerial: serial, cores, memoryGiB });
      const task = this.tasks.start(txn, serial, `Deploy service pair ${id}`, { type: "pair-deploy", pairId: id }, DURATIONS_MS.pairDeploy);
      return { task, pairId: id };
    });
    this.spendConsent(consent);
    return created;
  }

  /** Moves the active side (back to the primary restores protection) or changes the version/config. */
  patchServicePair(serial: string, id: string, patch: Record<string, unknown>): void {
    this.core.transact((txn) => {
      const pair = txn.dpu(serial).servicePairs.find((p) => p.id === id);
      if (!pair) throw notFound("ServicePair", id);
      if (patch.ActiveSide !== undefined) {
        const side = requireEnum("ActiveSide", patch.ActiveSide, ["primary", "secondary"] as const);
        const target = side === "primary" ? serial : pair.secondarySerial;
        if (!this.core.healthy(target)) throw notAllowed(`the ${side} DPU ${target} is not running`);
        pair.activeSide = side;
        pair.failedOver = false;
      }
      if (patch.Version !== undefined) pair.version = requireString("Version", patch.Version);
      if (patch.Name !== undefined) pair.name = requireString("Name", patch.Name);
      if (patch.Config !== undefined) pair.config = checkConfig(pair.serviceType, patch.Config);
    });
  }

  /**
   * A planned switch-over: the active side moves to `side` (the other DPU keeps its side, so
   * the pair stays protected while both run); refused while that side's DPU is down.
   */
  switchOver(serial: string, id: string, side: unknown): void {
    this.core.transact((txn) => {
      const pair = txn.dpu(serial).servicePairs.find((p) => p.id === id);
      if (!pair) throw notFound("ServicePair", id);
      const to = requireEnum("ActiveSide", side, ["primary", "secondary"] as const);
      const target = to === "primary" ? serial : pair.secondarySerial;
      if (pair.state !== "Enabled") throw notAllowed(`service pair '${id}' is ${pair.state}; switch it over once it is deployed`);
      if (!this.core.healthy(target) || this.core.rebooting(target)) {
        throw notAllowed(`cannot switch service pair '${id}' over to its ${to}: DPU ${target} is ${this.core.rebooting(target) ? "restarting" : "not running"}; the active side stays ${pair.activeSide}`);
      }
      pair.activeSide = to;
      pair.failedOver = false;
    });
  }

  /** Removes a pair from both DPUs. */
  deleteServicePair(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const pair = d.servicePairs.find((p) => p.id === id);
      if (!pair) throw notFound("ServicePair", id);
      d.servicePairs = d.servicePairs.filter((p) => p.id !== id);
      const sec = txn.dpu(pair.secondarySerial);
      sec.pairMemberships = sec.pairMemberships.filter((m) => !(m.pairId === id && m.primarySerial === serial));
      this.killDeploys(txn, serial, (k) => k.type === "pair-deploy" && k.pairId === id, "the pair was deleted");
    });
  }

  // ---------------------------------------------------------------- accelerator shares

  /** Presents an accelerator of this DPU's host to another host (one consumer at a time). */
  createAcceleratorShare(serial: string, spec: Record<string, unknown>): { shareId: string } {
    const accelerator = requireString("Accelerator", spec.Accelerator);
    const consumer = spec.Consumer as { Serial?: unknown } | undefined;
    if (!consumer || typeof consumer !== "object") throw missing("Consumer");
    const consumerSerial = requireString("Consumer/Serial", consumer.Serial);
    const shareId = spec.Id === undefined ? undefined : requireName("Id", spec.Id);
    if (consumerSerial === serial) throw notAllowed("the consumer must be a DPU in another host");
    // Nothing about the consumer is looked at (not even whether it exists) before its consent.
    const consent = this.requireConsent(spec.ConsentToken, "Consumer/Serial", { iss: consumerSerial, sub: serial, pur: "AcceleratorShareConsumer", id: shareId, acc: accelerator });
    const created = this.core.transact((txn) => {
      const { host } = this.core.placement(serial);
      this.requireShareable(serial, host, accelerator, consumerSerial);
      const d = txn.dpu(serial);
      const id = shareId ?? String(d.nextId.share++);
      if (d.acceleratorShares.some((s) => s.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["AcceleratorShare", "Id", id], `share '${id}' exists`);
      const c = txn.dpu(consumerSerial);
      const device: HostDeviceState = {
        id: `fpga-${serial}-${id}`,
        name: `${accelerator} from ${host.name}`,
        kind: "fpga",
        function: "pf",
        backingService: null,
        hostPciAddress: this.nextPciAddress(c),
        share: { sourceSerial: serial, shareId: id },
      };
      c.hostDevices.push(device);
      const name = spec.Name === undefined ? id : requireString("Name", spec.Name);
      d.acceleratorShares.push({ id, name, accelerator, consumerSerial, consumerDeviceId: device.id, hostPciAddress: device.hostPciAddress });
      return { shareId: id };
    });
    this.spendConsent(consent);
    return created;
  }

  /** Ends a share and removes the consumer's fpga device. */
  deleteAcceleratorShare(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const share = d.acceleratorShares.find((s) => s.id === id);
      if (!share) throw notFound("AcceleratorShare", id);
      d.acceleratorShares = d.acceleratorShares.filter((s) => s.id !== id);
      const c = txn.dpu(share.consumerSerial);
      c.hostDevices = c.hostDevices.filter((h) => h.id !== share.consumerDeviceId);
    });
  }

  /** Renames a share. */
  patchAcceleratorShare(serial: string, id: string, patch: Record<string, unknown>): void {
    this.core.transact((txn) => {
      const share = txn.dpu(serial).acceleratorShares.find((s) => s.id === id);
      if (!share) throw notFound("AcceleratorShare", id);
      if (patch.Name !== undefined) share.name = requireString("Name", patch.Name);
    });
  }

  // ---------------------------------------------------------------- consents

  /**
   * A consent of this DPU (`serial`, on its own port) to be the secondary of a pair or the
   * consumer of a share that another DPU's port creates: a token bound to exactly that
   * request, valid for `CONSENT_TTL_MS` and accepted once. What it commits this DPU to is
   * checked now (mode, OS, capacity) and again when the pair or share is created.
   */
  grantConsent(serial: string, spec: Record<string, unknown>): Consent {
    const purpose = requireEnum("Purpose", spec.Purpose, CONSENT_PURPOSES) as ConsentPurpose;
    const requester = spec.Requester as { Serial?: unknown } | undefined;
    if (!requester || typeof requester !== "object") throw missing("Requester");
    const sub = requireString("Requester/Serial", requester.Serial);
    if (sub === serial) throw notAllowed("a DPU needs no consent from itself");
    const id = requireName("ResourceId", spec.ResourceId);
    const claims: ConsentClaims = { iss: serial, sub, pur: purpose, id, exp: this.core.clock.now() + CONSENT_TTL_MS, jti: randomBytes(16).toString("base64url") };
    if (purpose === "ServicePairSecondary") {
      claims.type = requireEnum("ServiceType", spec.ServiceType, SERVICE_TYPES);
      claims.cores = requireInt("Cores", spec.Cores, 1);
      claims.mem = requireInt("MemoryGiB", spec.MemoryGiB, 1);
      this.requireServiceHost(serial);
      this.requireCapacity(serial, claims.cores, claims.mem);
    } else {
      claims.acc = requireString("Accelerator", spec.Accelerator);
      if (this.core.docOf(serial).bios.mode !== "dpu") throw notAllowed(`DPU ${serial} is in NIC mode; it cannot consume an accelerator`);
    }
    for (const key of Object.keys(spec)) {
      const allowed = ["Purpose", "Requester", "ResourceId", ...(purpose === "ServicePairSecondary" ? ["ServiceType", "Cores", "MemoryGiB"] : ["Accelerator"])];
      if (!key.startsWith("@") && !allowed.includes(key)) throw new ServiceError(400, "PropertyUnknown", [key], `${key} is not part of a ${purpose} consent; allowed: ${allowed.join(", ")}`);
    }
    const payload = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return { token: `sfc1.${payload}.${this.consentMac(payload)}`, claims };
  }

  private consentMac(payload: string): string {
    return createHmac("sha256", this.consentKey).update(`sfc1.${payload}`).digest("base64url");
  }

  /**
   * The consent `token` for exactly `wanted` (issuer, requester, purpose, member Id and size
   * or accelerator), unexpired and unused; 403 otherwise, with the same message whether the
   * named DPU exists or not. Does not spend it: `spendConsent` does, once the change is kept.
   */
  private requireConsent(token: unknown, property: string, wanted: Omit<ConsentClaims, "exp" | "jti" | "id"> & { id: string | undefined }): ConsentClaims {
    if (token === undefined || token === null) throw noConsent(property, wanted.iss);
    const claims = typeof token === "string" ? this.openConsent(token) : undefined;
    // A token that is not one, or not from the DPU the request names, says nothing more.
    if (!claims || claims.iss !== wanted.iss) throw noConsent(property, wanted.iss);
    this.pruneConsents();
    if (claims.exp <= this.core.clock.now()) throw noConsent(property, wanted.iss, "the consent has expired");
    if (this.usedConsents.has(claims.jti)) throw noConsent(property, wanted.iss, "the consent was already used");
    const fields: Array<[Exclude<keyof ConsentClaims, "iss" | "exp" | "jti">, string]> = [["sub", "requester"], ["pur", "purpose"], ["id", "Id"], ["type", "ServiceType"], ["cores", "Cores"], ["mem", "MemoryGiB"], ["acc", "Accelerator"]];
    for (const [key, name] of fields) {
      if (claims[key] !== wanted[key]) throw noConsent(property, wanted.iss, `the consent is for another ${name}`);
    }
    // Signed by this fleet for a DPU it no longer has (inventory changed): same answer.
    if (!this.core.has(claims.iss)) throw noConsent(property, wanted.iss);
    return claims;
  }

  /** The claims of a well-formed token whose MAC verifies, else undefined. */
  private openConsent(token: string): ConsentClaims | undefined {
    const [version, payload, mac, ...rest] = token.split(".");
    if (version !== "sfc1" || !payload || !mac || rest.length > 0) return undefined;
    const expected = Buffer.from(this.consentMac(payload));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as ConsentClaims;
      return typeof claims === "object" && claims !== null && typeof claims.jti === "string" && typeof claims.exp === "number" ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  /** Marks a consent used (until it would have expired anyway). */
  private spendConsent(claims: ConsentClaims): void {
    this.usedConsents.set(claims.jti, claims.exp);
  }

  private pruneConsents(): void {
    const now = this.core.clock.now();
    for (const [jti, exp] of this.usedConsents) if (exp <= now) this.usedConsents.delete(jti);
  }

  // ---------------------------------------------------------------- rules

  private requireServiceHost(serial: string): void {
    const d = this.core.docOf(serial);
    if (d.bios.mode !== "dpu") throw notAllowed(`DPU ${serial} is in NIC mode; services need DPU mode`);
    if (d.dpuOs.state !== "Enabled") throw notAllowed(`DPU ${serial} has no DPU OS (state ${d.dpuOs.state}); install one first`);
    if (!this.core.healthy(serial)) throw notAllowed(`DPU ${serial} is not running`);
  }

  private requireCapacity(serial: string, cores: number, memoryGiB: number): void {
    const free = this.freeCapacity(serial);
    if (cores > free.cores || memoryGiB > free.memoryGiB) {
      const what = `DPU ${serial}: ${free.cores} cores and ${free.memoryGiB} GiB free after the OS reserve (asked ${cores} cores, ${memoryGiB} GiB)`;
      throw new ServiceError(409, "ResourceExhaustion", [what], `not enough capacity on ${what}`);
    }
  }

  /** The secondary DPU of a pair: another DPU of the inventory. */
  private requirePeer(serial: string, spec: Record<string, unknown>): string {
    const secondary = spec.Secondary as { Serial?: unknown } | undefined;
    if (!secondary || typeof secondary !== "object") throw missing("Secondary");
    const secondarySerial = requireString("Secondary/Serial", secondary.Serial);
    if (secondarySerial === serial) throw notAllowed("primary and secondary must be different DPUs");
    return secondarySerial;
  }

  private requireShareable(serial: string, host: PlacedDpu["host"], accelerator: string, consumerSerial: string): void {
    const names = (host.accelerators ?? []).map((a) => a.name);
    if (!names.includes(accelerator)) throw notInList("Accelerator", accelerator, names);
    if (this.core.placement(consumerSerial).host.name === host.name) throw notAllowed("the consumer must be a DPU in another host");
    const taken = this.core.docOf(serial).acceleratorShares.find((s) => s.accelerator === accelerator);
    if (taken) {
      throw new ServiceError(409, "ResourceInUse", [], `accelerator '${accelerator}' is already shared with DPU ${taken.consumerSerial} (share '${taken.id}'); one consumer at a time`);
    }
    if (this.core.docOf(consumerSerial).bios.mode !== "dpu") throw notAllowed(`consumer DPU ${consumerSerial} is in NIC mode`);
  }

  /** The host's PCI address of the next function presented by this DPU: a bus per slot, 8 functions per device. */
  private nextPciAddress(d: DpuState): string {
    const slot = this.core.placement(d.serial).nic.slot;
    const n = d.nextId.pci++;
    const hex = (v: number, w: number): string => v.toString(16).padStart(w, "0");
    return `0000:${hex((0x3a + slot) & 0xff, 2)}:${hex(Math.floor(n / 8) & 0x1f, 2)}.${n % 8}`;
  }

  /** A deploy still running for something deleted ends Killed. */
  private killDeploys(txn: Transaction, serial: string, matches: (kind: TaskKind) => boolean, why: string): void {
    for (const t of this.tasks.running(serial)) if (matches(t.kind)) this.tasks.end(txn, t, "Killed", why);
  }

  /** A service or pair deployed: Enabled, and the task monitor answers 201 with its Location. */
  private finishDeploy(txn: Transaction, task: TaskRecord, what: "service" | "pair", target: { id: string; state: string } | undefined): void {
    if (!target) return this.tasks.end(txn, task, "Killed", `the ${what} was deleted`);
    target.state = "Enabled";
    const uri = `/redfish/v1/Oem/SmartFleet/${what === "service" ? "Services" : "ServicePairs"}/${target.id}`;
    const label = what === "service" ? "service" : "service pair";
    this.tasks.end(txn, task, "Completed", `${label} ${target.id} deployed`, { status: 201, headers: { Location: uri }, body: { "@odata.id": uri } });
  }
}

/** The Ids of the Applications a DPU OS shows: its services and the pairs it is a side of. */
function applicationIds(d: DpuState): Set<string> {
  return new Set([...d.services.map((s) => s.id), ...d.servicePairs.map((p) => p.id), ...d.pairMemberships.map((m) => m.pairId)]);
}

/** GiB of block devices a service backs. */
function storageUsed(d: DpuState, serviceId: string): number {
  return d.hostDevices.filter((h) => h.backingService === serviceId).reduce((sum, h) => sum + (h.sizeGiB ?? 0), 0);
}

/** 409 ResourceExhaustion when `sizeGiB` more does not fit in the storage the service offers (a service that offers none takes no sized device). */
function requireStorage(d: DpuState, serviceId: string, sizeGiB: number): void {
  if (sizeGiB === 0) return;
  const service = d.services.find((s) => s.id === serviceId);
  const offered = service?.storageGiB ?? null;
  if (offered === null) throw new ServiceError(409, "ResourceExhaustion", [serviceId], `service '${serviceId}' offers no storage for a ${sizeGiB} GiB device`);
  const free = offered - storageUsed(d, serviceId);
  if (sizeGiB > free) throw new ServiceError(409, "ResourceExhaustion", [serviceId], `service '${serviceId}' has ${free} GiB of its ${offered} GiB free; the device needs ${sizeGiB} GiB`);
}

/** `StorageGiB` of a service: a whole number of GiB for vsan-storage, null (or absent) for none. */
function storageOf(type: ServiceType, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (type !== "vsan-storage") throw new ServiceError(400, "PropertyValueConflict", ["StorageGiB", "ServiceType"], `StorageGiB is for vsan-storage services; this one is ${type}`);
  return requireInt("StorageGiB", value, 1);
}

/** The capacity of a new device: a whole number of GiB for block devices (optional: null), refused for other kinds. */
function deviceSize(kind: HostDeviceKind, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (kind !== "nvme" && kind !== "virtio-blk") throw new ServiceError(400, "PropertyValueConflict", ["SizeGiB", "Kind"], `SizeGiB is for nvme and virtio-blk devices; this one is ${kind}`);
  return requireInt("SizeGiB", value, 1);
}

/** Whether a host device may be backed by `value`: a service of the same DPU. */
function requireBacking(d: DpuState, value: unknown): string {
  const b = requireString("BackingService", value);
  if (!d.services.some((x) => x.id === b)) throw notInList("BackingService", b, d.services.map((x) => x.id));
  return b;
}

/** The typed config of each service type: allowed keys and their value checks. */
const CONFIG_RULES: Record<ServiceType, Record<string, (v: unknown) => boolean>> = {
  "nsx-controller": { managerAddress: isString, transportZone: isString },
  "nsx-dfw": { defaultAction: (v) => v === "allow" || v === "drop", logging: isBoolean },
  "vsan-storage": { diskGroup: isString, dedupe: isBoolean },
  "vsan-witness": { siteName: isString },
  firewall: { defaultAction: (v) => v === "allow" || v === "drop", rules: (v) => Array.isArray(v) && v.every(isString) },
  "ids-ips": { mode: (v) => v === "detect" || v === "prevent", signatureSet: isString },
  "sdwan-controller": { orchestrator: isString, region: isString },
};

function isString(v: unknown): boolean {
  return typeof v === "string";
}

function isBoolean(v: unknown): boolean {
  return typeof v === "boolean";
}

function checkConfig(type: ServiceType, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw badValue("Config", value, "an object");
  const rules = CONFIG_RULES[type];
  for (const [k, v] of Object.entries(value)) {
    const rule = rules[k];
    if (!rule) throw new ServiceError(400, "PropertyUnknown", [`Config/${k}`], `Config of ${type} has no '${k}'; allowed: ${Object.keys(rules).join(", ")}`);
    if (!rule(v)) throw badValue(`Config/${k}`, v, "a valid value for this service type");
  }
  return { ...(value as Record<string, unknown>) };
}

/** A service (or pair) as a client specifies it, checked. */
function serviceSpec(spec: Record<string, unknown>): {
  id: string | undefined;
  name: string | undefined;
  serviceType: ServiceType;
  version: string;
  cores: number;
  memoryGiB: number;
  config: Record<string, unknown>;
  storageGiB: number | null;
} {
  const serviceType = requireEnum("ServiceType", spec.ServiceType, SERVICE_TYPES) as ServiceType;
  return {
    id: spec.Id === undefined ? undefined : requireName("Id", spec.Id),
    name: spec.Name === undefined ? undefined : requireString("Name", spec.Name),
    serviceType,
    version: requireString("Version", spec.Version),
    cores: requireInt("Cores", spec.Cores, 1),
    memoryGiB: requireInt("MemoryGiB", spec.MemoryGiB, 1),
    config: spec.Config === undefined ? {} : checkConfig(serviceType, spec.Config),
    storageGiB: storageOf(serviceType, spec.StorageGiB),
  };
}
