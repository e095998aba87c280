/**
 * The disruption model: what each operation a provider performs does to the fleet, decided
 * here once for the planner (`smartfleet plan`), the providers (which hold the rollout
 * budget around the disruptive ones) and the policies. A DPU reboot takes its host's
 * network and storage down with it (a DPU in DPU mode carries them), so it disrupts the
 * host and every service, device, pair side and FPGA share on it.
 */
import type { ResourceKind } from "../schemas/kinds";

/** What an operation does, mildest first. */
export const DISRUPTION_KINDS = ["none", "service-restart", "dpu-reboot", "host-power-cycle", "host-os-install"] as const;

/** One kind of disruption. */
export type DisruptionKind = (typeof DISRUPTION_KINDS)[number];

/** What `--fail-on` and the emulator's disruption log may name besides the operations' kinds. */
export const OUTCOME_KINDS = ["pair-unprotected", "workload-outage", "maintenance"] as const;

/** The lifecycle step Pulumi takes for a resource. */
export type StepKind = "create" | "update" | "replace" | "delete" | "same";

/** One property that changes, with its value before (live or in state) and after. */
export interface PropertyChange {
  /** Top-level input property, e.g. `mode`. */
  property: string;
  /** Its value now (undefined when unknown or new). */
  from?: unknown;
  /** Its value wanted. */
  to?: unknown;
}

/** The disruption of one step of a resource of `kind` that changes `changes`. */
export function classify(kind: ResourceKind, step: StepKind, changes: readonly PropertyChange[]): DisruptionKind {
  if (step === "same") return "none";
  const changed = new Set(changes.map((c) => c.property));
  const any = (...properties: string[]) => properties.some((p) => changed.has(p));
  switch (kind) {
    case "SmartNic":
      // A mode change takes effect only after a DPU reboot and a host power cycle.
      if (any("mode")) return "host-power-cycle";
      return any("hostPrivilege", "firmware") ? "dpu-reboot" : "none";
    case "DpuOs":
      return step === "delete" ? "none" : any("image", "version", "uri", "sha256") ? "dpu-reboot" : "none";
    case "HostOsInstall":
      return step === "delete" ? "none" : any("image", "version", "uri", "sha256") ? "host-os-install" : "none";
    case "DpuService":
    case "ServicePair":
      return step === "create" ? "none" : any("service", "name", "type") || step === "delete" || step === "replace" ? "service-restart" : "none";
    default:
      return "none";
  }
}

/** True when the disruption takes the host down (and everything on its DPUs with it). */
export function disruptsHost(kind: DisruptionKind): boolean {
  return kind === "dpu-reboot" || kind === "host-power-cycle" || kind === "host-os-install";
}

/** The worse of two disruptions. */
export function worse(a: DisruptionKind, b: DisruptionKind): DisruptionKind {
  return DISRUPTION_KINDS.indexOf(a) >= DISRUPTION_KINDS.indexOf(b) ? a : b;
}

/**
 * Documented defaults, in seconds at hardware speed, for how long an operation keeps its
 * host or service down when the port advertises nothing better (the emulated fleet takes
 * the same times at time scale 1): a BlueField DPU reboots in about 90 s, a host power
 * cycle adds 60 s, NIC firmware flashes in 180 s before its reboot, an ESXi-on-Arm install
 * takes 8 minutes and a host OS install through virtual media 10.
 */
export const DEFAULT_SECONDS = {
  dpuReboot: 90,
  hostPowerCycle: 60,
  nicFirmware: 180,
  dpuOsInstall: 480,
  hostOsInstall: 600,
  serviceRestart: 20,
} as const;

/** The estimated duration of a step, in seconds (0 for one that disrupts nothing). */
export function estimateSeconds(kind: ResourceKind, step: StepKind, changes: readonly PropertyChange[]): number {
  const disruption = classify(kind, step, changes);
  const changed = new Set(changes.map((c) => c.property));
  switch (disruption) {
    case "none":
      return 0;
    case "service-restart":
      return DEFAULT_SECONDS.serviceRestart;
    case "host-os-install":
      return DEFAULT_SECONDS.hostOsInstall;
    case "host-power-cycle":
      return DEFAULT_SECONDS.dpuReboot + DEFAULT_SECONDS.hostPowerCycle + (changed.has("firmware") ? DEFAULT_SECONDS.nicFirmware : 0);
    case "dpu-reboot":
      if (kind === "DpuOs") return DEFAULT_SECONDS.dpuOsInstall;
      return DEFAULT_SECONDS.dpuReboot + (changed.has("firmware") ? DEFAULT_SECONDS.nicFirmware : 0);
  }
}
