/**
 * The simulated fleet: every DPU's state and the rules of the hardware (capacity, mode,
 * reboots, installs, failover), independent of HTTP. Each change runs in a transaction:
 * checks and edits on in-memory documents, then one SQLite write; a refused change
 * restores the documents it touched.
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "./clock";
import { verifyImage } from "./images";
import type { FleetImage, PlacedDpu, ValidFleet } from "../model/inventory";
import { placedDpus } from "../model/inventory";
import type {
  AccountState,
  DpuMode,
  DpuState,
  HostDeviceKind,
  HostDeviceState,
  HostPrivilege,
  RoleId,
  ServiceState,
  ServiceType,
  SessionState,
  TaskKind,
  TaskMessage,
  TaskRecord,
  TaskResult,
} from "./model";
import { HOST_DEVICE_KINDS, SERVICE_TYPES } from "./model";
import { badValue, missing, notAllowed, notFound, notInList, ServiceError } from "./service-error";
import type { StateStore } from "./store";
import { TaskTable } from "./task-table";

/** What the DPU OS keeps for itself: services get the rest. */
export const OS_RESERVE = { cores: 2, memoryGiB: 4 } as const;

/** Failed logins in a row that lock an account, and for how long (simulated ms). */
export const LOCKOUT = { attempts: 5, durationMs: 60_000 } as const;

/** Tasks remembered per DPU; the oldest ended ones go first. */
export const MAX_TASKS_PER_DPU = 100;

/** Idle time after which a session expires (simulated ms). */
export const SESSION_TIMEOUT_MS = 30 * 60_000;

/** How long operations take on hardware (ms), before `timeScale`. */
export const DURATIONS_MS = {
  dpuReset: 90_000,
  hostPowerOn: 45_000,
  hostPowerOff: 10_000,
  hostPowerCycle: 60_000,
  hostOsInstall: 600_000,
  dpuOsInstall: 480_000,
  nicFirmware: 180_000,
  bmcFirmware: 240_000,
  imageNotFound: 5_000,
  serviceDeploy: 20_000,
  pairDeploy: 40_000,
} as const;

/** Factory firmware versions per vendor. */
const FACTORY_FIRMWARE: Record<string, { os: string; nic: string; bmc: string }> = {
  nvidia: { os: "DOCA_2.5.0_BSP_4.5.0_Ubuntu_22.04-1", nic: "32.39.2048", bmc: "BF-23.10-4" },
  amd: { os: "1.68.0-E-52", nic: "1.68.0-E-52", bmc: "1.3.0" },
  intel: { os: "IPU-SDK-1.6.0", nic: "1.6.0.4", bmc: "IMC-1.6.0" },
};

/** Options for a simulation. */
export interface SimulationOptions {
  /** The inventory (validated, defaults filled). */
  inventory: ValidFleet;
  /** Where state persists. */
  store: StateStore;
  /** Source of time. */
  clock: Clock;
  /** Multiplier for operation durations; 0 makes every operation instant. */
  timeScale: number;
}

/** An edit in progress: documents touched so far, with their snapshots for rollback. */
class Transaction {
  readonly dpus = new Map<string, { doc: DpuState; snapshot: string }>();
  readonly tasks = new Map<string, { task: TaskRecord; snapshot: string | null }>();
  readonly deletedTasks: TaskRecord[] = [];
  readonly after: Array<() => void> = [];

  constructor(private readonly sim: Simulation) {}

  /** The mutable document of `serial`, remembered for commit and rollback. */
  dpu(serial: string): DpuState {
    const seen = this.dpus.get(serial);
    if (seen) return seen.doc;
    const doc = this.sim.docOf(serial);
    this.dpus.set(serial, { doc, snapshot: JSON.stringify(doc) });
    return doc;
  }

  /** Marks a task document for writing; call before changing it (`isNew` for one just created). */
  task(task: TaskRecord, isNew = false): void {
    const key = `${task.serial}/${task.id}`;
    if (!this.tasks.has(key)) this.tasks.set(key, { task, snapshot: isNew ? null : JSON.stringify(task) });
  }
}

/** The simulated fleet. */
export class Simulation {
  private readonly docs = new Map<string, DpuState>();
  private readonly placed = new Map<string, PlacedDpu>();
  private readonly tasks = new TaskTable();
  private readonly timers = new Map<string, () => void>();
  private readonly listeners: Array<(serials: string[]) => void> = [];
  private readonly inventory: ValidFleet;
  private readonly store: StateStore;
  /** The clock everything runs on. */
  readonly clock: Clock;
  private readonly timeScale: number;

  constructor(opts: SimulationOptions) {
    this.inventory = opts.inventory;
    this.store = opts.store;
    this.clock = opts.clock;
    this.timeScale = opts.timeScale;
    for (const p of placedDpus(opts.inventory)) this.placed.set(p.nic.serial, p);
  }

  /** Loads stored state, creates DPUs new to the inventory, and resumes or ends tasks left in flight. */
  start(): void {
    const stored = this.store.load();
    const fresh: DpuState[] = [];
    for (const [serial, p] of this.placed) {
      const doc = stored.dpus.get(serial);
      if (doc) this.docs.set(serial, doc);
      else {
        const created = factoryState(p);
        this.docs.set(serial, created);
        fresh.push(created);
      }
    }
    this.store.commit({ dpus: fresh }, { fleet: this.inventory.metadata.name });
    for (const task of stored.tasks.sort((a, b) => Number(a.id) - Number(b.id))) {
      if (this.placed.has(task.serial)) this.tasks.set(task);
    }
    for (const task of this.tasks.all()) {
      if (task.state === "Running" || task.state === "New") this.recoverTask(task);
    }
  }

  /** Cancels timers (state is already on disk). */
  stop(): void {
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
  }

  /** Calls `fn` with the serials changed by every committed transaction. */
  onChange(fn: (serials: string[]) => void): void {
    this.listeners.push(fn);
  }

  /** Serials in inventory order. */
  serials(): string[] {
    return [...this.placed.keys()];
  }

