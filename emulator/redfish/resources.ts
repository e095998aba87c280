/**
 * Renders the Redfish resources of one DPU port from the simulation's state. Pure
 * functions of (simulation, serial): no side effects, so GET, ETag and If-Match agree.
 */
import type { Simulation } from "../simulation";
import type { Consent } from "../simulation/offloads";
import type { AcceleratorShareState, AccountState, DpuState, HostDeviceState, ServicePairState, ServiceState, SessionState, TaskRecord } from "../model";
import { MODEL_NAMES, vendorIds, type VendorIds } from "./vendor";
import { MAX_EXPAND_LEVELS } from "./expand";
import { hostSystemPcie, networkDeviceFunctionsUri, offloadedFunctions } from "./device-functions";
import { operatingSystemUri, osSoftwareId } from "./operating-system";

/** A JSON resource body. */
export type Resource = Record<string, unknown>;

/** What a renderer needs. */
export interface RenderContext {
  /** The simulation. */
  sim: Simulation;
  /** DPU serial. */
  serial: string;
  /** Vendor ids. */
  ids: VendorIds;
}

/** Builds the render context of a DPU. */
export function renderContext(sim: Simulation, serial: string): RenderContext {
  return { sim, serial, ids: vendorIds(sim.placement(serial).nic.vendor) };
}

const V1 = "/redfish/v1";

function link(uri: string): { "@odata.id": string } {
  return { "@odata.id": uri };
}

/** A resource collection body. */
export function collection(uri: string, type: string, name: string, members: string[]): Resource {
  return {
    "@odata.id": uri,
    "@odata.type": `#${type}.${type}`,
    Name: name,
    "Members@odata.count": members.length,
    Members: members.map(link),
  };
}

function status(enabled: boolean, health: "OK" | "Warning" | "Critical" = "OK"): Resource {
  return { State: enabled ? "Enabled" : "Disabled", Health: health };
}

/** The service root. */
export function serviceRoot(c: RenderContext): Resource {
  const { nic } = c.sim.placement(c.serial);
  return {
    "@odata.id": `${V1}/`,
    "@odata.type": "#ServiceRoot.v1_17_0.ServiceRoot",
    Id: "RootService",
    Name: "Root Service",
    RedfishVersion: "1.20.0",
    UUID: uuidFor(c.serial),
    Vendor: c.ids.manufacturer,
    Product: MODEL_NAMES[nic.model] ?? nic.model,
    ProtocolFeaturesSupported: {
      ExpandQuery: { ExpandAll: true, Levels: true, MaxLevels: MAX_EXPAND_LEVELS, Links: true, NoLinks: true },
      SelectQuery: true,
      FilterQuery: false,
      OnlyMemberQuery: true,
      ExcerptQuery: false,
      TopSkipQuery: false,
    },
    Systems: link(`${V1}/Systems`),
    Managers: link(`${V1}/Managers`),
    Chassis: link(`${V1}/Chassis`),
    UpdateService: link(`${V1}/UpdateService`),
    Tasks: link(`${V1}/TaskService`),
    SessionService: link(`${V1}/SessionService`),
    AccountService: link(`${V1}/AccountService`),
    CertificateService: link(`${V1}/CertificateService`),
    EventService: link(`${V1}/EventService`),
    Storage: link(`${V1}/Storage`),
    Links: { Sessions: link(`${V1}/SessionService/Sessions`) },
    Oem: {
      SmartFleet: {
        "@odata.type": "#SmartFleetServiceRoot.v1_0_0.SmartFleetServiceRoot",
        DpuOs: link(`${V1}/Oem/SmartFleet/DpuOs`),
        Services: link(`${V1}/Oem/SmartFleet/Services`),
        HostDevices: link(`${V1}/Oem/SmartFleet/HostDevices`),
        ServicePairs: link(`${V1}/Oem/SmartFleet/ServicePairs`),
        AcceleratorShares: link(`${V1}/Oem/SmartFleet/AcceleratorShares`),
      },
    },
  };
}

