/**
 * Finds every resource the providers use by following links from `/redfish/v1`, never
 * by hard-coded paths, so the same code drives the emulated ports (NVIDIA, AMD and
 * Intel identities) and a real BlueField BMC. Results are cached per client: resource
 * URIs of a port do not change while a process runs.
 */

import { type RedfishClient } from "./client";
import { asRecord, linkOf } from "./odata";
import { RedfishError } from "./errors";
import { fromRecentSnapshot } from "./snapshot";

/** Firmware items by the role they play on a DPU. */
export interface FirmwareLocations {
  /** The DPU operating system image (`DPU_OS`, `DPU_Image`, `IPU_OS` ...). */
  os?: string;
  /** The NIC firmware (`DPU_NIC` ...). */
  nic?: string;
  /** The BMC firmware (the manager's `ActiveSoftwareImage`). */
  bmc?: string;
}

/** The project's OEM collections (`Oem.SmartFleet` on the service root); absent on real BMCs. */
export interface OemLocations {
  /** The DPU OS singleton resource. */
  dpuOs?: string;
  /** Offloaded services collection. */
  services?: string;
  /** Host devices collection. */
  hostDevices?: string;
  /** Service pairs collection. */
  servicePairs?: string;
  /** Accelerator shares collection. */
  acceleratorShares?: string;
}

/**
 * The DMTF resources that show what the OEM collections manage (PROTOCOL.md "Standard
 * view"); each is absent on a port that does not implement it, and readers then fall back
 * to the OEM collection.
 */
export interface StandardLocations {
  /** The DPU system's `OperatingSystem` (the DPU OS). */
  operatingSystem?: string;
  /** Its `Applications` collection (the offloaded services). */
  applications?: string;
  /** The card adapter's `NetworkDeviceFunctions` collection (the vNICs). */
  networkDeviceFunctions?: string;
  /** The `Volumes` collections of the service root's `Storage` (the block devices), in order. */
  volumes: string[];
}

/** `UpdateService.SimpleUpdate` as the port offers it. */
export interface SimpleUpdateLocation {
  /** The action's target URI. */
  target: string;
  /** Allowed `TransferProtocol` values (flattened; empty when the port does not restrict them). */
  transferProtocols: string[];
}

/** Where everything is on one management port. Optional members are absent on ports that lack them. */
export interface Locations {
  /** The systems collection (one `$expand` read returns the DPU and host systems). */
  systems?: string;
  /** The DPU's own (Arm) computer system. */
  dpuSystem: string;
  /** The host server the DPU sits in, when the port exposes it. */
  hostSystem?: string;
  /** The DPU system's `ComputerSystem.Reset` target. */
  dpuReset?: string;
  /** The host system's `ComputerSystem.Reset` target. */
  hostReset?: string;
  /** The BMC manager. */
  manager?: string;
  /** The DPU card chassis (`ChassisType: Card`). */
  cardChassis?: string;
  /** The DPU system's Bios resource. */
  bios?: string;
  /** Where Bios changes are PATCHed (`@Redfish.Settings.SettingsObject`). */
  biosSettings?: string;
  /** NVIDIA's `Oem/Nvidia` resource of the DPU system (mirrors the mode), when linked. */
  nvidiaOem?: string;
  /** The virtual CD drive. */
  virtualMedia?: string;
  /** `VirtualMedia.InsertMedia` target of the CD. */
  insertMedia?: string;
  /** `VirtualMedia.EjectMedia` target of the CD. */
  ejectMedia?: string;
  /** The UpdateService. */
  updateService?: string;
  /** The SimpleUpdate action, when offered. */
  simpleUpdate?: SimpleUpdateLocation;
  /** The firmware inventory collection. */
  firmwareInventory?: string;
  /** Firmware inventory items by role. */
  firmware: FirmwareLocations;
  /** The AccountService. */
  accountService?: string;
  /** The session collection. */
  sessions?: string;
  /** The OEM collections. */
  oem: OemLocations;
  /** The standard resources that mirror them. */
  standard: StandardLocations;
}

type Body = Record<string, unknown>;
interface Member {
  uri: string;
  body: Body;
}

const cache = new WeakMap<RedfishClient, Promise<Locations>>();

/**
 * Locates every resource on the client's port (cached per client; `refresh` forces a
 * new walk). Fails with `RedfishError` only when no DPU system can be found.
 */
export function locate(client: RedfishClient, opts: { refresh?: boolean } = {}): Promise<Locations> {
  let found = opts.refresh ? undefined : cache.get(client);
  if (!found) {
    // Locations do not go stale, so the walk may read from a port snapshot: one request
    // on a port that expands (see snapshot.ts), a few per collection on one that does not.
    found = fromRecentSnapshot(() => walk(client), { take: true });
    cache.set(client, found);
    found.catch(() => cache.delete(client));
  }
  return found;
}