  /** The inventory entry of a DPU. */
  placement(serial: string): PlacedDpu {
    const p = this.placed.get(serial);
    if (!p) throw notFound("DPU", serial);
    return p;
  }

  /** The image catalog. */
  images(): FleetImage[] {
    return this.inventory.images ?? [];
  }

  /** The live document of a DPU (read-only by convention outside transactions). */
  docOf(serial: string): DpuState {
    const doc = this.docs.get(serial);
    if (!doc) throw notFound("DPU", serial);
    return doc;
  }

  /** Tasks of a DPU, oldest first. */
  tasksOf(serial: string): TaskRecord[] {
    return this.tasks.of(serial);
  }

  /** One task of a DPU. */
  task(serial: string, id: string): TaskRecord {
    const t = this.tasks.get(serial, id);
    if (!t) throw notFound("Task", id);
    return t;
  }

  /** Percent complete of a task at the current time. */
  percentComplete(task: TaskRecord): number {
    // 100 only for success: a task that ended otherwise shows how far it got.
    return task.state === "Completed" ? 100 : Math.min(99, this.progressOf(task));
  }

  private progressOf(task: TaskRecord): number {
    const total = task.dueAt - task.startTime;
    if (total <= 0) return 99;
    return Math.max(0, Math.floor((100 * ((task.endTime ?? this.clock.now()) - task.startTime)) / total));
  }

  /** True when the DPU's Arm system runs (not crashed, powered). */
  healthy(serial: string): boolean {
    const d = this.docOf(serial);
    return !d.dpu.crashed && d.dpu.powerState === "On";
  }

  /** A pair is protected when it runs on its primary and both DPUs are healthy. */
  pairProtected(primarySerial: string, pairId: string): boolean {
    const pair = this.docOf(primarySerial).servicePairs.find((p) => p.id === pairId);
    if (!pair) return false;
    return pair.state === "Enabled" && pair.activeSide === "primary" && this.healthy(primarySerial) && this.docs.has(pair.secondarySerial) && this.healthy(pair.secondarySerial);
  }

  /** Cores and memory still free for services on a DPU. */
  freeCapacity(serial: string): { cores: number; memoryGiB: number } {
    const d = this.docOf(serial);
    const { nic } = this.placement(serial);
    let cores = nic.armCores - OS_RESERVE.cores;
    let memoryGiB = nic.memoryGiB - OS_RESERVE.memoryGiB;
    for (const reserved of [...d.services, ...d.servicePairs, ...d.pairMemberships]) {
      cores -= reserved.cores;
      memoryGiB -= reserved.memoryGiB;
    }
    return { cores, memoryGiB };
  }

  // ---------------------------------------------------------------- transactions

  /** Runs `fn` as one change: committed in one SQLite transaction, rolled back in memory on error. */
  transact<T>(fn: (txn: Transaction) => T): T {
    const txn = new Transaction(this);
    let result: T;
    try {
      result = fn(txn);
      for (const { doc } of txn.dpus.values()) doc.generation++;
      this.store.commit({
        dpus: [...txn.dpus.values()].map((d) => d.doc),
        tasks: [...txn.tasks.values()].map((t) => t.task),
        deletedTasks: txn.deletedTasks.map((t) => ({ serial: t.serial, id: t.id })),
      });
    } catch (err) {
      for (const [serial, { snapshot }] of txn.dpus) this.docs.set(serial, JSON.parse(snapshot) as DpuState);
      for (const { task, snapshot } of txn.tasks.values()) {
        if (snapshot === null) this.tasks.delete(task.serial, task.id);
        else Object.assign(task, JSON.parse(snapshot) as TaskRecord);
      }
      for (const task of txn.deletedTasks) this.tasks.set(task);
      throw err;
    }
    for (const fn2 of txn.after) fn2();
    const serials = [...txn.dpus.keys()];
    for (const l of this.listeners) l(serials);
    return result;
  }

  // ---------------------------------------------------------------- accounts & sessions

  /**
   * Checks credentials, counting failures and locking after too many; returns the account.
   * A good login with nothing to reset writes nothing, so Basic auth on every request stays cheap.
   */
  authenticate(serial: string, userName: string, password: string, where: string): AccountState {
    const now = this.clock.now();
    const denied = (why: string): ServiceError =>
      new ServiceError(401, "AccessDenied", [where], why, { headers: { "WWW-Authenticate": 'Basic realm="smartfleet"' } });
    const current = this.docOf(serial).accounts.find((a) => a.userName === userName);
    if (!current) throw denied("invalid user name or password");
    if (current.lockedUntil > now) {
      throw denied(`account '${userName}' is locked after ${LOCKOUT.attempts} failed logins; it unlocks at ${new Date(current.lockedUntil).toISOString()}`);
    }
    const good = current.password === password && current.enabled;
    if (good && current.failedLogins === 0 && current.lockedUntil === 0) return current;
    const error = this.transact((txn) => {
      const account = txn.dpu(serial).accounts.find((a) => a.userName === userName);
      if (!account) return denied("invalid user name or password");
      if (good) {
        account.failedLogins = 0;
        account.lockedUntil = 0;
        return undefined;
      }
      account.failedLogins++;
      if (account.failedLogins < LOCKOUT.attempts) return denied("invalid user name or password");
      account.lockedUntil = now + LOCKOUT.durationMs;
      account.failedLogins = 0;
      return denied(`invalid user name or password; account '${userName}' is now locked until ${new Date(account.lockedUntil).toISOString()}`);
    });
    if (error) throw error;
    return this.docOf(serial).accounts.find((a) => a.userName === userName) ?? current;
  }

  /** Opens a session for an authenticated account. */
  createSession(serial: string, accountId: string): SessionState {
    return this.transact((txn) => {
      const d = txn.dpu(serial);
      const now = this.clock.now();
      d.sessions = d.sessions.filter((s) => now - s.lastUsed < SESSION_TIMEOUT_MS);
      if (d.sessions.length >= 64) throw new ServiceError(503, "SessionLimitExceeded", [], "too many sessions; delete one first");
      const session: SessionState = { id: String(d.nextId.session++), token: randomBytes(24).toString("hex"), accountId, lastUsed: now };
      d.sessions.push(session);
      return { ...session };
    });
  }

