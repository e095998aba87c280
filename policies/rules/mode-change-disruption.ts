import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** SF008: changing a DPU's mode needs a host power cycle, which the stack must allow. */
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
      const current = nic.hardware.factoryState.mode;
      if (nic.spec.mode !== current) {
        violations.push({
          pointer: childPointer(nic.pointer, "mode"),
          message: `${nic.id} changes mode ${current} → ${nic.spec.mode}, which power-cycles host ${nic.host}, but maintenance.allowHostPowerCycle is false`,
        });
      }
    }
    return violations;
  },
};
