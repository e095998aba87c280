/**
 * The DPU and its host as hardware: BIOS settings staged until a reboot, DPU and host power,
 * firmware and DPU OS installs, and a host OS installed by booting from virtual media. The
 * mode change needs a DPU restart and then a host power cycle, as on real cards.
 */
import { verifyImage } from "../images";
import type { BootOverrideState, BootTarget, DpuMode, DpuState, HostPrivilege, TaskKind, TaskRecord } from "../model";
import { badValue, notAllowed, ServiceError } from "../service-error";
import { requireEnum, requireString } from "./checks";
import type { SimulationCore, Transaction } from "./core";
import { DURATIONS_MS } from "./core";
import type { TaskEngine } from "./tasks";

type Kind<T extends TaskKind["type"]> = Extract<TaskKind, { type: T }>;
type HostInstall = Pick<Kind<"host-reset">, "install" | "installError">;

/** The reset types of the host system. */
export const HOST_RESET_TYPES = ["On", "ForceOff", "GracefulShutdown", "PowerCycle", "ForceRestart", "GracefulRestart"] as const;

/** The reset types of the DPU's Arm system: those a BlueField-3 BMC offers (its ResetActionInfo). */
export const DPU_RESET_TYPES = ["On", "ForceOff", "ForceOn", "ForceRestart", "GracefulRestart", "GracefulShutdown", "PowerCycle", "Nmi"] as const;

/** Boot override values each system takes (the DPU's as a BlueField BMC lists them; the host's what its virtual media flow needs). */
export const BOOT_ALLOWABLE = {
  dpu: {
    enabled: ["Once", "Continuous", "Disabled"],
    target: ["None", "Pxe", "Hdd", "Cd", "Diags", "BiosSetup", "Usb"],
    mode: ["Legacy", "UEFI"],
  },
  host: {
    enabled: ["Disabled", "Once", "Continuous"],
    target: ["None", "Cd", "Pxe", "Hdd", "Usb", "BiosSetup"],
    mode: ["Legacy", "UEFI"],
  },
} as const satisfies Record<"dpu" | "host", { enabled: readonly BootOverrideState["enabled"][]; target: readonly BootTarget[]; mode: readonly string[] }>;

/** An OS install that did not finish leaves the OS that was there before (or none). */
export function abandonOsInstall(d: DpuState): void {
  d.dpuOs.state = d.dpuOs.version ? "Enabled" : "Absent";
}

/**
 * The services of a DPU that has just booted: back to Enabled if it runs in DPU mode with
 * its OS, unless the admin API armed `servicesFailAfterReboot`, which leaves them Failed.
 */
export function servicesAfterBoot(d: DpuState, running: boolean): void {
  if (d.faults.servicesFailAfterReboot) {
    for (const s of d.services) s.state = "Failed";
    return;
  }
  if (running && d.bios.mode === "dpu" && d.dpuOs.state === "Enabled") {
    for (const s of d.services) if (s.state === "Failed") s.state = "Enabled";
  }
}

/** BIOS, power, firmware and boot of every DPU and its host. */
export class Hardware {
  constructor(
    private readonly core: SimulationCore,
    private readonly tasks: TaskEngine,
  ) {
    tasks.register("dpu-reset", { finish: (txn, task, kind) => this.finishDpuReset(txn, task, kind) });
    tasks.register("host-reset", {
      finish: (txn, task, kind) => this.finishHostReset(txn, task, kind),
      lostOnRestart: (kind) => kind.install !== null,
    });
    tasks.register("firmware-update", {
      finish: (txn, task, kind) => this.finishUpdate(txn, task, kind),
      lostOnRestart: () => true,
      onLost: (d, kind) => {
        if (kind.target === "os") abandonOsInstall(d);
      },
    });
  }