  /**
   * The session of a token, if it is live. Use refreshes its idle time in memory only: a
   * restart may expire a session a little early, which costs a client one login, while a
   * write per request would cost every client throughput.
   */
  sessionByToken(serial: string, token: string): SessionState | undefined {
    const d = this.docOf(serial);
    const s = d.sessions.find((x) => x.token === token);
    const now = this.clock.now();
    if (!s || now - s.lastUsed >= SESSION_TIMEOUT_MS) return undefined;
    s.lastUsed = now;
    return s;
  }

  /** Ends a session. */
  deleteSession(serial: string, id: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.sessions.some((s) => s.id === id)) throw notFound("Session", id);
      d.sessions = d.sessions.filter((s) => s.id !== id);
    });
  }

  /** Creates a management account. */
  createAccount(serial: string, spec: { userName: unknown; password: unknown; roleId: unknown; enabled?: unknown }): AccountState {
    return this.transact((txn) => {
      const d = txn.dpu(serial);
      const userName = requireString("UserName", spec.userName);
      const password = checkPassword(spec.password);
      const roleId = requireEnum("RoleId", spec.roleId, ["Administrator", "Operator", "ReadOnly"] as const);
      if (d.accounts.some((a) => a.userName === userName)) {
        throw new ServiceError(409, "ResourceAlreadyExists", ["ManagerAccount", "UserName", userName], `account '${userName}' exists`);
      }
      const account: AccountState = {
        id: userName,
        userName,
        password,
        roleId,
        passwordChangeRequired: false,
        enabled: spec.enabled === undefined ? true : requireBoolean("Enabled", spec.enabled),
        failedLogins: 0,
        lockedUntil: 0,
      };
      d.accounts.push(account);
      return { ...account };
    });
  }

  /** Changes an account; a new password clears PasswordChangeRequired. */
  patchAccount(serial: string, id: string, patch: { password?: unknown; roleId?: unknown; enabled?: unknown; locked?: unknown }): void {
    this.transact((txn) => {
      const account = txn.dpu(serial).accounts.find((a) => a.id === id);
      if (!account) throw notFound("ManagerAccount", id);
      if (patch.password !== undefined) {
        const password = checkPassword(patch.password);
        if (account.passwordChangeRequired && password === account.password) {
          throw new ServiceError(400, "PropertyValueFormatError", ["<hidden>", "Password"], "the new password must differ from the factory password");
        }
        account.password = password;
        account.passwordChangeRequired = false;
      }
      if (patch.roleId !== undefined) account.roleId = requireEnum("RoleId", patch.roleId, ["Administrator", "Operator", "ReadOnly"] as const) as RoleId;
      if (patch.enabled !== undefined) account.enabled = requireBoolean("Enabled", patch.enabled);
      if (patch.locked !== undefined) {
        if (requireBoolean("Locked", patch.locked)) throw new ServiceError(400, "PropertyValueNotInList", ["true", "Locked"], "Locked can only be cleared");
        account.lockedUntil = 0;
        account.failedLogins = 0;
      }
    });
  }

  /** Deletes an account and its sessions. */
  deleteAccount(serial: string, id: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.accounts.some((a) => a.id === id)) throw notFound("ManagerAccount", id);
      if (d.accounts.filter((a) => a.roleId === "Administrator" && a.id !== id).length === 0) {
        throw new ServiceError(409, "ResourceCannotBeDeleted", [], "the last Administrator account cannot be deleted");
      }
      d.accounts = d.accounts.filter((a) => a.id !== id);
      d.sessions = d.sessions.filter((s) => s.accountId !== id);
    });
  }

  // ---------------------------------------------------------------- BIOS, power, boot

  /** Stages BIOS attribute changes in Bios/Settings; they apply at the next DPU reboot. */
  patchBiosSettings(serial: string, patch: { mode?: DpuMode; hostPrivilege?: HostPrivilege }): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (patch.mode !== undefined) d.bios.pending.mode = patch.mode;
      if (patch.hostPrivilege !== undefined) d.bios.pending.hostPrivilege = patch.hostPrivilege;
    });
  }

  /** Restarts the DPU's Arm system (a task). */
  resetDpu(serial: string, resetType: string): TaskRecord {
    requireEnum("ResetType", resetType, ["GracefulRestart", "ForceRestart"] as const);
    return this.transact((txn) => {
      const d = txn.dpu(serial);
      if (this.runningTasks(serial).some((t) => t.kind.type === "dpu-reset")) throw new ServiceError(409, "ResourceInUse", [], "the DPU is already restarting");
      if (this.runningTasks(serial).some((t) => t.kind.type === "firmware-update")) {
        throw notAllowed("a firmware update is in progress; restart after it ends");
      }
      d.dpu.powerState = "Off";
      return this.startTask(txn, serial, `DPU ${resetType}`, { type: "dpu-reset", resetType }, DURATIONS_MS.dpuReset);
    });
  }

  /** Power action on the host (a task); booting from an inserted CD installs its image. */
  resetHost(serial: string, resetType: string): TaskRecord {
    const types = ["On", "ForceOff", "GracefulShutdown", "PowerCycle", "ForceRestart", "GracefulRestart"] as const;
    requireEnum("ResetType", resetType, types);
    return this.transact((txn) => {
      const d = txn.dpu(serial);
      if (this.runningTasks(serial).some((t) => t.kind.type === "host-reset")) throw new ServiceError(409, "ResourceInUse", [], "a host power action is in progress");
      if (resetType === "On" && d.host.powerState === "On") throw notAllowed("the host is already powered on");
      const boots = resetType !== "ForceOff" && resetType !== "GracefulShutdown";
      let duration: number =
        resetType === "PowerCycle" ? DURATIONS_MS.hostPowerCycle : boots ? DURATIONS_MS.hostPowerOn : DURATIONS_MS.hostPowerOff;
      let install: { image: string; version: string; uri: string } | null = null;
      let installError: string | null = null;
      if (boots && d.host.bootOverride.enabled === "Once" && d.host.bootOverride.target === "Cd" && d.virtualMedia.inserted && d.virtualMedia.image) {
        const check = verifyImage(this.images(), d.virtualMedia.image);
        if (check.error) {
          installError = check.error;
          duration += check.image ? DURATIONS_MS.hostOsInstall : DURATIONS_MS.imageNotFound;
        } else if (check.image) {
          install = { image: check.image.name, version: check.image.version, uri: check.image.uri };
          duration += DURATIONS_MS.hostOsInstall;
        }
      }
      return this.startTask(txn, serial, `Host ${resetType}`, { type: "host-reset", resetType, install, installError }, duration);
    });
  }

  /** Sets the host's boot override. */
  setBootOverride(serial: string, enabled: string | undefined, target: string | undefined): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (enabled !== undefined) d.host.bootOverride.enabled = requireEnum("Boot/BootSourceOverrideEnabled", enabled, ["Disabled", "Once"] as const);
      if (target !== undefined) d.host.bootOverride.target = requireEnum("Boot/BootSourceOverrideTarget", target, ["None", "Cd", "Pxe", "Hdd"] as const);
    });
  }

  /** Inserts an image URI into the virtual CD. */
  insertMedia(serial: string, image: unknown): void {
    const uri = requireString("Image", image);
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (d.virtualMedia.inserted) throw new ServiceError(409, "ResourceInUse", [], `media '${d.virtualMedia.image}' is inserted; eject it first`);
      d.virtualMedia = { image: uri, inserted: true };
    });
  }

  /** Ejects the virtual CD. */
  ejectMedia(serial: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.virtualMedia.inserted) throw notAllowed("no media is inserted");
      d.virtualMedia = { image: null, inserted: false };
    });
  }

  /** Installs firmware or the DPU OS from a catalog image (a task). */
  simpleUpdate(serial: string, imageUri: string, target: "os" | "nic" | "bmc"): TaskRecord {
    return this.transact((txn) => {
      const d = txn.dpu(serial);
      if (this.runningTasks(serial).some((t) => t.kind.type === "firmware-update")) throw new ServiceError(409, "ResourceInUse", [], "an update is already in progress");
      if (target !== "bmc" && !this.healthy(serial)) throw notAllowed("the DPU is not running; recover or restart it first");
      const check = verifyImage(this.images(), imageUri);
      const base = target === "os" ? DURATIONS_MS.dpuOsInstall : target === "nic" ? DURATIONS_MS.nicFirmware : DURATIONS_MS.bmcFirmware;
      const duration = check.image ? base : DURATIONS_MS.imageNotFound;
      if (target === "os") d.dpuOs.state = "Installing";
      return this.startTask(txn, serial, `Update ${target} from ${imageUri}`, { type: "firmware-update", target, imageUri }, duration);
    });
  }

  /** Changes hostname, NTP servers or cluster of the DPU OS. */
  patchDpuOs(serial: string, patch: { hostname?: unknown; ntpServers?: unknown; cluster?: unknown }): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (d.dpuOs.state !== "Enabled") throw notAllowed(`the DPU OS is ${d.dpuOs.state}; install it first`);
      if (patch.hostname !== undefined) {
        const h = requireString("Hostname", patch.hostname);
        if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(h)) throw new ServiceError(400, "PropertyValueFormatError", [h, "Hostname"], "Hostname must be a DNS name");
        d.dpuOs.hostname = h;
      }
      if (patch.ntpServers !== undefined) {
        if (!Array.isArray(patch.ntpServers) || patch.ntpServers.some((s) => typeof s !== "string")) throw badValue("NtpServers", patch.ntpServers, "an array of strings");
        d.dpuOs.ntpServers = [...(patch.ntpServers as string[])];
      }
      if (patch.cluster !== undefined) d.dpuOs.cluster = patch.cluster === null ? null : requireString("Cluster", patch.cluster);
    });
  }

  // ---------------------------------------------------------------- services

  private requireServiceHost(serial: string): void {
    const d = this.docOf(serial);
    if (d.bios.mode !== "dpu") throw notAllowed(`DPU ${serial} is in NIC mode; services need DPU mode`);
    if (d.dpuOs.state !== "Enabled") throw notAllowed(`DPU ${serial} has no DPU OS (state ${d.dpuOs.state}); install one first`);
    if (!this.healthy(serial)) throw notAllowed(`DPU ${serial} is not running`);
  }

  private requireCapacity(serial: string, cores: number, memoryGiB: number): void {
    const free = this.freeCapacity(serial);
    if (cores > free.cores || memoryGiB > free.memoryGiB) {
      const what = `DPU ${serial}: ${free.cores} cores and ${free.memoryGiB} GiB free after the OS reserve (asked ${cores} cores, ${memoryGiB} GiB)`;
      throw new ServiceError(409, "ResourceExhaustion", [what], `not enough capacity on ${what}`);
    }
  }

  /** Deploys a service (a task); the service exists at once in state Deploying. */
  createService(serial: string, spec: Record<string, unknown>): { task: TaskRecord; service: ServiceState } {
    const s = serviceSpec(spec);
    return this.transact((txn) => {
      this.requireServiceHost(serial);
      this.requireCapacity(serial, s.cores, s.memoryGiB);
      const d = txn.dpu(serial);
      const id = s.id ?? String(d.nextId.service++);
      if (d.services.some((x) => x.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["Service", "Id", id], `service '${id}' exists`);
      const service: ServiceState = { id, name: s.name ?? id, serviceType: s.serviceType, version: s.version, cores: s.cores, memoryGiB: s.memoryGiB, config: s.config, state: "Deploying" };
      d.services.push(service);
      const task = this.startTask(txn, serial, `Deploy service ${id}`, { type: "service-deploy", serviceId: id }, DURATIONS_MS.serviceDeploy);
      return { task, service: { ...service } };
    });
  }

  /** Changes a service's version, size or config (capacity is re-checked). */
  patchService(serial: string, id: string, patch: Record<string, unknown>): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      const service = d.services.find((x) => x.id === id);
      if (!service) throw notFound("Service", id);
      const cores = patch.Cores === undefined ? service.cores : requireInt("Cores", patch.Cores, 1);
      const memoryGiB = patch.MemoryGiB === undefined ? service.memoryGiB : requireInt("MemoryGiB", patch.MemoryGiB, 1);
      const free = this.freeCapacity(serial);
      if (cores - service.cores > free.cores || memoryGiB - service.memoryGiB > free.memoryGiB) {
        this.requireCapacity(serial, cores - service.cores, memoryGiB - service.memoryGiB);
      }
      service.cores = cores;
      service.memoryGiB = memoryGiB;
      if (patch.Version !== undefined) service.version = requireString("Version", patch.Version);
      if (patch.Name !== undefined) service.name = requireString("Name", patch.Name);
      if (patch.Config !== undefined) service.config = checkConfig(service.serviceType, patch.Config);
    });
  }

  /** Removes a service (host devices backed by it lose their backing). */
  deleteService(serial: string, id: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.services.some((x) => x.id === id)) throw notFound("Service", id);
      if (d.hostDevices.some((h) => h.backingService === id)) throw new ServiceError(409, "ResourceInUse", [], `service '${id}' backs host devices; delete them first`);
      d.services = d.services.filter((x) => x.id !== id);
      for (const t of this.runningTasks(serial)) if (t.kind.type === "service-deploy" && t.kind.serviceId === id) this.endTask(txn, t, "Killed", "the service was deleted");
    });
  }

  // ---------------------------------------------------------------- host devices

  /** Presents a virtual PCIe function to the host. */
  createHostDevice(serial: string, spec: Record<string, unknown>): HostDeviceState {
    return this.transact((txn) => {
      const d = txn.dpu(serial);
      const kind = requireEnum("Kind", spec.Kind, HOST_DEVICE_KINDS) as HostDeviceKind;
      if (kind === "fpga") throw notAllowed("fpga devices are created by an AcceleratorShare on the FPGA's host");
      if (d.bios.mode !== "dpu") throw notAllowed(`DPU ${serial} is in NIC mode; host devices need DPU mode`);
      const fn = spec.Function === undefined ? "vf" : requireEnum("Function", spec.Function, ["pf", "vf"] as const);
      const backing = spec.BackingService === undefined || spec.BackingService === null ? null : requireString("BackingService", spec.BackingService);
      if (backing !== null && !d.services.some((x) => x.id === backing)) throw notInList("BackingService", backing, d.services.map((x) => x.id));
      const id = spec.Id === undefined ? String(d.nextId.device++) : requireName("Id", spec.Id);
      if (d.hostDevices.some((x) => x.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["HostDevice", "Id", id], `host device '${id}' exists`);
      const device: HostDeviceState = {
        id,
        name: spec.Name === undefined ? id : requireString("Name", spec.Name),
        kind,
        function: fn,
        backingService: backing,
        hostPciAddress: this.nextPciAddress(d),
        share: null,
      };
      d.hostDevices.push(device);
      return { ...device };
    });
  }

  private nextPciAddress(d: DpuState): string {
    const slot = this.placement(d.serial).nic.slot;
    const n = d.nextId.pci++;
    const hex = (v: number, w: number): string => v.toString(16).padStart(w, "0");
    return `0000:${hex((0x3a + slot) & 0xff, 2)}:${hex(Math.floor(n / 8) & 0x1f, 2)}.${n % 8}`;
  }

  /** Changes a host device's name or backing service. */
  patchHostDevice(serial: string, id: string, patch: Record<string, unknown>): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      const device = d.hostDevices.find((x) => x.id === id);
      if (!device) throw notFound("HostDevice", id);
      if (patch.Name !== undefined) device.name = requireString("Name", patch.Name);
      if (patch.BackingService !== undefined) {
        const b = patch.BackingService === null ? null : requireString("BackingService", patch.BackingService);
        if (b !== null && !d.services.some((x) => x.id === b)) throw notInList("BackingService", b, d.services.map((x) => x.id));
        device.backingService = b;
      }
    });
  }

  /** Removes a host device (fpga devices go with their share). */
  deleteHostDevice(serial: string, id: string): void {
    this.transact((txn) => {
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
    const secondary = spec.Secondary as { Serial?: unknown } | undefined;
    if (!secondary || typeof secondary !== "object") throw missing("Secondary");
    const secondarySerial = requireString("Secondary/Serial", secondary.Serial);
    if (secondarySerial === serial) throw notAllowed("primary and secondary must be different DPUs");
    if (!this.placed.has(secondarySerial)) throw notInList("Secondary/Serial", secondarySerial, this.serials().filter((x) => x !== serial));
    return this.transact((txn) => {
      this.requireServiceHost(serial);
      this.requireServiceHost(secondarySerial);
      this.requireCapacity(serial, s.cores, s.memoryGiB);
      this.requireCapacity(secondarySerial, s.cores, s.memoryGiB);
      const d = txn.dpu(serial);
      const id = s.id ?? String(d.nextId.pair++);
      if (d.servicePairs.some((p) => p.id === id)) throw new ServiceError(409, "ResourceAlreadyExists", ["ServicePair", "Id", id], `service pair '${id}' exists`);
      d.servicePairs.push({
        id,
        name: s.name ?? id,
        serviceType: s.serviceType,
        version: s.version,
        cores: s.cores,
        memoryGiB: s.memoryGiB,
        config: s.config,
        secondarySerial,
        activeSide: "primary",
        state: "Deploying",
      });
      txn.dpu(secondarySerial).pairMemberships.push({ pairId: id, primarySerial: serial, cores: s.cores, memoryGiB: s.memoryGiB });
      const task = this.startTask(txn, serial, `Deploy service pair ${id}`, { type: "pair-deploy", pairId: id }, DURATIONS_MS.pairDeploy);
      return { task, pairId: id };
    });
  }

  /** Moves the active side (back to the primary restores protection) or changes the version/config. */
  patchServicePair(serial: string, id: string, patch: Record<string, unknown>): void {
    this.transact((txn) => {
      const pair = txn.dpu(serial).servicePairs.find((p) => p.id === id);
      if (!pair) throw notFound("ServicePair", id);
      if (patch.ActiveSide !== undefined) {
        const side = requireEnum("ActiveSide", patch.ActiveSide, ["primary", "secondary"] as const);
        const target = side === "primary" ? serial : pair.secondarySerial;
        if (!this.healthy(target)) throw notAllowed(`the ${side} DPU ${target} is not running`);
        pair.activeSide = side;
      }
      if (patch.Version !== undefined) pair.version = requireString("Version", patch.Version);
      if (patch.Name !== undefined) pair.name = requireString("Name", patch.Name);
      if (patch.Config !== undefined) pair.config = checkConfig(pair.serviceType, patch.Config);
    });
  }

  /** Removes a pair from both DPUs. */
  deleteServicePair(serial: string, id: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      const pair = d.servicePairs.find((p) => p.id === id);
      if (!pair) throw notFound("ServicePair", id);
      d.servicePairs = d.servicePairs.filter((p) => p.id !== id);
      const sec = txn.dpu(pair.secondarySerial);
      sec.pairMemberships = sec.pairMemberships.filter((m) => !(m.pairId === id && m.primarySerial === serial));
      for (const t of this.runningTasks(serial)) if (t.kind.type === "pair-deploy" && t.kind.pairId === id) this.endTask(txn, t, "Killed", "the pair was deleted");
    });
  }

  // ---------------------------------------------------------------- accelerator shares

  /** Presents an accelerator of this DPU's host to another host (one consumer at a time). */
  createAcceleratorShare(serial: string, spec: Record<string, unknown>): { shareId: string } {
    const accelerator = requireString("Accelerator", spec.Accelerator);
    const consumer = spec.Consumer as { Serial?: unknown } | undefined;
    if (!consumer || typeof consumer !== "object") throw missing("Consumer");
    const consumerSerial = requireString("Consumer/Serial", consumer.Serial);
    return this.transact((txn) => {
      const { host } = this.placement(serial);
      const names = (host.accelerators ?? []).map((a) => a.name);
      if (!names.includes(accelerator)) throw notInList("Accelerator", accelerator, names);
      if (!this.placed.has(consumerSerial)) throw notInList("Consumer/Serial", consumerSerial, this.serials());
      if (this.placement(consumerSerial).host.name === host.name) throw notAllowed("the consumer must be a DPU in another host");
      const d = txn.dpu(serial);
      const taken = d.acceleratorShares.find((s) => s.accelerator === accelerator);
      if (taken) {
        throw new ServiceError(409, "ResourceInUse", [], `accelerator '${accelerator}' is already shared with DPU ${taken.consumerSerial} (share '${taken.id}'); one consumer at a time`);
      }
      if (this.docOf(consumerSerial).bios.mode !== "dpu") throw notAllowed(`consumer DPU ${consumerSerial} is in NIC mode`);
      const id = spec.Id === undefined ? String(d.nextId.share++) : requireName("Id", spec.Id);
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
      d.acceleratorShares.push({
        id,
        name: spec.Name === undefined ? id : requireString("Name", spec.Name),
        accelerator,
        consumerSerial,
        consumerDeviceId: device.id,
        hostPciAddress: device.hostPciAddress,
      });
      return { shareId: id };
    });
  }

  /** Ends a share and removes the consumer's fpga device. */
  deleteAcceleratorShare(serial: string, id: string): void {
    this.transact((txn) => {
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
    this.transact((txn) => {
      const share = txn.dpu(serial).acceleratorShares.find((s) => s.id === id);
      if (!share) throw notFound("AcceleratorShare", id);
      if (patch.Name !== undefined) share.name = requireString("Name", patch.Name);
    });
  }

  // ---------------------------------------------------------------- faults and drift (admin)

  /** The DPU's Arm system crashes: services fail, pairs it leads fail over, its tasks end. */
  crash(serial: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      d.dpu.crashed = true;
      d.dpu.powerState = "Off";
      for (const s of d.services) s.state = "Failed";
      for (const p of d.servicePairs) if (p.activeSide === "primary" && this.healthy(p.secondarySerial)) p.activeSide = "secondary";
      for (const m of d.pairMemberships) {
        const primary = txn.dpu(m.primarySerial).servicePairs.find((p) => p.id === m.pairId);
        if (primary && primary.activeSide === "secondary" && this.healthy(m.primarySerial)) primary.activeSide = "primary";
      }
      for (const t of this.runningTasks(serial)) {
        if (t.kind.type !== "host-reset") this.endTask(txn, t, "Exception", `DPU ${serial} crashed while the task ran`);
      }
      if (d.dpuOs.state === "Installing") d.dpuOs.state = d.dpuOs.version ? "Enabled" : "Absent";
    });
  }

  /** The crashed DPU boots again; services come back; pairs stay where they are until PATCHed. */
  recover(serial: string): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      d.dpu.crashed = false;
      d.dpu.powerState = "On";
      for (const s of d.services) if (s.state === "Failed" && d.bios.mode === "dpu") s.state = "Enabled";
    });
  }

  /** Out-of-band changes, as an operator at the console would make them. */
  drift(serial: string, change: DriftChange): void {
    this.transact((txn) => {
      const d = txn.dpu(serial);
      switch (change.kind) {
        case "mode":
          d.bios.mode = requireEnum("value", change.value, ["dpu", "nic"] as const);
          break;
        case "hostPrivilege":
          d.bios.hostPrivilege = requireEnum("value", change.value, ["privileged", "restricted"] as const);
          break;
        case "hostname":
          d.dpuOs.hostname = requireString("value", change.value);
          break;
        case "deleteService": {
          if (!d.services.some((s) => s.id === change.id)) throw notFound("Service", change.id);
          d.services = d.services.filter((s) => s.id !== change.id);
          for (const h of d.hostDevices) if (h.backingService === change.id) h.backingService = null;
          break;
        }
        case "changeService": {
          const s = d.services.find((x) => x.id === change.id);
          if (!s) throw notFound("Service", change.id);
          if (change.version !== undefined) s.version = change.version;
          if (change.cores !== undefined) s.cores = change.cores;
          if (change.memoryGiB !== undefined) s.memoryGiB = change.memoryGiB;
          if (change.config !== undefined) s.config = change.config;
          if (change.state !== undefined) s.state = change.state;
          break;
        }
        case "failover": {
          const p = d.servicePairs.find((x) => x.id === change.id);
          if (!p) throw notFound("ServicePair", change.id);
          p.activeSide = p.activeSide === "primary" ? "secondary" : "primary";
          break;
        }
      }
    });
  }

  // ---------------------------------------------------------------- tasks

  private runningTasks(serial: string): TaskRecord[] {
    return this.tasksOf(serial).filter((t) => t.state === "Running" || t.state === "New");
  }

  private startTask(txn: Transaction, serial: string, name: string, kind: TaskKind, hardwareMs: number): TaskRecord {
    const d = txn.dpu(serial);
    const now = this.clock.now();
    const duration = Math.round(hardwareMs * this.timeScale);
    const task: TaskRecord = {
      id: String(d.nextId.task++),
      serial,
      name,
      kind,
      state: "Running",
      startTime: now,
      dueAt: now + duration,
      endTime: null,
      messages: [message("TaskEvent.1.0.TaskStarted", `The task with Id '${d.nextId.task - 1}' has started.`, "OK", [String(d.nextId.task - 1)])],
      result: null,
    };
    txn.task(task, true);
    this.tasks.set(task);
    this.pruneEndedTasks(txn, serial);
    if (duration <= 0) this.finishTask(txn, task);
    else txn.after.push(() => this.arm(task));
    return task;
  }

  /** Keeps at most MAX_TASKS_PER_DPU tasks, dropping the oldest ended ones (CompletedTaskOverWritePolicy Oldest). */
  private pruneEndedTasks(txn: Transaction, serial: string): void {
    const tasks = this.tasks.of(serial);
    let excess = tasks.length - MAX_TASKS_PER_DPU;
    for (const t of tasks) {
      if (excess <= 0) break;
      if (t.state === "Running" || t.state === "New") continue;
      this.tasks.delete(serial, t.id);
      txn.deletedTasks.push(t);
      excess--;
    }
  }

  private arm(task: TaskRecord): void {
    const key = `${task.serial}/${task.id}`;
    this.timers.get(key)?.();
    this.timers.set(
      key,
      this.clock.schedule(Math.max(0, task.dueAt - this.clock.now()), () => {
        this.timers.delete(key);
        if (task.state !== "Running") return;
        this.transact((txn) => this.finishTask(txn, task));
      }),
    );
  }

  private endTask(txn: Transaction, task: TaskRecord, state: "Completed" | "Exception" | "Killed", why: string, result?: TaskResult): void {
    txn.task(task);
    task.state = state;
    task.endTime = this.clock.now();
    const ok = state === "Completed";
    task.messages.push(
      ok
        ? message("TaskEvent.1.0.TaskCompletedOK", `The task with Id '${task.id}' has completed.`, "OK", [task.id])
        : state === "Killed"
          ? message("TaskEvent.1.0.TaskCancelled", `Work on the task with Id '${task.id}' has been halted prior to completion due to an explicit request.`, "Warning", [task.id])
          : message("TaskEvent.1.0.TaskAborted", `The task with Id '${task.id}' has been aborted.`, "Critical", [task.id]),
    );
    if (why) task.messages.push(message(ok ? "Base.1.22.1.Success" : "Base.1.22.1.GeneralError", why, ok ? "OK" : "Critical", []));
    task.result = result ?? { status: ok ? 200 : 500, headers: {}, body: null };
    txn.dpu(task.serial);
    txn.after.push(() => {
      this.timers.get(`${task.serial}/${task.id}`)?.();
      this.timers.delete(`${task.serial}/${task.id}`);
    });
  }

  /** Applies what a task does on hardware when its time is up. */
  private finishTask(txn: Transaction, task: TaskRecord): void {
    const d = txn.dpu(task.serial);
    const kind = task.kind;
    switch (kind.type) {
      case "dpu-reset": {
        // A forced restart is how an operator gets a crashed DPU back; a graceful one cannot reach it.
        if (kind.resetType === "ForceRestart") d.dpu.crashed = false;
        d.dpu.powerState = d.dpu.crashed ? "Off" : "On";
        if (!d.dpu.crashed && d.bios.mode === "dpu" && d.dpuOs.state === "Enabled") {
          for (const s of d.services) if (s.state === "Failed") s.state = "Enabled";
        }
        if (d.bios.pending.hostPrivilege !== undefined) d.bios.hostPrivilege = d.bios.pending.hostPrivilege;
        if (d.bios.pending.mode !== undefined) {
          if (d.bios.pending.mode !== d.bios.mode) d.bios.modeAwaitingHostCycle = d.bios.pending.mode;
          else d.bios.modeAwaitingHostCycle = null;
        }
        d.bios.pending = {};
        this.endTask(txn, task, "Completed", d.bios.modeAwaitingHostCycle ? `DPU restarted; mode '${d.bios.modeAwaitingHostCycle}' applies at the next host power cycle` : "DPU restarted");
        return;
      }
      case "host-reset": {
        const boots = kind.resetType !== "ForceOff" && kind.resetType !== "GracefulShutdown";
        const fullCycle = kind.resetType === "PowerCycle" || (kind.resetType === "On" && d.host.powerState === "Off");
        d.host.powerState = boots ? "On" : "Off";
        if (boots && fullCycle && d.bios.modeAwaitingHostCycle) {
          d.bios.mode = d.bios.modeAwaitingHostCycle;
          d.bios.modeAwaitingHostCycle = null;
          for (const s of d.services) s.state = d.bios.mode === "dpu" && s.state === "Failed" && this.healthy(d.serial) ? "Enabled" : d.bios.mode === "nic" ? "Failed" : s.state;
        }
        if (boots && d.host.bootOverride.enabled === "Once") d.host.bootOverride = { enabled: "Disabled", target: "None" };
        if (kind.installError) {
          this.endTask(txn, task, "Exception", `host OS install failed: ${kind.installError}`);
          return;
        }
        if (kind.install) d.host.os = { image: kind.install.image, version: kind.install.version };
        this.endTask(txn, task, "Completed", kind.install ? `host booted from CD and installed ${kind.install.image} ${kind.install.version}` : `host ${kind.resetType} done`);
        return;
      }
      case "firmware-update": {
        const check = verifyImage(this.images(), kind.imageUri);
        if (check.error || !check.image) {
          if (kind.target === "os") d.dpuOs.state = d.dpuOs.version ? "Enabled" : "Absent";
          this.endTask(txn, task, "Exception", check.error ?? "image unavailable");
          return;
        }
        const img = check.image;
        if (kind.target === "os") {
          d.firmware.os = img.version;
          d.dpuOs = { ...d.dpuOs, image: img.name, version: img.version, state: "Enabled" };
        } else if (kind.target === "nic") d.firmware.nic = img.version;
        else d.firmware.bmc = img.version;
        this.endTask(txn, task, "Completed", `installed ${img.name} ${img.version}`);
        return;
      }
      case "service-deploy": {
        const s = d.services.find((x) => x.id === kind.serviceId);
        if (!s) return this.endTask(txn, task, "Killed", "the service was deleted");
        s.state = "Enabled";
        const uri = `/redfish/v1/Oem/SmartFleet/Services/${s.id}`;
        this.endTask(txn, task, "Completed", `service ${s.id} deployed`, { status: 201, headers: { Location: uri }, body: { "@odata.id": uri } });
        return;
      }
      case "pair-deploy": {
        const p = d.servicePairs.find((x) => x.id === kind.pairId);
        if (!p) return this.endTask(txn, task, "Killed", "the pair was deleted");
        p.state = "Enabled";
        const uri = `/redfish/v1/Oem/SmartFleet/ServicePairs/${p.id}`;
        this.endTask(txn, task, "Completed", `service pair ${p.id} deployed`, { status: 201, headers: { Location: uri }, body: { "@odata.id": uri } });
        return;
      }
    }
  }

  /** A task found in flight at start: installs end as Exception (the DPU lost power mid-write); the rest resume. */
  private recoverTask(task: TaskRecord): void {
    const interrupted = task.kind.type === "firmware-update" || (task.kind.type === "host-reset" && task.kind.install !== null);
    if (interrupted) {
      this.transact((txn) => {
        const d = txn.dpu(task.serial);
        if (task.kind.type === "firmware-update" && task.kind.target === "os") d.dpuOs.state = d.dpuOs.version ? "Enabled" : "Absent";
        this.endTask(txn, task, "Exception", "the emulator restarted while the install ran; the image was not applied; run the update again");
      });
      return;
    }
    this.arm(task);
  }
}