/** A stable UUID derived from the serial (RFC 4122 layout). */
export function uuidFor(serial: string): string {
  let h = 0x811c9dc5;
  const bytes: number[] = [];
  for (let round = 0; round < 16; round++) {
    for (const ch of `${serial}#${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    bytes.push(h & 0xff);
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The DPU's Arm system. */
export function dpuSystem(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const { nic } = c.sim.placement(c.serial);
  const uri = `${V1}/Systems/${c.ids.system}`;
  const body: Resource = {
    "@odata.id": uri,
    "@odata.type": "#ComputerSystem.v1_22_0.ComputerSystem",
    Id: c.ids.system,
    Name: `${MODEL_NAMES[nic.model] ?? nic.model} Arm system`,
    SystemType: "DPU",
    Manufacturer: c.ids.manufacturer,
    Model: MODEL_NAMES[nic.model] ?? nic.model,
    SerialNumber: nic.serial,
    UUID: uuidFor(`${nic.serial}/dpu`),
    PowerState: d.dpu.powerState,
    Status: d.dpu.crashed ? { State: "UnavailableOffline", Health: "Critical" } : status(d.dpu.powerState === "On"),
    ProcessorSummary: { Count: 1, CoreCount: nic.armCores },
    MemorySummary: { TotalSystemMemoryGiB: nic.memoryGiB },
    HostName: d.dpuOs.hostname ?? "",
    Bios: link(`${uri}/Bios`),
    OperatingSystem: link(operatingSystemUri(c)),
    Actions: {
      "#ComputerSystem.Reset": {
        target: `${uri}/Actions/ComputerSystem.Reset`,
        "ResetType@Redfish.AllowableValues": ["GracefulRestart", "ForceRestart"],
      },
    },
    Links: { Chassis: [link(`${V1}/Chassis/${c.ids.chassis}`)], ManagedBy: [link(`${V1}/Managers/${c.ids.manager}`)], ...offloadedFunctions(c) },
  };
  if (nic.vendor === "nvidia") body.Oem = { Nvidia: link(`${uri}/Oem/Nvidia`) };
  return body;
}

/** NVIDIA's OEM mode resource (`Systems/Bluefield/Oem/Nvidia`), as real BlueField BMCs serve it. */
export function nvidiaSystemOem(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const uri = `${V1}/Systems/${c.ids.system}/Oem/Nvidia`;
  return {
    "@odata.id": uri,
    "@odata.type": "#SmartFleetBlueFieldMode.v1_0_0.SmartFleetBlueFieldMode",
    Id: "Nvidia",
    Name: "BlueField mode",
    Mode: d.bios.mode === "dpu" ? "DpuMode" : "NicMode",
    Actions: {
      "#Mode.Set": {
        target: `${uri}/Actions/Mode.Set`,
        Parameters: [{ Name: "Mode", DataType: "String", Required: true, AllowableValues: ["NicMode", "DpuMode"] }],
      },
    },
  };
}

/** The OEM actions of the host system: maintenance (standard Redfish has none). */
export const HOST_MAINTENANCE_ACTIONS = {
  enter: "SmartFleetComputerSystem.EnterMaintenance",
  exit: "SmartFleetComputerSystem.ExitMaintenance",
} as const;

/** The host the DPU sits in. */
export function hostSystem(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const maintenance = d.host.maintenance;
  const { host } = c.sim.placement(c.serial);
  const uri = `${V1}/Systems/Host`;
  return {
    "@odata.id": uri,
    "@odata.type": "#ComputerSystem.v1_22_0.ComputerSystem",
    Id: "Host",
    Name: host.name,
    SystemType: "Physical",
    Manufacturer: { dell: "Dell Inc.", hpe: "HPE", lenovo: "Lenovo", other: "Unknown" }[host.vendor],
    Model: host.model,
    SerialNumber: host.serial,
    UUID: uuidFor(`${host.serial}/host`),
    PowerState: d.host.powerState,
    Status: status(d.host.powerState === "On"),
    ProcessorSummary: { CoreCount: host.cpus },
    MemorySummary: { TotalSystemMemoryGiB: host.memoryGiB },
    ...hostSystemPcie(c),
    Boot: {
      BootSourceOverrideEnabled: d.host.bootOverride.enabled,
      "BootSourceOverrideEnabled@Redfish.AllowableValues": ["Disabled", "Once"],
      BootSourceOverrideTarget: d.host.bootOverride.target,
      "BootSourceOverrideTarget@Redfish.AllowableValues": ["None", "Cd", "Pxe", "Hdd"],
    },
    Actions: {
      "#ComputerSystem.Reset": {
        target: `${uri}/Actions/ComputerSystem.Reset`,
        "ResetType@Redfish.AllowableValues": ["On", "ForceOff", "GracefulShutdown", "PowerCycle", "ForceRestart", "GracefulRestart"],
      },
      Oem: {
        [`#${HOST_MAINTENANCE_ACTIONS.enter}`]: { target: `${uri}/Actions/Oem/${HOST_MAINTENANCE_ACTIONS.enter}` },
        [`#${HOST_MAINTENANCE_ACTIONS.exit}`]: { target: `${uri}/Actions/Oem/${HOST_MAINTENANCE_ACTIONS.exit}` },
      },
    },
    Links: { ManagedBy: [link(`${V1}/Managers/${c.ids.manager}`)] },
    Oem: {
      SmartFleet: {
        "@odata.type": "#SmartFleetHost.v1_0_0.SmartFleetHost",
        OperatingSystem: d.host.os ? { Image: d.host.os.image, Version: d.host.os.version } : null,
        Maintenance: maintenance.state === "on",
        MaintenanceState: { off: "Off", entering: "Entering", on: "On" }[maintenance.state],
        WorkloadsRunning: maintenance.workloadsRunning,
      },
    },
  };
}

