/**
 * The persisted state of one emulated DPU and of the tasks it runs. Plain JSON data:
 * the store writes it as one document per DPU and one per task.
 */

/** Management account roles. */
export type RoleId = "Administrator" | "Operator" | "ReadOnly";

/** A management account. */
export interface AccountState {
  /** Account id (the user name, as OpenBMC does). */
  id: string;
  /** Login name. */
  userName: string;
  /** The password as a salted scrypt record (`emulator/secrets.ts`); never the password itself. */
  passwordHash: string;
  /** Role. */
  roleId: RoleId;
  /** True until the factory password is changed. */
  passwordChangeRequired: boolean;
  /** Disabled accounts cannot log in. */
  enabled: boolean;
  /**
   * Until when (clock ms) the account is locked for at least one source address; 0 when
   * not. What `Locked` shows; logins are refused per account and source address
   * (`simulation/accounts.ts`), so a flood from one address locks only that address out.
   */
  lockedUntil: number;
}

/** A login session. */
export interface SessionState {
  /** Session id. */
  id: string;
  /** SHA-256 (hex) of the X-Auth-Token: the token itself is never stored. */
  tokenHash: string;
  /** Account id. */
  accountId: string;
  /** Clock time of the last request (ms). */
  lastUsed: number;
}

/** The seven service types of the design. */
export const SERVICE_TYPES = ["nsx-controller", "nsx-dfw", "vsan-storage", "vsan-witness", "firewall", "ids-ips", "sdwan-controller"] as const;
/** A DPU service type. */
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** A service offloaded onto the DPU. */
export interface ServiceState {
  /** Resource id. */
  id: string;
  /** Display name. */
  name: string;
  /** Service type. */
  serviceType: ServiceType;
  /** Service version. */
  version: string;
  /** Reserved Arm cores. */
  cores: number;
  /** Reserved memory. */
  memoryGiB: number;
  /** Typed configuration. */
  config: Record<string, unknown>;
  /** Storage a vsan-storage service offers to the block devices it backs, in GiB; null (or absent, in older state files) when none. */
  storageGiB?: number | null;
  /** Lifecycle. */
  state: "Deploying" | "Enabled" | "Failed";
}

/** Kinds of host devices. */
export const HOST_DEVICE_KINDS = ["vnic", "nvme", "virtio-blk", "fpga"] as const;
/** A host device kind. */
export type HostDeviceKind = (typeof HOST_DEVICE_KINDS)[number];

/** A virtual PCIe function the DPU presents to its host. */
export interface HostDeviceState {
  /** Resource id. */
  id: string;
  /** Display name. */
  name: string;
  /** Device kind. */
  kind: HostDeviceKind;
  /** Physical or virtual function. */
  function: "pf" | "vf";
  /** Id of the service backing the device, if any. */
  backingService: string | null;
  /** Host-side PCI address. */
  hostPciAddress: string;
  /** Capacity of an nvme or virtio-blk device in GiB (shown as its Volume's CapacityBytes); null for other kinds, absent in older state files. */
  sizeGiB?: number | null;
  /** For fpga devices: the accelerator share that created it (source serial + share id). */
  share: { sourceSerial: string; shareId: string } | null;
}

/** A fault-tolerant service across two DPUs, stored on the primary (cores and memory are reserved on each side). */
export interface ServicePairState extends ServiceState {
  /** Serial of the secondary DPU. */
  secondarySerial: string;
  /** Which side serves. */
  activeSide: "primary" | "secondary";
  /**
   * True after an unplanned move of the active side (a crash failover, an out-of-band
   * failover): the pair is unprotected until a planned move (SwitchOver or PATCH
   * ActiveSide) clears it. Absent in documents written before it existed (false).
   */
  failedOver?: boolean;
}

/** The secondary side's record of a pair (reserves its capacity there). */
export interface PairMembershipState {
  /** The pair id on the primary. */
  pairId: string;
  /** Serial of the primary DPU. */
  primarySerial: string;
  /** Reserved cores. */
  cores: number;
  /** Reserved memory. */
  memoryGiB: number;
}