  /** Stages BIOS attribute changes in Bios/Settings; they apply at the next DPU reboot. */
  patchBiosSettings(serial: string, patch: { mode?: DpuMode; hostPrivilege?: HostPrivilege }): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (patch.mode !== undefined) d.bios.pending.mode = patch.mode;
      if (patch.hostPrivilege !== undefined) d.bios.pending.hostPrivilege = patch.hostPrivilege;
    });
  }

  /**
   * A power action on the DPU's Arm system (a task), with the reset types a BlueField BMC
   * offers. Null when there is nothing to do (`On` of a running DPU, an off action of one
   * that is off): the action is already done. A hung DPU is reached only by the forced or
   * power-removing types; `Nmi` is delivered at once (no task) to a running OS.
   */
  resetDpu(serial: string, resetType: string): TaskRecord | null {
    const type = requireEnum("ResetType", resetType, DPU_RESET_TYPES);
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (this.isRunning(serial, "dpu-reset")) throw new ServiceError(409, "ResourceInUse", [], "the DPU is already restarting");
      if (this.isRunning(serial, "firmware-update")) throw notAllowed("a firmware update is in progress; restart after it ends");
      const hung = d.dpu.crashed;
      const off = d.dpu.powerState === "Off" && !hung;
      if (hung && (type === "On" || type === "ForceOn" || type === "GracefulShutdown" || type === "GracefulRestart" || type === "Nmi")) {
        throw notAllowed(`the DPU's Arm system is hung, so ${type} cannot reach it; use ForceRestart, PowerCycle or ForceOff`);
      }
      if ((type === "On" || type === "ForceOn") && !off) return null;
      if ((type === "ForceOff" || type === "GracefulShutdown") && off) return null;
      if (type === "Nmi") {
        if (off) throw notAllowed("the DPU is powered off; an NMI needs a running system");
        this.core.eventLog.afterCommit(txn, serial, { severity: "Warning", messageId: "ResourceEvent.1.4.3.ResourceErrorsDetected", args: ["PowerState", "NMI"], message: "a diagnostic interrupt (NMI) was delivered to the DPU's Arm system" });
        return null;
      }
      d.dpu.powerState = "Off";
      return this.tasks.start(txn, serial, `DPU ${type}`, { type: "dpu-reset", resetType: type }, type === "ForceOff" || type === "GracefulShutdown" ? DURATIONS_MS.hostPowerOff : DURATIONS_MS.dpuReset);
    });
  }

  /** Power action on the host (a task); booting from an inserted CD installs its image. Null when already done (`On` of a host that is on, an off action of one that is off). */
  resetHost(serial: string, resetType: string): TaskRecord | null {
    requireEnum("ResetType", resetType, HOST_RESET_TYPES);
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (this.isRunning(serial, "host-reset")) throw new ServiceError(409, "ResourceInUse", [], "a host power action is in progress");
      const boots = resetType !== "ForceOff" && resetType !== "GracefulShutdown";
      if (resetType === "On" && d.host.powerState === "On") return null;
      if (!boots && d.host.powerState === "Off") return null;
      const power = resetType === "PowerCycle" ? DURATIONS_MS.hostPowerCycle : boots ? DURATIONS_MS.hostPowerOn : DURATIONS_MS.hostPowerOff;
      const cd = boots ? this.cdInstall(d) : { install: null, installError: null, ms: 0 };
      const kind = { type: "host-reset" as const, resetType, install: cd.install, installError: cd.installError };
      return this.tasks.start(txn, serial, `Host ${resetType}`, kind, power + cd.ms);
    });
  }

  /** Sets a system's boot override (any of enabled, target, mode); each value must be one `BOOT_ALLOWABLE` lists for the system. */
  setBootOverride(serial: string, system: "dpu" | "host", patch: { enabled?: unknown; target?: unknown; mode?: unknown }): void {
    const allowed = BOOT_ALLOWABLE[system];
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const current = system === "dpu" ? (d.dpu.bootOverride ??= { enabled: "Disabled", target: "None", mode: "UEFI" }) : d.host.bootOverride;
      if (patch.enabled !== undefined) current.enabled = requireEnum("Boot/BootSourceOverrideEnabled", patch.enabled, allowed.enabled);
      if (patch.target !== undefined) current.target = requireEnum("Boot/BootSourceOverrideTarget", patch.target, allowed.target);
      if (patch.mode !== undefined) current.mode = requireEnum("Boot/BootSourceOverrideMode", patch.mode, allowed.mode);
    });
  }

  /** Inserts an image URI into the virtual CD. */
  insertMedia(serial: string, image: unknown): void {
    const uri = requireString("Image", image);
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (d.virtualMedia.inserted) throw new ServiceError(409, "ResourceInUse", [], `media '${d.virtualMedia.image}' is inserted; eject it first`);
      d.virtualMedia = { image: uri, inserted: true };
    });
  }

  /** Ejects the virtual CD. */
  ejectMedia(serial: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.virtualMedia.inserted) throw notAllowed("no media is inserted");
      d.virtualMedia = { image: null, inserted: false };
    });
  }

  /** Installs firmware or the DPU OS from a catalog image (a task). */
  simpleUpdate(serial: string, imageUri: string, target: "os" | "nic" | "bmc"): TaskRecord {
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (this.isRunning(serial, "firmware-update")) throw new ServiceError(409, "ResourceInUse", [], "an update is already in progress");
      // The BMC updates itself; the OS and NIC firmware are written by the running Arm system.
      if (target !== "bmc" && !this.core.healthy(serial)) throw notAllowed("the DPU is not running; recover or restart it first");
      const check = verifyImage(this.core.images(), imageUri);
      const base = target === "os" ? DURATIONS_MS.dpuOsInstall : target === "nic" ? DURATIONS_MS.nicFirmware : DURATIONS_MS.bmcFirmware;
      const duration = check.image ? base : DURATIONS_MS.imageNotFound;
      if (target === "os") d.dpuOs.state = "Installing";
      return this.tasks.start(txn, serial, `Update ${target} from ${imageUri}`, { type: "firmware-update", target, imageUri }, duration);
    });
  }

  /** Changes hostname, NTP servers or cluster of the DPU OS. */
  patchDpuOs(serial: string, patch: { hostname?: unknown; ntpServers?: unknown; cluster?: unknown }): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (d.dpuOs.state !== "Enabled") throw notAllowed(`the DPU OS is ${d.dpuOs.state}; install it first`);
      if (patch.hostname !== undefined) d.dpuOs.hostname = checkHostname(patch.hostname);
      if (patch.ntpServers !== undefined) {
        if (!Array.isArray(patch.ntpServers) || patch.ntpServers.some((s) => typeof s !== "string")) throw badValue("NtpServers", patch.ntpServers, "an array of strings");
        d.dpuOs.ntpServers = [...(patch.ntpServers as string[])];
      }
      if (patch.cluster !== undefined) d.dpuOs.cluster = patch.cluster === null ? null : requireString("Cluster", patch.cluster);
    });
  }

  /** Runs `change` (a boot, a mode change) and logs each service it left Failed that was not before. */
  private logNewFailures(txn: Transaction, d: DpuState, change: () => void): void {
    const failed = new Set(d.services.filter((s) => s.state === "Failed").map((s) => s.id));
    change();
    for (const s of d.services) {
      if (s.state !== "Failed" || failed.has(s.id)) continue;
      this.core.eventLog.afterCommit(txn, d.serial, {
        severity: "Critical",
        messageId: "ResourceEvent.1.4.3.ResourceStatusChangedCritical",
        args: [`service ${s.id}`, "Critical"],
        message: `service ${s.name} (${s.serviceType}) failed to come up after the DPU booted`,
        origin: `/redfish/v1/Oem/SmartFleet/Services/${encodeURIComponent(s.id)}`,
      });
    }
  }

  private isRunning(serial: string, type: TaskKind["type"]): boolean {
    return this.tasks.running(serial).some((t) => t.kind.type === type);
  }

  /** The install a boot would run from the virtual CD (boot override Once to Cd, media inserted), and its extra time. */
  private cdInstall(d: DpuState): HostInstall & { ms: number } {
    const none = { install: null, installError: null, ms: 0 };
    const fromCd = d.host.bootOverride.enabled !== "Disabled" && d.host.bootOverride.target === "Cd" && d.virtualMedia.inserted && d.virtualMedia.image;
    if (!fromCd || !d.virtualMedia.image) return none;
    const check = verifyImage(this.core.images(), d.virtualMedia.image);
    if (check.error) return { install: null, installError: check.error, ms: check.image ? DURATIONS_MS.hostOsInstall : DURATIONS_MS.imageNotFound };
    if (!check.image) return none;
    return { install: { image: check.image.name, version: check.image.version, uri: check.image.uri }, installError: null, ms: DURATIONS_MS.hostOsInstall };
  }

  private finishDpuReset(txn: Transaction, task: TaskRecord, kind: Kind<"dpu-reset">): void {
    const d = txn.dpu(task.serial);
    if (kind.resetType === "ForceOff" || kind.resetType === "GracefulShutdown") {
      d.dpu.crashed = false;
      d.dpu.powerState = "Off";
      return this.tasks.end(txn, task, "Completed", "DPU powered off");
    }
    // A forced restart or a power cycle is how an operator gets a crashed DPU back; a graceful one cannot reach it.
    if (kind.resetType === "ForceRestart" || kind.resetType === "PowerCycle") d.dpu.crashed = false;
    d.dpu.powerState = d.dpu.crashed ? "Off" : "On";
    const override = d.dpu.bootOverride;
    if (override?.enabled === "Once") d.dpu.bootOverride = { ...override, enabled: "Disabled", target: "None" };
    this.logNewFailures(txn, d, () => servicesAfterBoot(d, !d.dpu.crashed));
    applyPendingBios(d);
    const awaiting = d.bios.modeAwaitingHostCycle;
    this.tasks.end(txn, task, "Completed", awaiting ? `DPU restarted; mode '${awaiting}' applies at the next host power cycle` : "DPU restarted");
  }

  private finishHostReset(txn: Transaction, task: TaskRecord, kind: Kind<"host-reset">): void {
    const d = txn.dpu(task.serial);
    const boots = kind.resetType !== "ForceOff" && kind.resetType !== "GracefulShutdown";
    const fullCycle = kind.resetType === "PowerCycle" || (kind.resetType === "On" && d.host.powerState === "Off");
    d.host.powerState = boots ? "On" : "Off";
    if (boots && fullCycle && d.bios.modeAwaitingHostCycle) this.logNewFailures(txn, d, () => this.applyAwaitedMode(d));
    if (boots && d.host.bootOverride.enabled === "Once") d.host.bootOverride = { ...d.host.bootOverride, enabled: "Disabled", target: "None" };
    if (kind.installError) return this.tasks.end(txn, task, "Exception", `host OS install failed: ${kind.installError}`);
    if (kind.install) d.host.os = { image: kind.install.image, version: kind.install.version };
    this.tasks.end(txn, task, "Completed", kind.install ? `host booted from CD and installed ${kind.install.image} ${kind.install.version}` : `host ${kind.resetType} done`);
  }

  /** The host power cycle that completes a mode change: services fail in NIC mode and come back in DPU mode. */
  private applyAwaitedMode(d: DpuState): void {
    d.bios.mode = d.bios.modeAwaitingHostCycle ?? d.bios.mode;
    d.bios.modeAwaitingHostCycle = null;
    for (const s of d.services) {
      s.state = d.bios.mode === "dpu" && s.state === "Failed" && this.core.healthy(d.serial) && !d.faults.servicesFailAfterReboot ? "Enabled" : d.bios.mode === "nic" ? "Failed" : s.state;
    }
  }

  private finishUpdate(txn: Transaction, task: TaskRecord, kind: Kind<"firmware-update">): void {
    const d = txn.dpu(task.serial);
    // Checked again at the end: the catalog's bytes are what a real install would read.
    const check = verifyImage(this.core.images(), kind.imageUri);
    if (check.error || !check.image) {
      if (kind.target === "os") abandonOsInstall(d);
      return this.tasks.end(txn, task, "Exception", check.error ?? "image unavailable");
    }
    const img = check.image;
    if (kind.target === "os") {
      d.firmware.os = img.version;
      d.dpuOs = { ...d.dpuOs, image: img.name, version: img.version, state: "Enabled" };
    } else if (kind.target === "nic") d.firmware.nic = img.version;
    else d.firmware.bmc = img.version;
    // The card restarts into what was written.
    if (kind.target !== "bmc" && d.faults.servicesFailAfterReboot) this.logNewFailures(txn, d, () => servicesAfterBoot(d, this.core.healthy(d.serial)));
    this.tasks.end(txn, task, "Completed", `installed ${img.name} ${img.version}`);
  }
}

/** Staged BIOS settings take effect at a DPU restart; a mode change then still waits for a host power cycle. */
function applyPendingBios(d: DpuState): void {
  if (d.bios.pending.hostPrivilege !== undefined) d.bios.hostPrivilege = d.bios.pending.hostPrivilege;
  if (d.bios.pending.mode !== undefined) {
    if (d.bios.pending.mode !== d.bios.mode) d.bios.modeAwaitingHostCycle = d.bios.pending.mode;
    else d.bios.modeAwaitingHostCycle = null;
  }
  d.bios.pending = {};
}

function checkHostname(value: unknown): string {
  const h = requireString("Hostname", value);
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(h)) throw new ServiceError(400, "PropertyValueFormatError", [h, "Hostname"], "Hostname must be a DNS name");
  return h;
}
