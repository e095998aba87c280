import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** SF007: services, host devices, pair sides and accelerator shares need DPUs in dpu mode. */
export const dpuMode: PolicyRule = {
  id: "SF007",
  name: "services-need-dpu-mode",
  severity: "error",
  description: "Only a DPU in dpu mode runs services, presents host devices, holds a service-pair side or takes part in an accelerator share.",
  remediation: "Set mode: dpu on the DPU, or remove what needs it.",
  check(model) {
    const violations: Violation[] = [];
    const nicMode = new Set(model.smartnics.filter((n) => n.spec.mode !== "dpu").map((n) => n.id));
    for (const nic of model.smartnics) {
      if (!nicMode.has(nic.id)) continue;
      for (const s of nic.services) violations.push({ pointer: s.pointer, message: `service ${s.name} is on ${nic.id}, which is in ${nic.spec.mode} mode` });
      for (const d of nic.devices) violations.push({ pointer: d.pointer, message: `host device ${d.name} is on ${nic.id}, which is in ${nic.spec.mode} mode` });
    }
    for (const pair of model.servicePairs) {
      for (const [side, id] of [["primary", pair.primary], ["secondary", pair.secondary]] as const) {
        if (nicMode.has(id)) violations.push({ pointer: childPointer(pair.pointer, side), message: `service pair ${pair.name} has its ${side} on ${id}, which is not in dpu mode` });
      }
    }
    for (const share of model.acceleratorShares) {
      if (nicMode.has(share.consumer)) violations.push({ pointer: childPointer(share.pointer, "consumer"), message: `accelerator share ${share.name} is consumed through ${share.consumer}, which is not in dpu mode` });
      if (nicMode.has(share.exporter)) violations.push({ pointer: childPointer(share.pointer, "source"), message: `accelerator share ${share.name} is exported through ${share.exporter}, which is not in dpu mode` });
    }
    return violations;
  },
};
