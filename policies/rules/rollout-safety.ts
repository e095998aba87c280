import type { LoadedStack } from "../../model/load";
import { budgetOf, DEFAULT_ROLLOUT, groupOf } from "../../model/rollout";
import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/**
 * SF011: a service pair must keep one side up while the fleet rolls out.
 *
 * - error (only with a plan, `model.live`): the rollout disrupts the host holding both
 *   sides of a pair, or disrupts the two sides' hosts in overlapping windows: the pair's
 *   service goes down, whatever the pair was for;
 * - warning (always): the two sides' hosts are in one rollout group whose budget
 *   (`rollout.maxUnavailable`) is 2 or more, so the budget alone would let both go down
 *   together; only the pair rule of the schedule and the providers' leases keeps them apart,
 *   and anything that goes by the budget (a targeted `up`, a manual reboot per group)
 *   does not.
 *
 * Both sides in one host without a plan is SF003's warning and not repeated here.
 */
export const rolloutSafety: PolicyRule = {
  id: "SF011",
  name: "rollout-safety",
  severity: "error",
  alsoWarns: true,
  description:
    "A rollout must never take both sides of a service pair down at once: not by disrupting the host that holds both (error, in smartfleet plan), not in overlapping windows (error, in smartfleet plan), and the two sides should not share a rollout group whose budget lets two hosts down together (warning).",
  remediation:
    "Move the pair's secondary to a host in another rollout group, or set rollout.maxUnavailable: 1 (or a groupBy that separates the sides); for a pair in one host, move a side to another host before the rollout.",
  check(model) {
    const violations: Violation[] = [];
    // Groups and budgets as model/rollout.ts gives them (groupOf reads only the hosts and their DPUs' OS clusters and slots, which a PolicyModel has).
    const rollout = model.stack.rollout ?? DEFAULT_ROLLOUT;
    const groups = new Map(model.hosts.map((h) => [h.name, groupOf(model as unknown as LoadedStack, h, rollout.groupBy)]));
    const sizes = new Map<string, number>();
    for (const g of groups.values()) sizes.set(g, (sizes.get(g) ?? 0) + 1);
    const windows = new Map((model.live?.disruptions ?? []).map((d) => [d.host, d]));
    for (const pair of model.servicePairs) {
      const at = childPointer(pair.pointer, "secondary");
      const [a, b] = [pair.primary.split("/")[0], pair.secondary.split("/")[0]];
      if (a === b) {
        const w = windows.get(a);
        if (w) {
          violations.push({
            pointer: at,
            message: `the rollout disrupts host ${a} (from ${w.start} s to ${w.end} s), which holds both sides of service pair ${pair.name} (${pair.primary}, ${pair.secondary}): the pair's service goes down`,
          });
        }
        continue;
      }
      const [wa, wb] = [windows.get(a), windows.get(b)];
      if (wa && wb && wa.start < wb.end && wb.start < wa.end) {
        violations.push({
          pointer: at,
          message: `the rollout disrupts hosts ${a} and ${b} at the same time (${Math.max(wa.start, wb.start)} s to ${Math.min(wa.end, wb.end)} s): both sides of service pair ${pair.name} go down together`,
        });
      }
      const [ga, gb] = [groups.get(a), groups.get(b)];
      const budget = ga ? budgetOf(rollout.maxUnavailable, sizes.get(ga) ?? 1) : 0;
      if (ga && ga === gb && budget >= 2) {
        violations.push({
          pointer: at,
          severity: "warning",
          message: `service pair ${pair.name} has its sides on hosts ${a} and ${b}, both in rollout group ${ga} whose budget lets ${budget} hosts down at once: only the pair rule keeps both sides from going down together`,
        });
      }
    }
    return violations;
  },
};
