import * as semver from "semver";
import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** SF001: every DPU is a supported model × host vendor × DPU OS version combination. */
export const hardwareCompatibility: PolicyRule = {
  id: "SF001",
  name: "hardware-compatibility",
  severity: "error",
  description: "Each DPU model must be supported in its host's vendor and with its DPU OS version (policies/data/hardware-compatibility.yaml).",
  remediation: "Use a supported DPU OS version, move the DPU to a supported host, or add the validated combination to the data file.",
  check(model, data) {
    const violations: Violation[] = [];
    for (const nic of model.smartnics) {
      const entries = data.hardware.combinations.filter((c) => c.dpuModel === nic.hardware.model);
      const forVendor = entries.filter((c) => c.hostVendors.includes(nic.hostVendor));
      if (forVendor.length === 0) {
        violations.push({
          pointer: nic.pointer,
          message: `${nic.id}: ${nic.hardware.model} is not supported in ${nic.hostVendor} hosts`,
        });
        continue;
      }
      const os = nic.spec.os;
      if (!os) continue;
      const ranges = forVendor.map((c) => c.dpuOs[os.image]).filter((r): r is string => typeof r === "string");
      const version = semver.coerce(os.version)?.version;
      if (ranges.length === 0 || !version || !ranges.some((r) => semver.satisfies(version, r))) {
        violations.push({
          pointer: childPointer(nic.pointer, "os", "version"),
          message: `${nic.id}: ${os.image} ${os.version} is not supported on ${nic.hardware.model} in ${nic.hostVendor} hosts${ranges.length ? ` (supported: ${ranges.join(" or ")})` : ` (no supported ${os.image} version)`}`,
        });
      }
    }
    return violations;
  },
};
