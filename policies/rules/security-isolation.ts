import type { PolicyRule, Violation } from "../rule";

/** Services that must not be switchable from the host they protect. */
export const ISOLATED_SERVICES = new Set(["firewall", "ids-ips"]);

/** SF004: firewall and IDS/IPS only run on DPUs the host cannot reconfigure. */
export const securityIsolation: PolicyRule = {
  id: "SF004",
  name: "security-isolation",
  severity: "error",
  description: "Firewall and IDS/IPS services must run only on DPUs with hostPrivilege restricted, or a compromised host could switch them off.",
  remediation: "Set hostPrivilege: restricted on the DPU, or move the service to a restricted DPU.",
  check(model) {
    const violations: Violation[] = [];
    const byId = new Map(model.smartnics.map((n) => [n.id, n]));
    for (const nic of model.smartnics) {
      if (nic.spec.hostPrivilege === "restricted") continue;
      for (const s of nic.services) {
        if (ISOLATED_SERVICES.has(s.spec.type)) {
          violations.push({ pointer: s.pointer, message: `${s.spec.type} service ${s.name} runs on ${nic.id}, which is ${nic.spec.hostPrivilege}` });
        }
      }
    }
    for (const pair of model.servicePairs) {
      if (!ISOLATED_SERVICES.has(pair.spec.service.type)) continue;
      for (const [side, id] of [["primary", pair.primary], ["secondary", pair.secondary]] as const) {
        const nic = byId.get(id);
        if (nic && nic.spec.hostPrivilege !== "restricted") {
          violations.push({ pointer: `${pair.pointer}/${side}`, message: `${pair.spec.service.type} pair ${pair.name} has its ${side} on ${id}, which is ${nic.spec.hostPrivilege}` });
        }
      }
    }
    return violations;
  },
};
