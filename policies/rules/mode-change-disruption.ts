import { childPointer } from "../../schemas/source-index";
import { currentMode, type PolicyRule, type Violation } from "../rule";

/**
 * SF008: changing a DPU's mode needs a host power cycle, which the stack must allow. "The
 * current mode" is the live one when `smartfleet plan` read it (`model.live`), else the
 * inventory's factory state (`smartfleet check`, the program and CrossGuard, offline).
 */
export const modeChangeDisruption: PolicyRule = {
  id: "SF008",
  name: "mode-change-disruption",
  severity: "error",
  description: "A DPU mode change takes effect only after a DPU reboot and a host power cycle; the stack must allow that with maintenance.allowHostPowerCycle.",
  remediation: "Set maintenance.allowHostPowerCycle: true for a planned maintenance window, or keep the DPU in its current mode.",
  check(model) {
    if (model.stack.maintenance.allowHostPowerCycle) return [];
    const violations: Violation[] = [];
    for (const nic of model.smartnics) {
      const { mode: current, source } = currentMode(model, nic);
      if (nic.spec.mode !== current) {
        const seen = source === "live" ? ` (its port reports ${current} now)` : "";
        violations.push({
          pointer: childPointer(nic.pointer, "mode"),
          message: `${nic.id} changes mode ${current} → ${nic.spec.mode}${seen}, which power-cycles host ${nic.host}, but maintenance.allowHostPowerCycle is false`,
        });
      }
    }
    return violations;
  },
};
