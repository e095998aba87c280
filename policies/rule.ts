/**
 * What a policy rule is: a pure function over the expanded stack model, with an id, a
 * severity, a description and a remediation. The same rules run in `smartfleet check`
 * and in the CrossGuard policy pack.
 */
import type { LoadedStack, SmartNicModel } from "../model/load";
import type { HardwareCompatibility } from "../schemas/generated/hardware-compatibility";

/** How bad a finding is: errors fail `smartfleet check` and block `pulumi preview`. */
export type Severity = "error" | "warning";

/** A DPU as the rules see it: the inventory entry without its factory credentials. */
export type PolicySmartNic = Omit<SmartNicModel, "hardware"> & { hardware: Omit<SmartNicModel["hardware"], "factoryCredentials"> };

/**
 * The parts of a loaded stack the rules read. A `LoadedStack` is one; the CrossGuard
 * adapter rebuilds one from the resources' inputs (which carry no factory credentials).
 */
export interface PolicyModel {
  /** Managed hosts. */
  hosts: LoadedStack["hosts"];
  /** Managed DPUs. */
  smartnics: PolicySmartNic[];
  /** Service pairs. */
  servicePairs: LoadedStack["servicePairs"];
  /** Accelerator shares. */
  acceleratorShares: LoadedStack["acceleratorShares"];
  /** The expanded stack document (scanned for secrets; maintenance settings). */
  stack: LoadedStack["stack"];
  /**
   * What the fleet holds now and what the rollout will do, when known: `smartfleet plan`
   * fills it from the management ports and the preview. Offline (`smartfleet check`, the
   * Pulumi program, CrossGuard) it is absent and rules fall back to the inventory's
   * factory state.
   */
  live?: LiveContext;
}

/** The live state and the planned rollout, as `smartfleet plan` knows them. */
export interface LiveContext {
  /** Each managed DPU's mode now, by `host/nic`, as its port (or the refreshed state) reports it; absent when unknown. */
  modes: Record<string, "dpu" | "nic" | undefined>;
  /** The hosts the planned rollout disrupts (DPU reboot, host power cycle, OS install), with their window in seconds from the start. */
  disruptions: Array<{ host: string; start: number; end: number }>;
}

/** The mode a DPU is in now: the live one when known, else the inventory's factory state. */
export function currentMode(model: PolicyModel, nic: PolicySmartNic): { mode: "dpu" | "nic"; source: "live" | "factory" } {
  const live = model.live?.modes[nic.id];
  return live ? { mode: live, source: "live" } : { mode: nic.hardware.factoryState.mode, source: "factory" };
}

/** Reference data the rules read (kept in files under `policies/data/`, not in code). */
export interface PolicyData {
  /** Hardware compatibility and DPU OS reserves. */
  hardware: HardwareCompatibility;
}

/** One thing a rule objects to. */
export interface Violation {
  /** JSON pointer of the offending value in the expanded stack. */
  pointer: string;
  /** What is wrong, naming the objects involved. */
  message: string;
  /** Overrides the rule's severity for this violation (e.g. a milder case). */
  severity?: Severity;
}

/** A policy rule. */
export interface PolicyRule {
  /** Stable id, `SF` and three digits; used to disable a rule. */
  id: string;
  /** Short kebab-case name. */
  name: string;
  /** Default severity of its violations. */
  severity: Severity;
  /** What the rule checks and why. */
  description: string;
  /** How to fix a violation. */
  remediation: string;
  /** Returns every violation in the model; never throws on a valid model. */
  check(model: PolicyModel, data: PolicyData): Violation[];
  /** Set when some violations are warnings although the rule's severity is error (CrossGuard reports them separately, advisory). */
  alsoWarns?: boolean;
}