function biosAttributes(mode: string, privilege: string): Resource {
  return {
    NicMode: mode === "dpu" ? "DpuMode" : "NicMode",
    HostPrivilegeLevel: privilege === "privileged" ? "Privileged" : "Restricted",
  };
}

/** Bios: effective attributes. */
export function bios(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const uri = `${V1}/Systems/${c.ids.system}/Bios`;
  return {
    "@odata.id": uri,
    "@odata.type": "#Bios.v1_2_0.Bios",
    Id: "BIOS",
    Name: "BIOS Configuration",
    Attributes: biosAttributes(d.bios.mode, d.bios.hostPrivilege),
    "@Redfish.Settings": { "@odata.type": "#Settings.v1_4_0.Settings", SettingsObject: link(`${uri}/Settings`) },
  };
}

/** Bios/Settings: values pending until the next DPU reboot. */
export function biosSettings(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const uri = `${V1}/Systems/${c.ids.system}/Bios/Settings`;
  return {
    "@odata.id": uri,
    "@odata.type": "#Bios.v1_2_0.Bios",
    Id: "Settings",
    Name: "BIOS Pending Settings",
    Attributes: biosAttributes(d.bios.pending.mode ?? d.bios.modeAwaitingHostCycle ?? d.bios.mode, d.bios.pending.hostPrivilege ?? d.bios.hostPrivilege),
  };
}

/** The BMC manager. */
export function manager(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const uri = `${V1}/Managers/${c.ids.manager}`;
  return {
    "@odata.id": uri,
    "@odata.type": "#Manager.v1_19_0.Manager",
    Id: c.ids.manager,
    Name: "DPU management controller",
    ManagerType: "BMC",
    Manufacturer: c.ids.manufacturer,
    FirmwareVersion: d.firmware.bmc,
    UUID: uuidFor(`${c.serial}/bmc`),
    PowerState: "On",
    Status: status(true),
    VirtualMedia: link(`${uri}/VirtualMedia`),
    Links: { ManagerForServers: [link(`${V1}/Systems/${c.ids.system}`), link(`${V1}/Systems/Host`)], ManagerForChassis: [link(`${V1}/Chassis/${c.ids.chassis}`)] },
  };
}

