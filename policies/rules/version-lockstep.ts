import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** SF005: ESXi on the host and ESXi on Arm on its DPUs run the same version. */
export const versionLockstep: PolicyRule = {
  id: "SF005",
  name: "esxi-version-lockstep",
  severity: "error",
  description: "When a host runs ESXi and its DPU runs ESXi on Arm, both must be the same version (vSphere upgrades them together).",
  remediation: "Set the DPU OS version to the host OS version (or upgrade both together).",
  check(model) {
    const violations: Violation[] = [];
    const byId = new Map(model.smartnics.map((n) => [n.id, n]));
    for (const host of model.hosts) {
      const hostOs = host.spec.os;
      if (!hostOs || !hostOs.image.startsWith("esxi")) continue;
      for (const id of host.smartnics) {
        const nic = byId.get(id);
        const dpuOs = nic?.spec.os;
        if (!nic || !dpuOs || !dpuOs.image.startsWith("esxi")) continue;
        if (dpuOs.version !== hostOs.version) {
          violations.push({
            pointer: childPointer(nic.pointer, "os", "version"),
            message: `${nic.id} runs ${dpuOs.image} ${dpuOs.version} but host ${host.name} runs ${hostOs.image} ${hostOs.version}`,
          });
        }
      }
    }
    return violations;
  },
};
