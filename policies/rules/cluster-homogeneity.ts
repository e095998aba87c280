import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";
import type { PolicySmartNic as SmartNicModel } from "../rule";

/** SF006: the DPUs of one DPU OS cluster are all of one vendor and model. */
export const clusterHomogeneity: PolicyRule = {
  id: "SF006",
  name: "cluster-homogeneity",
  severity: "error",
  description: "All DPUs in one DPU OS cluster must be of the same vendor and model.",
  remediation: "Put DPUs of different models in different clusters.",
  check(model) {
    const violations: Violation[] = [];
    const clusters = new Map<string, SmartNicModel[]>();
    for (const nic of model.smartnics) {
      const cluster = nic.spec.os?.cluster;
      if (!cluster) continue;
      clusters.set(cluster, [...(clusters.get(cluster) ?? []), nic]);
    }
    for (const [cluster, members] of clusters) {
      const kindOf = (n: SmartNicModel) => `${n.hardware.vendor} ${n.hardware.model}`;
      const first = kindOf(members[0]);
      for (const nic of members.slice(1)) {
        if (kindOf(nic) !== first) {
          violations.push({
            pointer: childPointer(nic.pointer, "os", "cluster"),
            message: `cluster ${cluster} mixes ${first} (${members[0].id}) with ${kindOf(nic)} (${nic.id})`,
          });
        }
      }
    }
    return violations;
  },
};
