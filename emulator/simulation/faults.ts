/**
 * What the admin API does to a DPU behind the client's back: crash and recovery of the Arm
 * system (with pair failover), and out-of-band drift as an operator at the console makes it.
 * This is how tests reach the states a provider must detect and repair.
 */
import type { DpuState, ServiceState } from "../model";
import { notFound } from "../service-error";
import { requireEnum, requireString } from "./checks";
import type { SimulationCore, Transaction } from "./core";
import { abandonOsInstall } from "./hardware";
import type { TaskEngine } from "./tasks";

/** Out-of-band changes the admin API can make. */
export type DriftChange =
  | { kind: "mode"; value: unknown }
  | { kind: "hostPrivilege"; value: unknown }
  | { kind: "hostname"; value: unknown }
  | { kind: "deleteService"; id: string }
  | { kind: "changeService"; id: string; version?: string; cores?: number; memoryGiB?: number; config?: Record<string, unknown>; state?: ServiceState["state"] }
  | { kind: "failover"; id: string }
  | { kind: "osVersion"; value: unknown }
  | { kind: "deleteDevice"; id: string };

type DriftOf<K extends DriftChange["kind"]> = Extract<DriftChange, { kind: K }>;

/** How each drift edits a DPU document; no checks of the rules, as a console would not check them. */
const DRIFTS: { [K in DriftChange["kind"]]: (d: DpuState, change: DriftOf<K>) => void } = {
  mode: (d, c) => {
    d.bios.mode = requireEnum("value", c.value, ["dpu", "nic"] as const);
  },
  hostPrivilege: (d, c) => {
    d.bios.hostPrivilege = requireEnum("value", c.value, ["privileged", "restricted"] as const);
  },
  hostname: (d, c) => {
    d.dpuOs.hostname = requireString("value", c.value);
  },
  deleteService: (d, c) => {
    if (!d.services.some((s) => s.id === c.id)) throw notFound("Service", c.id);
    d.services = d.services.filter((s) => s.id !== c.id);
    for (const h of d.hostDevices) if (h.backingService === c.id) h.backingService = null;
  },
  changeService: (d, c) => {
    const s = d.services.find((x) => x.id === c.id);
    if (!s) throw notFound("Service", c.id);
    if (c.version !== undefined) s.version = c.version;
    if (c.cores !== undefined) s.cores = c.cores;
    if (c.memoryGiB !== undefined) s.memoryGiB = c.memoryGiB;
    if (c.config !== undefined) s.config = c.config;
    if (c.state !== undefined) s.state = c.state;
  },
  osVersion: (d, c) => {
    // Someone reinstalled the DPU OS from the console: another version of the same image.
    const version = requireString("value", c.value);
    d.dpuOs.version = version;
    d.firmware.os = version;
  },
  deleteDevice: (d, c) => {
    if (!d.hostDevices.some((h) => h.id === c.id)) throw notFound("HostDevice", c.id);
    d.hostDevices = d.hostDevices.filter((h) => h.id !== c.id);
  },
  failover: (d, c) => {
    const p = d.servicePairs.find((x) => x.id === c.id);
    if (!p) throw notFound("ServicePair", c.id);
    p.activeSide = p.activeSide === "primary" ? "secondary" : "primary";
    p.failedOver = true;
  },
};

/** Fault injection and drift. */
export class Faults {
  constructor(
    private readonly core: SimulationCore,
    private readonly tasks: TaskEngine,
  ) {}

  /** The DPU's Arm system crashes: services fail, pairs it leads fail over, its tasks end. */
  crash(serial: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      d.dpu.crashed = true;
      d.dpu.powerState = "Off";
      this.core.eventLog.afterCommit(txn, serial, { severity: "Critical", messageId: "ResourceEvent.1.4.3.ResourceStatusChangedCritical", args: ["DPU Arm system", "Critical"], message: "the DPU's Arm system crashed; its services failed" });
      for (const s of d.services) s.state = "Failed";
      this.failOver(txn, d);
      // A host power action does not need the Arm system, so it runs on.
      for (const t of this.tasks.running(serial)) {
        if (t.kind.type !== "host-reset") this.tasks.end(txn, t, "Exception", `DPU ${serial} crashed while the task ran`);
      }
      if (d.dpuOs.state === "Installing") abandonOsInstall(d);
    });
  }

  /** The crashed DPU boots again; services come back; pairs stay where they are until PATCHed. */
  recover(serial: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      d.dpu.crashed = false;
      d.dpu.powerState = "On";
      this.core.eventLog.afterCommit(txn, serial, { severity: "OK", messageId: "ResourceEvent.1.4.3.ResourceStatusChangedOK", args: ["DPU Arm system", "OK"], message: "the DPU's Arm system booted again after a crash" });
      if (d.faults.servicesFailAfterReboot) return;
      for (const s of d.services) if (s.state === "Failed" && d.bios.mode === "dpu") s.state = "Enabled";
    });
  }

  /**
   * Arms a failing health gate: from the DPU's next boot (restart, OS or NIC firmware
   * install, recovery from a crash) on, its services come up Failed, until cleared.
   */
  failServicesAfterReboot(serial: string): void {
    this.core.transact((txn) => {
      txn.dpu(serial).faults.servicesFailAfterReboot = true;
    });
  }

  /** Disarms it, and brings Failed services back as an operator fixing them would (on a running DPU in DPU mode with its OS). */
  clearServicesFailAfterReboot(serial: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      d.faults.servicesFailAfterReboot = false;
      if (this.core.healthy(serial) && !this.core.rebooting(serial) && d.bios.mode === "dpu" && d.dpuOs.state === "Enabled") {
        for (const s of d.services) if (s.state === "Failed") s.state = "Enabled";
      }
    });
  }

  /** Out-of-band changes, as an operator at the console would make them. */
  drift(serial: string, change: DriftChange): void {
    this.core.transact((txn) => {
      const apply = DRIFTS[change.kind] as (d: DpuState, c: DriftChange) => void;
      apply(txn.dpu(serial), change);
    });
  }

  /** Pairs led by the crashed DPU move to a healthy secondary; pairs it was standing in for go back to a healthy primary. */
  private failOver(txn: Transaction, d: DpuState): void {
    for (const p of d.servicePairs) {
      if (p.activeSide === "primary" && this.core.healthy(p.secondarySerial)) {
        p.activeSide = "secondary";
        p.failedOver = true;
      }
    }
    for (const m of d.pairMemberships) {
      const primary = txn.dpu(m.primarySerial).servicePairs.find((p) => p.id === m.pairId);
      if (primary && primary.activeSide === "secondary" && this.core.healthy(m.primarySerial)) {
        primary.activeSide = "primary";
        primary.failedOver = false;
      }
    }
  }
}