/** An accelerator of this DPU's host presented to another host, stored on the source DPU. */
export interface AcceleratorShareState {
  /** Resource id. */
  id: string;
  /** Display name. */
  name: string;
  /** Accelerator name in the inventory. */
  accelerator: string;
  /** Serial of the consumer DPU. */
  consumerSerial: string;
  /** Id of the fpga host device on the consumer. */
  consumerDeviceId: string;
  /** PCI address the consumer host sees. */
  hostPciAddress: string;
}

/** The OS (hypervisor) on the DPU's Arm cores. */
export interface DpuOsState {
  /** Installed image name. */
  image: string | null;
  /** Installed version. */
  version: string | null;
  /** Hostname. */
  hostname: string | null;
  /** NTP servers. */
  ntpServers: string[];
  /** Cluster membership. */
  cluster: string | null;
  /** Absent until installed; Installing while a task runs. */
  state: "Enabled" | "Installing" | "Absent";
}

/** DPU mode. */
export type DpuMode = "dpu" | "nic";
/** Host privilege. */
export type HostPrivilege = "privileged" | "restricted";

/** Everything an emulated DPU (and the host side it controls) remembers. */
export interface DpuState {
  /** DPU serial (the key). */
  serial: string;
  /** Increments on every change; persisted for ordering and debugging. */
  generation: number;
  /** Accounts. */
  accounts: AccountState[];
  /** Live sessions. */
  sessions: SessionState[];
  /** BIOS attributes: effective and pending (Bios/Settings). */
  bios: {
    mode: DpuMode;
    hostPrivilege: HostPrivilege;
    pending: { mode?: DpuMode; hostPrivilege?: HostPrivilege };
    /** A mode applied by a DPU reboot that takes effect at the next host power cycle. */
    modeAwaitingHostCycle: DpuMode | null;
  };
  /** The DPU's Arm system; `bootOverride` absent in documents written before it existed (none). */
  dpu: { powerState: "On" | "Off"; crashed: boolean; bootOverride?: BootOverrideState };
  /** Firmware versions. */
  firmware: { os: string; nic: string; bmc: string };
  /** DPU OS. */
  dpuOs: DpuOsState;
  /** The host the DPU sits in. */
  host: {
    powerState: "On" | "Off";
    bootOverride: BootOverrideState;
    os: { image: string; version: string } | null;
    /**
     * Host maintenance (the same on every DPU of the host): `entering` while its workloads
     * are evacuated, `on` once they are; and how many of the inventory's workloads run.
     */
    maintenance: HostMaintenanceState;
  };
  /**
   * The management controller's own settings; absent in documents written before it had any:
   * NTP (on, no servers when absent) and the HTTPS certificate a client replaced the issued one
   * with (PEM, leaf first; absent while the port presents the one the emulator's CA issued).
   */
  bmc?: { ntp?: { enabled: boolean; servers: string[] }; httpsCertificate?: string; subscriptions?: EventSubscriptionState[] };
  /** Faults the admin API armed on this DPU (beyond the port's network faults). */
  faults: { servicesFailAfterReboot: boolean };
  /** The manager's virtual CD. */
  virtualMedia: { image: string | null; inserted: boolean };
  /** Services. */
  services: ServiceState[];
  /** Host devices. */
  hostDevices: HostDeviceState[];
  /** Pairs this DPU is the primary of. */
  servicePairs: ServicePairState[];
  /** Pairs this DPU is the secondary of. */
  pairMemberships: PairMembershipState[];
  /** Accelerator shares with this DPU's host as the source. */
  acceleratorShares: AcceleratorShareState[];
  /** Id counters. */
  nextId: { task: number; session: number; service: number; device: number; pair: number; share: number; pci: number };
}