/** Out-of-band changes the admin API can make. */
export type DriftChange =
  | { kind: "mode"; value: unknown }
  | { kind: "hostPrivilege"; value: unknown }
  | { kind: "hostname"; value: unknown }
  | { kind: "deleteService"; id: string }
  | { kind: "changeService"; id: string; version?: string; cores?: number; memoryGiB?: number; config?: Record<string, unknown>; state?: ServiceState["state"] }
  | { kind: "failover"; id: string };

function message(messageId: string, text: string, severity: TaskMessage["severity"], args: string[]): TaskMessage {
  return { messageId, message: text, severity, args };
}

/** A new DPU as it leaves the factory. */
function factoryState(p: PlacedDpu): DpuState {
  const cred = p.nic.factoryCredentials;
  return {
    serial: p.nic.serial,
    generation: 0,
    accounts: [{ id: cred.username, userName: cred.username, password: cred.password, roleId: "Administrator", passwordChangeRequired: true, enabled: true, failedLogins: 0, lockedUntil: 0 }],
    sessions: [],
    bios: { mode: p.nic.factoryState?.mode ?? "dpu", hostPrivilege: p.nic.factoryState?.hostPrivilege ?? "privileged", pending: {}, modeAwaitingHostCycle: null },
    dpu: { powerState: "On", crashed: false },
    firmware: { ...(FACTORY_FIRMWARE[p.nic.vendor] ?? FACTORY_FIRMWARE.nvidia) },
    dpuOs: { image: null, version: null, hostname: null, ntpServers: [], cluster: null, state: "Absent" },
    host: { powerState: "On", bootOverride: { enabled: "Disabled", target: "None" }, os: null },
    virtualMedia: { image: null, inserted: false },
    services: [],
    hostDevices: [],
    servicePairs: [],
    pairMemberships: [],
    acceleratorShares: [],
    nextId: { task: 1, session: 1, service: 1, device: 1, pair: 1, share: 1, pci: 0 },
  };
}