async function walk(client: RedfishClient): Promise<Locations> {
  const root = await client.serviceRoot();
  const [systems, managers, chassis, update] = await Promise.all([
    members(client, linkOf(root.Systems)),
    members(client, linkOf(root.Managers)),
    members(client, linkOf(root.Chassis)),
    readOptional(client, linkOf(root.UpdateService)),
  ]);
  const cards = chassis.filter((c) => c.body.ChassisType === "Card");
  const dpu = pickDpuSystem(systems, cards);
  if (!dpu) {
    throw new RedfishError("no DPU computer system found by following /redfish/v1/Systems", {
      uri: linkOf(root.Systems) ?? "/redfish/v1",
      endpoint: client.endpoint,
    });
  }
  const host = systems.find((s) => s !== dpu && s.body.SystemType === "Physical");
  const manager = pickManager(root, managers, dpu.uri);
  const cardChassis = (cards.find((c) => linksTo(asRecord(c.body.Links).ComputerSystems, dpu.uri)) ?? cards[0])?.uri;
  const [bios, media, firmware, standard] = await Promise.all([
    readOptional(client, linkOf(dpu.body.Bios)),
    findCd(client, [manager?.body, host?.body, dpu.body]),
    locateFirmware(client, update?.body, manager?.body),
    locateStandard(client, root, dpu.body, cards.find((c) => c.uri === cardChassis)?.body),
  ]);
  const oem = asRecord(asRecord(root.Oem).SmartFleet);
  return {
    systems: linkOf(root.Systems),
    dpuSystem: dpu.uri,
    hostSystem: host?.uri,
    dpuReset: actionTarget(dpu.body, "#ComputerSystem.Reset"),
    hostReset: host ? actionTarget(host.body, "#ComputerSystem.Reset") : undefined,
    manager: manager?.uri,
    cardChassis,
    bios: bios?.uri,
    biosSettings: bios ? linkOf(asRecord(bios.body["@Redfish.Settings"]).SettingsObject) : undefined,
    nvidiaOem: linkOf(asRecord(dpu.body.Oem).Nvidia),
    virtualMedia: media?.uri,
    insertMedia: media ? actionTarget(media.body, "#VirtualMedia.InsertMedia") : undefined,
    ejectMedia: media ? actionTarget(media.body, "#VirtualMedia.EjectMedia") : undefined,
    updateService: update?.uri,
    simpleUpdate: update ? simpleUpdateOf(update.body) : undefined,
    firmwareInventory: update ? linkOf(update.body.FirmwareInventory) : undefined,
    firmware,
    accountService: linkOf(root.AccountService),
    sessions: linkOf(asRecord(root.Links).Sessions),
    oem: {
      dpuOs: linkOf(oem.DpuOs),
      services: linkOf(oem.Services),
      hostDevices: linkOf(oem.HostDevices),
      servicePairs: linkOf(oem.ServicePairs),
      acceleratorShares: linkOf(oem.AcceleratorShares),
    },
    standard,
  };
}

/**
 * The standard view: the DPU system's OperatingSystem and its Applications, the card
 * adapter's NetworkDeviceFunctions (the adapter with that collection, else the first),
 * and the Volumes of every storage subsystem the service root lists.
 */
async function locateStandard(client: RedfishClient, root: Body, dpu: Body, card: Body | undefined): Promise<StandardLocations> {
  // A port may link what it does not serve (a 404): that part of the view is absent, not an error.
  const [os, adapters, storage] = await Promise.all([
    absentOn404(readOptional(client, linkOf(dpu.OperatingSystem)), undefined),
    absentOn404(members(client, linkOf(card?.NetworkAdapters)), []),
    absentOn404(members(client, linkOf(root.Storage)), []),
  ]);
  const adapter = adapters.find((a) => linkOf(a.body.NetworkDeviceFunctions)) ?? adapters[0];
  return {
    operatingSystem: os?.uri,
    applications: os ? linkOf(os.body.Applications) : undefined,
    networkDeviceFunctions: adapter ? linkOf(adapter.body.NetworkDeviceFunctions) : undefined,
    volumes: storage.map((s) => linkOf(s.body.Volumes)).filter((v): v is string => v !== undefined),
  };
}

async function absentOn404<T>(read: Promise<T>, absent: T): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof RedfishError && error.status === 404) return absent;
    throw error;
  }
}

/**
 * The DPU's system: the one typed `DPU`; failing that (a real BlueField BMC reports its
 * Arm system as `Physical` and exposes no host), the system the card chassis contains,
 * or the only system there is.
 */
function pickDpuSystem(systems: Member[], cards: Member[]): Member | undefined {
  const typed = systems.find((s) => s.body.SystemType === "DPU");
  if (typed) return typed;
  const onCard = systems.find((s) => cards.some((c) => linksTo(asRecord(c.body.Links).ComputerSystems, s.uri)));
  return onCard ?? (systems.length === 1 ? systems[0] : undefined);
}

function pickManager(root: Body, managers: Member[], dpuUri: string): Member | undefined {
  const providing = linkOf(asRecord(root.Links).ManagerProvidingService);
  return (
    managers.find((m) => m.uri === providing) ??
    managers.find((m) => linksTo(asRecord(m.body.Links).ManagerForServers, dpuUri)) ??
    managers[0]
  );
}