/** Boot source override targets a system may boot from (the union of what the DPU and host offer). */
export type BootTarget = "None" | "Pxe" | "Hdd" | "Cd" | "Usb" | "BiosSetup" | "Diags";

/** A system's boot source override (ComputerSystem `Boot`); `mode` absent in older documents (UEFI). */
export interface BootOverrideState {
  /** Once is cleared by the next boot; Continuous stays. */
  enabled: "Disabled" | "Once" | "Continuous";
  /** Where the next boot goes. */
  target: BootTarget;
  /** Firmware interface the override boots through. */
  mode?: "UEFI" | "Legacy";
}

/** An event subscription (EventService `EventDestination`) a client created on a port. */
export interface EventSubscriptionState {
  /** Id in `EventService/Subscriptions`. */
  id: string;
  /** Where events are POSTed. */
  destination: string;
  /** Echoed in every event delivered. */
  context: string;
  /** Registries whose messages it wants (all when empty). */
  registryPrefixes: string[];
  /** Messages it wants (all when empty). */
  messageIds: string[];
}

/** A host's maintenance and the workloads it runs. */
export interface HostMaintenanceState {
  /** off: workloads run; entering: being evacuated (a task); on: evacuated. */
  state: "off" | "entering" | "on";
  /** Workloads running on the host now. */
  workloadsRunning: number;
}

/** What the disruption log records (the kinds of `model/disruption.ts` and its outcomes). */
export type DisruptionLogKind = "dpu-reboot" | "host-power-cycle" | "host-os-install" | "service-restart" | "pair-unprotected" | "workload-outage" | "maintenance";

/** One interval of the disruption log, in clock milliseconds. */
export interface DisruptionRecord {
  /** Sequence number (creation order); not shown by the admin API. */
  id: number;
  kind: DisruptionLogKind;
  /** The host disrupted (for a pair: its primary's host). */
  host: string;
  /** The DPU it happened on, when one did. */
  dpu?: string;
  /** The service pair (its Id), for pair-unprotected. */
  pair?: string;
  /** The service (its Id), for service-restart. */
  service?: string;
  /** Clock ms when it began. */
  start: number;
  /** Clock ms when it ended; null while it goes on. */
  end: number | null;
}

/** Redfish task states. */
export type TaskState = "New" | "Running" | "Completed" | "Exception" | "Killed";

/** A message in a task. */
export interface TaskMessage {
  /** Registry message id, e.g. TaskEvent.1.0.TaskCompletedOK. */
  messageId: string;
  /** Text. */
  message: string;
  /** Severity. */
  severity: "OK" | "Warning" | "Critical";
  /** Arguments. */
  args: string[];
}

/** What a task does; decides what happens when it ends. */
export type TaskKind =
  | { type: "dpu-reset"; resetType: string }
  | { type: "host-reset"; resetType: string; install: { image: string; version: string; uri: string } | null; installError: string | null }
  | { type: "firmware-update"; target: "os" | "nic" | "bmc"; imageUri: string }
  | { type: "service-deploy"; serviceId: string; restart?: boolean }
  | { type: "host-evacuate" }
  | { type: "pair-deploy"; pairId: string };

/** The final HTTP answer of a task monitor. */
export interface TaskResult {
  /** Status code. */
  status: number;
  /** Extra headers (e.g. Location of a created resource). */
  headers: Record<string, string>;
  /** Body. */
  body: unknown;
}

/** A long operation on one DPU. */
export interface TaskRecord {
  /** Task id on its port. */
  id: string;
  /** DPU serial. */
  serial: string;
  /** Display name. */
  name: string;
  /** What it does. */
  kind: TaskKind;
  /** State. */
  state: TaskState;
  /** Clock time it started (ms). */
  startTime: number;
  /** Clock time it ends (ms). */
  dueAt: number;
  /** Clock time it ended. */
  endTime: number | null;
  /** Messages. */
  messages: TaskMessage[];
  /** The final answer of the task monitor once ended. */
  result: TaskResult | null;
}