/** The virtual CD. */
export function virtualMedia(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const uri = `${V1}/Managers/${c.ids.manager}/VirtualMedia/CD`;
  return {
    "@odata.id": uri,
    "@odata.type": "#VirtualMedia.v1_6_0.VirtualMedia",
    Id: "CD",
    Name: "Virtual CD",
    MediaTypes: ["CD", "DVD"],
    Image: d.virtualMedia.image,
    Inserted: d.virtualMedia.inserted,
    ConnectedVia: d.virtualMedia.inserted ? "URI" : "NotConnected",
    TransferMethod: "Stream",
    Actions: {
      "#VirtualMedia.InsertMedia": { target: `${uri}/Actions/VirtualMedia.InsertMedia` },
      "#VirtualMedia.EjectMedia": { target: `${uri}/Actions/VirtualMedia.EjectMedia` },
    },
  };
}

/** The card chassis. */
export function chassis(c: RenderContext): Resource {
  const { nic } = c.sim.placement(c.serial);
  const uri = `${V1}/Chassis/${c.ids.chassis}`;
  return {
    "@odata.id": uri,
    "@odata.type": "#Chassis.v1_23_0.Chassis",
    Id: c.ids.chassis,
    Name: `${MODEL_NAMES[nic.model] ?? nic.model} card`,
    ChassisType: "Card",
    Manufacturer: c.ids.manufacturer,
    Model: MODEL_NAMES[nic.model] ?? nic.model,
    SerialNumber: nic.serial,
    Status: status(true),
    NetworkAdapters: link(`${uri}/NetworkAdapters`),
    Links: { ComputerSystems: [link(`${V1}/Systems/${c.ids.system}`)], ManagedBy: [link(`${V1}/Managers/${c.ids.manager}`)] },
  };
}

/** The network adapter of the card. */
export function networkAdapter(c: RenderContext): Resource {
  const d = c.sim.docOf(c.serial);
  const { nic } = c.sim.placement(c.serial);
  return {
    "@odata.id": `${V1}/Chassis/${c.ids.chassis}/NetworkAdapters/${c.ids.adapter}`,
    "@odata.type": "#NetworkAdapter.v1_9_0.NetworkAdapter",
    Id: c.ids.adapter,
    Name: MODEL_NAMES[nic.model] ?? nic.model,
    Manufacturer: c.ids.manufacturer,
    Model: MODEL_NAMES[nic.model] ?? nic.model,
    SerialNumber: nic.serial,
    PartNumber: nic.model.toUpperCase(),
    Status: status(true),
    Controllers: [{ FirmwarePackageVersion: d.firmware.nic }],
    NetworkDeviceFunctions: link(networkDeviceFunctionsUri(c)),
  };
}

/** A firmware inventory item. */
export function firmwareItem(c: RenderContext, which: "os" | "nic" | "bmc"): Resource {
  const d = c.sim.docOf(c.serial);
  const id = c.ids.firmware[which];
  const names = { os: "DPU operating system", nic: "NIC firmware", bmc: "BMC firmware" };
  const installing = which === "os" && d.dpuOs.state === "Installing";
  return {
    "@odata.id": `${V1}/UpdateService/FirmwareInventory/${id}`,
    "@odata.type": "#SoftwareInventory.v1_10_0.SoftwareInventory",
    Id: id,
    Name: names[which],
    Version: d.firmware[which],
    Updateable: true,
    Manufacturer: c.ids.manufacturer,
    Status: installing ? { State: "Updating", Health: "OK" } : status(true),
    ...(which === "os" && osSoftwareId(c) !== null ? { SoftwareId: osSoftwareId(c) } : {}),
  };
}

/** Which firmware item an id names, if any. */
export function firmwareTarget(c: RenderContext, id: string): "os" | "nic" | "bmc" | undefined {
  return (Object.keys(c.ids.firmware) as Array<"os" | "nic" | "bmc">).find((k) => c.ids.firmware[k] === id);
}

