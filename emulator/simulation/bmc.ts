/**
 * The management controller itself: its restarts (Manager.Reset) and its clock. A restart
 * ends every session (a BMC keeps them in memory) and is logged; the DPU and its host run
 * on, as they do while a real BMC reboots. The controller's last reset time is the
 * emulator's start or its last Manager.Reset, whichever is later.
 */
import type { SimulationCore } from "./core";

/** The reset types the Manager takes (those of a BlueField-3 BMC that leave it running). */
export const MANAGER_RESET_TYPES = ["GracefulRestart", "ForceRestart"] as const;

/** Restarts and uptime of every DPU's management controller. */
export class Bmc {
  private readonly startedAt: number;
  private readonly lastReset = new Map<string, number>();

  constructor(private readonly core: SimulationCore) {
    this.startedAt = core.clock.now();
  }

  /** Restarts the controller of a DPU: sessions end, an entry is logged. */
  reset(serial: string, resetType: (typeof MANAGER_RESET_TYPES)[number]): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const ended = d.sessions.length;
      d.sessions = [];
      this.core.eventLog.afterCommit(txn, serial, {
        severity: "OK",
        messageId: "ResourceEvent.1.4.3.ResourcePoweredOn",
        args: ["Manager"],
        message: `management controller ${resetType}: ${ended} session(s) ended`,
      });
      txn.after.push(() => this.lastReset.set(serial, this.core.clock.now()));
    });
  }

  /** Clock ms of the controller's last (re)start. */
  lastResetTime(serial: string): number {
    return this.lastReset.get(serial) ?? this.startedAt;
  }
}
