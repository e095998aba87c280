/**
 * The management controller itself: its restarts (Manager.Reset), its clock and its NTP
 * settings (ManagerNetworkProtocol `NTP`, PATCHed with DSP0266's array rules). A restart
 * ends every session (a BMC keeps them in memory) and is logged; the DPU and its host run
 * on, as they do while a real BMC reboots. The controller's last reset time is the
 * emulator's start or its last Manager.Reset, whichever is later.
 */
import type { DpuState } from "../model";
import { ServiceError } from "../service-error";
import { requireBoolean } from "./checks";
import type { SimulationCore } from "./core";

/** The reset types the Manager takes (those of a BlueField-3 BMC that leave it running). */
export const MANAGER_RESET_TYPES = ["GracefulRestart", "ForceRestart"] as const;

/** NTP servers a controller keeps at most (400 ArraySizeTooLong beyond). */
export const MAX_NTP_SERVERS = 4;

/** The controller's NTP settings (defaults for documents that have none). */
export function ntpOf(d: DpuState): { enabled: boolean; servers: string[] } {
  return d.bmc?.ntp ?? { enabled: true, servers: [] };
}

/**
 * An array PATCHed as DSP0266 says: each element of `patch` replaces the element at its
 * index, `null` removes it, `{}` leaves it as it is; elements past the end of `patch` go.
 */
export function patchArray<T>(current: readonly T[], patch: unknown[], element: (value: unknown, index: number) => T): T[] {
  const out: T[] = [];
  patch.forEach((value, i) => {
    if (value === null) return;
    if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) {
      if (i < current.length) out.push(current[i]);
      return;
    }
    out.push(element(value, i));
  });
  return out;
}

/** Restarts, uptime and settings of every DPU's management controller. */
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

  /** Changes the controller's NTP settings: `ProtocolEnabled`, `NTPServers` (array PATCH). */
  patchNtp(serial: string, patch: { enabled?: unknown; servers?: unknown }): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const ntp = { ...ntpOf(d) };
      if (patch.enabled !== undefined) ntp.enabled = requireBoolean("NTP/ProtocolEnabled", patch.enabled);
      if (patch.servers !== undefined) {
        if (!Array.isArray(patch.servers)) throw new ServiceError(400, "PropertyValueTypeError", [JSON.stringify(patch.servers), "NTP/NTPServers"], "NTP/NTPServers must be an array");
        ntp.servers = patchArray(ntp.servers, patch.servers, (value, i) => {
          if (typeof value !== "string" || !/^[A-Za-z0-9.:-]{1,253}$/.test(value)) {
            throw new ServiceError(400, "PropertyValueFormatError", [JSON.stringify(value), `NTP/NTPServers/${i}`], "an NTP server is a host name or an IP address");
          }
          return value;
        });
        if (ntp.servers.length > MAX_NTP_SERVERS) {
          throw new ServiceError(400, "ArraySizeTooLong", ["NTP/NTPServers", String(MAX_NTP_SERVERS)], `NTP/NTPServers holds at most ${MAX_NTP_SERVERS} servers`);
        }
      }
      d.bmc = { ...d.bmc, ntp };
    });
  }

  /** Clock ms of the controller's last (re)start. */
  lastResetTime(serial: string): number {
    return this.lastReset.get(serial) ?? this.startedAt;
  }
}