/** UpdateService. */
export function updateService(c: RenderContext): Resource {
  return {
    "@odata.id": `${V1}/UpdateService`,
    "@odata.type": "#UpdateService.v1_11_0.UpdateService",
    Id: "UpdateService",
    Name: "Update Service",
    ServiceEnabled: true,
    Status: status(true),
    FirmwareInventory: link(`${V1}/UpdateService/FirmwareInventory`),
    Actions: {
      "#UpdateService.SimpleUpdate": {
        target: `${V1}/UpdateService/Actions/UpdateService.SimpleUpdate`,
        "TransferProtocol@Redfish.AllowableValues": ["HTTP", "HTTPS", "NFS"],
      },
    },
  };
}

/** TaskService. */
export function taskService(c: RenderContext): Resource {
  return {
    "@odata.id": `${V1}/TaskService`,
    "@odata.type": "#TaskService.v1_2_0.TaskService",
    Id: "TaskService",
    Name: "Task Service",
    ServiceEnabled: true,
    DateTime: new Date(c.sim.clock.now()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    CompletedTaskOverWritePolicy: "Oldest",
    LifeCycleEventOnTaskStateChange: false,
    Status: status(true),
    Tasks: link(`${V1}/TaskService/Tasks`),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A task. */
export function task(c: RenderContext, t: TaskRecord): Resource {
  const body: Resource = {
    "@odata.id": `${V1}/TaskService/Tasks/${t.id}`,
    "@odata.type": "#Task.v1_7_0.Task",
    Id: t.id,
    Name: t.name,
    TaskState: t.state,
    TaskStatus: t.state === "Completed" ? "OK" : t.state === "Running" || t.state === "New" ? "OK" : t.state === "Killed" ? "Warning" : "Critical",
    PercentComplete: c.sim.percentComplete(t),
    StartTime: iso(t.startTime),
    TaskMonitor: `${V1}/TaskService/TaskMonitors/${t.id}`,
    // MessageSeverity only: Message v1_1_0 deprecates Severity (the validators warn on it).
    Messages: t.messages.map((m) => ({ MessageId: m.messageId, Message: m.message, MessageArgs: m.args, MessageSeverity: m.severity })),
  };
  if (t.endTime !== null) body.EndTime = iso(t.endTime);
  return body;
}

/** SessionService. */
export function sessionService(): Resource {
  return {
    "@odata.id": `${V1}/SessionService`,
    "@odata.type": "#SessionService.v1_1_8.SessionService",
    Id: "SessionService",
    Name: "Session Service",
    ServiceEnabled: true,
    SessionTimeout: 1800,
    Status: status(true),
    Sessions: link(`${V1}/SessionService/Sessions`),
  };
}

/** AccountService. */
export function accountService(): Resource {
  return {
    "@odata.id": `${V1}/AccountService`,
    "@odata.type": "#AccountService.v1_10_0.AccountService",
    Id: "AccountService",
    Name: "Account Service",
    ServiceEnabled: true,
    AuthFailureLoggingThreshold: 3,
    MinPasswordLength: 8,
    MaxPasswordLength: 128,
    AccountLockoutThreshold: 5,
    AccountLockoutDuration: 60,
    AccountLockoutCounterResetAfter: 60,
    Status: status(true),
    Accounts: link(`${V1}/AccountService/Accounts`),
    Roles: link(`${V1}/AccountService/Roles`),
  };
}

/** Privileges of the three built-in roles. */
export const ROLE_PRIVILEGES: Record<string, string[]> = {
  Administrator: ["Login", "ConfigureManager", "ConfigureUsers", "ConfigureSelf", "ConfigureComponents"],
  Operator: ["Login", "ConfigureSelf", "ConfigureComponents"],
  ReadOnly: ["Login", "ConfigureSelf"],
};

/** A role. */
export function role(id: string): Resource | undefined {
  const privileges = ROLE_PRIVILEGES[id];
  if (!privileges) return undefined;
  return {
    "@odata.id": `${V1}/AccountService/Roles/${id}`,
    "@odata.type": "#Role.v1_3_0.Role",
    Id: id,
    Name: `${id} role`,
    RoleId: id,
    IsPredefined: true,
    AssignedPrivileges: privileges,
  };
}

// ---------------------------------------------------------------- Oem/SmartFleet

const OEM = `${V1}/Oem/SmartFleet`;

/** The DPU OS singleton. */
export function dpuOs(c: RenderContext): Resource {
  const os = c.sim.docOf(c.serial).dpuOs;
  return {
    "@odata.id": `${OEM}/DpuOs`,
    "@odata.type": "#SmartFleetDpuOs.v1_0_0.SmartFleetDpuOs",
    Id: "DpuOs",
    Name: "DPU operating system",
    Image: os.image,
    Version: os.version,
    Hostname: os.hostname,
    NtpServers: os.ntpServers,
    Cluster: os.cluster,
    State: os.state,
    Install: link(`${V1}/UpdateService/FirmwareInventory/${c.ids.firmware.os}`),
  };
}

// ---------------------------------------------------------------- members of lists

/**
 * One kind of resource kept as a list in the DPU document (sessions, accounts, services...):
 * where its collection is, and what a member shows after the head every member shares
 * (`@odata.id`, `@odata.type`, `Id`, `Name`). The routes take their collections, 404s and
 * Locations from the same entry, so a URI is spelled once.
 */
export interface MemberKind<T extends { id: string }> {
  /** URI of the collection. */
  collection: string;
  /** Name of the collection. */
  collectionName: string;
  /** Redfish type of a member, unversioned (the collection's is this + `Collection`). */
  type: string;
  /** Schema version of the member type. */
  version: string;
  /** What a 404 calls a missing member. */
  errorName: string;
  /** The members in the document, in order. */
  list(d: DpuState): T[];
  /** The member's Name. */
  name(m: T): string;
  /** The member's properties after the shared head. */
  body(c: RenderContext, m: T): Resource;
}

function memberKind<T extends { id: string }>(kind: MemberKind<T>): MemberKind<T> {
  return kind;
}

/** The URI of a member. */
export function memberUri<T extends { id: string }>(kind: MemberKind<T>, id: string): string {
  return `${kind.collection}/${encodeURIComponent(id)}`;
}

/** A member by id, undefined if the DPU has none. */
export function member<T extends { id: string }>(c: RenderContext, kind: MemberKind<T>, id: string): Resource | undefined {
  const m = kind.list(c.sim.docOf(c.serial)).find((x) => x.id === id);
  if (!m) return undefined;
  return {
    "@odata.id": memberUri(kind, m.id),
    "@odata.type": `#${kind.type}.${kind.version}.${kind.type}`,
    Id: m.id,
    Name: kind.name(m),
    ...kind.body(c, m),
  };
}

/** The collection of every member of a kind. */
export function members<T extends { id: string }>(c: RenderContext, kind: MemberKind<T>): Resource {
  const ids = kind.list(c.sim.docOf(c.serial)).map((m) => memberUri(kind, m.id));
  return collection(kind.collection, `${kind.type}Collection`, kind.collectionName, ids);
}

/** A consent this DPU gave (the answer of `POST Oem/SmartFleet/Consents`; the only place its token appears). */
export function consent(c: RenderContext, granted: Consent): Resource {
  const { claims } = granted;
  const body: Resource = {
    "@odata.type": "#SmartFleetConsent.v1_0_0.SmartFleetConsent",
    Id: claims.jti,
    Name: `Consent of DPU ${c.serial}`,
    Purpose: claims.pur,
    Requester: { Serial: claims.sub },
    ResourceId: claims.id,
  };
  if (claims.pur === "ServicePairSecondary") Object.assign(body, { ServiceType: claims.type, Cores: claims.cores, MemoryGiB: claims.mem });
  else body.Accelerator = claims.acc;
  return { ...body, Expires: new Date(claims.exp).toISOString(), Token: granted.token };
}

/** Services and pairs share their workload description. */
function workload(s: ServiceState): Resource {
  return { ServiceType: s.serviceType, Version: s.version, Cores: s.cores, MemoryGiB: s.memoryGiB, Config: s.config };
}

/** Every kind of list member a port serves. */
export const MEMBERS = {
  sessions: memberKind<SessionState>({
    collection: `${V1}/SessionService/Sessions`,
    collectionName: "Sessions",
    type: "Session",
    version: "v1_3_0",
    errorName: "Session",
    list: (d) => d.sessions,
    name: (s) => `Session ${s.id}`,
    body: (c, s) => ({ UserName: c.sim.docOf(c.serial).accounts.find((a) => a.id === s.accountId)?.userName ?? s.accountId }),
  }),
  accounts: memberKind<AccountState>({
    collection: `${V1}/AccountService/Accounts`,
    collectionName: "Accounts",
    type: "ManagerAccount",
    version: "v1_8_0",
    errorName: "ManagerAccount",
    list: (d) => d.accounts,
    name: (a) => `Account ${a.userName}`,
    body: (c, a) => ({
      UserName: a.userName,
      RoleId: a.roleId,
      Enabled: a.enabled,
      Locked: a.lockedUntil > c.sim.clock.now(),
      "Locked@Redfish.AllowableValues": ["false"],
      PasswordChangeRequired: a.passwordChangeRequired,
      Password: null,
      AccountTypes: ["Redfish"],
      Links: { Role: link(`${V1}/AccountService/Roles/${a.roleId}`) },
    }),
  }),
  services: memberKind<ServiceState>({
    collection: `${OEM}/Services`,
    collectionName: "DPU services",
    type: "SmartFleetService",
    version: "v1_0_0",
    errorName: "Service",
    list: (d) => d.services,
    name: (s) => s.name,
    body: (_c, s) => ({ ...workload(s), StorageGiB: s.storageGiB ?? null, State: s.state }),
  }),
  hostDevices: memberKind<HostDeviceState>({
    collection: `${OEM}/HostDevices`,
    collectionName: "Host devices",
    type: "SmartFleetHostDevice",
    version: "v1_0_0",
    errorName: "HostDevice",
    list: (d) => d.hostDevices,
    name: (h) => h.name,
    body: (_c, h) => ({ Kind: h.kind, Function: h.function, BackingService: h.backingService, HostPciAddress: h.hostPciAddress, SizeGiB: h.sizeGiB ?? null, SourceSerial: h.share?.sourceSerial ?? null }),
  }),
  /** Served by the primary's port. */
  servicePairs: memberKind<ServicePairState>({
    collection: `${OEM}/ServicePairs`,
    collectionName: "Service pairs",
    type: "SmartFleetServicePair",
    version: "v1_0_0",
    errorName: "ServicePair",
    list: (d) => d.servicePairs,
    name: (p) => p.name,
    body: (c, p) => ({
      ...workload(p),
      Primary: { Serial: c.serial },
      Secondary: { Serial: p.secondarySerial },
      ActiveSide: p.activeSide,
      Protected: c.sim.offloads.pairProtected(c.serial, p.id),
      State: p.state,
      Actions: {
        "#SmartFleetServicePair.SwitchOver": {
          target: `${OEM}/ServicePairs/${encodeURIComponent(p.id)}/Actions/SmartFleetServicePair.SwitchOver`,
          "ActiveSide@Redfish.AllowableValues": ["primary", "secondary"],
        },
      },
    }),
  }),
  /** Served by the port of the DPU whose host has the accelerator. */
  acceleratorShares: memberKind<AcceleratorShareState>({
    collection: `${OEM}/AcceleratorShares`,
    collectionName: "Accelerator shares",
    type: "SmartFleetAcceleratorShare",
    version: "v1_0_0",
    errorName: "AcceleratorShare",
    list: (d) => d.acceleratorShares,
    name: (s) => s.name,
    body: (_c, s) => ({ Accelerator: s.accelerator, Consumer: { Serial: s.consumerSerial }, HostPciAddress: s.hostPciAddress }),
  }),
};
