import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** SF003: the two sides of a service pair are on different DPUs, preferably in different hosts. */
export const servicePairAntiAffinity: PolicyRule = {
  id: "SF003",
  name: "service-pair-anti-affinity",
  severity: "error",
  alsoWarns: true,
  description: "A service pair's primary and secondary must be on different DPUs (error) and should be in different hosts (warning), or one failure takes both.",
  remediation: "Move the secondary to a DPU in another host.",
  check(model) {
    const violations: Violation[] = [];
    for (const pair of model.servicePairs) {
      const at = childPointer(pair.pointer, "secondary");
      if (pair.primary === pair.secondary) {
        violations.push({ pointer: at, message: `service pair ${pair.name} has both sides on ${pair.primary}` });
      } else if (pair.primary.split("/")[0] === pair.secondary.split("/")[0]) {
        violations.push({
          pointer: at,
          severity: "warning",
          message: `service pair ${pair.name} has both sides in host ${pair.primary.split("/")[0]} (${pair.primary}, ${pair.secondary})`,
        });
      }
    }
    return violations;
  },
};