/** The virtual CD: a VirtualMedia member whose MediaTypes include CD/DVD (or whose Id is CD). */
async function findCd(client: RedfishClient, owners: Array<Body | undefined>): Promise<Member | undefined> {
  for (const owner of owners) {
    const collection = owner ? linkOf(owner.VirtualMedia) : undefined;
    if (!collection) continue;
    const media = await members(client, collection);
    const cd = media.find((m) => {
      const types = Array.isArray(m.body.MediaTypes) ? m.body.MediaTypes : [];
      return types.includes("CD") || types.includes("DVD") || m.body.Id === "CD";
    });
    if (cd) return cd;
  }
  return undefined;
}

async function locateFirmware(client: RedfishClient, update: Body | undefined, manager: Body | undefined): Promise<FirmwareLocations> {
  const inventory = update ? linkOf(update.FirmwareInventory) : undefined;
  const items = inventory ? await members(client, inventory) : [];
  const bmc =
    linkOf(asRecord(manager?.Links).ActiveSoftwareImage) ??
    items.find((i) => relatesTo(i, /\/Managers\//))?.uri ??
    firstMatch(items, [/bmc/i, /(^|_)IMC(_|$)/i], /\bBMC firmware\b/i);
  // Golden (recovery) images and root-of-trust firmware are never what a role means.
  const candidates = items.filter((i) => i.uri !== bmc && !/golden|erot|backup|recovery/i.test(idOf(i)));
  return {
    os: firstMatch(candidates, [/^(DPU|IPU)_OS$/i, /(^|_)OS$/i, /^DPU_Image$/i, /(^|_)OS(_|$)/i], /operating system/i),
    nic:
      candidates.find((i) => relatesTo(i, /\/NetworkAdapters\//))?.uri ??
      firstMatch(candidates, [/^DPU_NIC$/i, /(^|_)NIC$/i, /(^|_)NVM$/i, /^DSC_Firmware$/i, /(^|_)NIC(_|$)/i], /\bNIC firmware\b/i),
    bmc,
  };
}

/** True when a firmware item's `RelatedItem` links to a resource whose URI matches `pattern`. */
function relatesTo(item: Member, pattern: RegExp): boolean {
  const related = item.body.RelatedItem;
  return Array.isArray(related) && related.some((r) => pattern.test(linkOf(r) ?? ""));
}

/**
 * The first item whose Id matches the earliest pattern (patterns go from most to least
 * specific), else whose Name says what it is ("DPU operating system", "NIC firmware").
 */
function firstMatch(items: Member[], patterns: RegExp[], name?: RegExp): string | undefined {
  for (const pattern of patterns) {
    const hit = items.find((i) => pattern.test(idOf(i)));
    if (hit) return hit.uri;
  }
  return name ? items.find((i) => typeof i.body.Name === "string" && name.test(i.body.Name))?.uri : undefined;
}

function idOf(item: Member): string {
  return typeof item.body.Id === "string" && item.body.Id !== "" ? item.body.Id : (item.uri.split("/").pop() ?? "");
}

/**
 * SimpleUpdate with its allowed transfer protocols. Real BlueField BMCs nest the
 * allowable values one array too deep (`[["SCP"]]`); the list is flattened.
 */
function simpleUpdateOf(update: Body): SimpleUpdateLocation | undefined {
  const action = asRecord(asRecord(update.Actions)["#UpdateService.SimpleUpdate"]);
  if (typeof action.target !== "string") return undefined;
  const allowed = action["TransferProtocol@Redfish.AllowableValues"];
  const flat = Array.isArray(allowed) ? allowed.flat(Infinity).filter((v): v is string => typeof v === "string") : [];
  return { target: action.target, transferProtocols: flat };
}

/** True when SimpleUpdate accepts `protocol` (a port that lists no restriction accepts any). */
export function acceptsTransferProtocol(update: SimpleUpdateLocation | undefined, protocol: string): boolean {
  if (!update) return false;
  return update.transferProtocols.length === 0 || update.transferProtocols.some((p) => p.toUpperCase() === protocol.toUpperCase());
}

function actionTarget(body: Body, action: string): string | undefined {
  const target = asRecord(asRecord(body.Actions)[action]).target;
  return typeof target === "string" ? target : undefined;
}

function linksTo(links: unknown, uri: string): boolean {
  return Array.isArray(links) && links.some((l) => linkOf(l) === uri);
}

async function members(client: RedfishClient, collection: string | undefined): Promise<Member[]> {
  if (!collection) return [];
  const read = await client.getCollection<Body>(collection);
  return read.map((m) => ({ uri: m.uri, body: asRecord(m.body) }));
}

async function readOptional(client: RedfishClient, uri: string | undefined): Promise<Member | undefined> {
  if (!uri) return undefined;
  const { body } = await client.get<Body>(uri);
  return { uri, body: asRecord(body) };
}
