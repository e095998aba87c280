import type { PolicyData, PolicyModel, PolicyRule, Violation } from "../rule";
import type { PolicySmartNic as SmartNicModel } from "../rule";

/** Cores and memory asked of each DPU: its OS reserve, its services and its service-pair sides. */
export function demandByDpu(model: PolicyModel, data: PolicyData): Map<string, { cores: number; memoryGiB: number; parts: string[] }> {
  const demand = new Map<string, { cores: number; memoryGiB: number; parts: string[] }>();
  const reserveOf = (nic: SmartNicModel) => (nic.spec.os ? data.hardware.osReserves[nic.spec.os.image] : undefined) ?? data.hardware.defaultOsReserve;
  for (const nic of model.smartnics) {
    const reserve = reserveOf(nic);
    const entry = { cores: reserve.cores, memoryGiB: reserve.memoryGiB, parts: [`OS reserve ${reserve.cores}c/${reserve.memoryGiB}GiB`] };
    for (const s of nic.services) {
      entry.cores += s.spec.cores;
      entry.memoryGiB += s.spec.memoryGiB;
      entry.parts.push(`${s.name} ${s.spec.cores}c/${s.spec.memoryGiB}GiB`);
    }
    demand.set(nic.id, entry);
  }
  for (const pair of model.servicePairs) {
    for (const side of [pair.primary, pair.secondary]) {
      const entry = demand.get(side);
      if (!entry) continue;
      entry.cores += pair.spec.service.cores;
      entry.memoryGiB += pair.spec.service.memoryGiB;
      entry.parts.push(`pair ${pair.name} ${pair.spec.service.cores}c/${pair.spec.service.memoryGiB}GiB`);
    }
  }
  return demand;
}

/** SF002: the services on each DPU fit its cores and memory after the DPU OS reserve. */
export const capacity: PolicyRule = {
  id: "SF002",
  name: "dpu-capacity",
  severity: "error",
  description: "Services (including service-pair sides) must fit each DPU's Arm cores and memory after the DPU OS reserve.",
  remediation: "Reduce the services' cores or memory, move a service to another DPU, or use a larger DPU.",
  check(model, data) {
    const violations: Violation[] = [];
    const demand = demandByDpu(model, data);
    for (const nic of model.smartnics) {
      const asked = demand.get(nic.id);
      if (!asked) continue;
      const over: string[] = [];
      if (asked.cores > nic.hardware.armCores) over.push(`${asked.cores} cores of ${nic.hardware.armCores}`);
      if (asked.memoryGiB > nic.hardware.memoryGiB) over.push(`${asked.memoryGiB} GiB of ${nic.hardware.memoryGiB} GiB`);
      if (over.length > 0) {
        violations.push({
          pointer: nic.services.length > 0 ? nic.pointer + "/services" : nic.pointer,
          message: `${nic.id} is over capacity: needs ${over.join(" and ")} (${asked.parts.join(", ")})`,
        });
      }
    }
    return violations;
  },
};
