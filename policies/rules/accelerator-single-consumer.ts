import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** SF010: an accelerator is shared with at most one consumer. */
export const acceleratorSingleConsumer: PolicyRule = {
  id: "SF010",
  name: "accelerator-single-consumer",
  severity: "error",
  description: "An accelerator can be attached to one consuming host at a time; sharing it twice would give two hosts the same device.",
  remediation: "Remove all but one share of the accelerator, or share a different accelerator.",
  check(model) {
    const violations: Violation[] = [];
    const firstBySource = new Map<string, string>();
    for (const share of model.acceleratorShares) {
      const source = share.spec.source;
      const first = firstBySource.get(source);
      if (first === undefined) {
        firstBySource.set(source, share.name);
        continue;
      }
      violations.push({
        pointer: childPointer(share.pointer, "source"),
        message: `accelerator ${source} is already shared by ${first}; ${share.name} would give it a second consumer (${share.consumer})`,
      });
    }
    return violations;
  },
};
