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
