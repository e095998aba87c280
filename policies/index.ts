/**
 * The smartfleet CrossGuard policy pack: `pulumi preview --policy-pack policies`.
 * The policies live in `crossguard.ts` (tested directly); constructing the pack starts
 * the analyzer server, so this file does nothing else.
 */
import { PolicyPack } from "@pulumi/policy";
import { crossGuardPolicies } from "./crossguard";

new PolicyPack("smartfleet", {
  description: "smartfleet policy rules: the same rules as `smartfleet check`, over the resources' inputs",
  policies: crossGuardPolicies(),
});