// ---------------------------------------------------------------- input checks

function requireString(property: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw value === undefined ? missing(property) : badValue(property, value, "a non-empty string");
  return value;
}

function requireName(property: string, value: unknown): string {
  const s = requireString(property, value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(s)) throw new ServiceError(400, "PropertyValueFormatError", [s, property], `${property} must be letters, digits, '.', '_' or '-'`);
  return s;
}

function requireInt(property: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) throw value === undefined ? missing(property) : badValue(property, value, "an integer");
  if (value < min) throw new ServiceError(400, "PropertyValueOutOfRange", [String(value), property], `${property} must be at least ${min}`);
  return value;
}

function requireBoolean(property: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw badValue(property, value, "true or false");
  return value;
}

function requireEnum<T extends string>(property: string, value: unknown, allowed: readonly T[]): T {
  if (value === undefined) throw missing(property);
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) throw notInList(property, value, allowed);
  return value as T;
}

function checkPassword(value: unknown): string {
  const p = requireString("Password", value);
  if (p.length < 8 || p.length > 128) throw new ServiceError(400, "PropertyValueFormatError", ["<hidden>", "Password"], "Password must be 8 to 128 characters");
  return p;
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

function serviceSpec(spec: Record<string, unknown>): {
  id: string | undefined;
  name: string | undefined;
  serviceType: ServiceType;
  version: string;
  cores: number;
  memoryGiB: number;
  config: Record<string, unknown>;
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
  };
}
