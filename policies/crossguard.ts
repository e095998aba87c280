/**
 * The shared policy rules as CrossGuard stack policies: one adapter rebuilds the model
 * from the smartfleet resources' inputs, then every rule runs unchanged. Errors are
 * mandatory, warnings advisory (a rule that emits both gets one policy for each).
 */
import type { PolicyResource, ReportViolation, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { formatStackError } from "../schemas/diagnostics";
import { loadPolicyData } from "./data";
import type { PolicyData, PolicyRule, Severity } from "./rule";
import { RULES } from "./rules";
import { modelFromResources, urnFor, type ResourceModel } from "./resource-model";

/** The model is rebuilt once per preview, not once per policy. */
const modelCache = new WeakMap<readonly PolicyResource[], ResourceModel>();

function modelOf(args: Pick<StackValidationArgs, "resources">): ResourceModel {
  let built = modelCache.get(args.resources);
  if (!built) {
    built = modelFromResources(args.resources);
    modelCache.set(args.resources, built);
  }
  return built;
}

function policyFor(rule: PolicyRule, severity: Severity, data: PolicyData): StackValidationPolicy {
  const advisoryTwin = severity !== rule.severity;
  return {
    name: `${rule.id.toLowerCase()}-${rule.name}${advisoryTwin ? "-advisory" : ""}`,
    description: rule.description,
    remediationSteps: rule.remediation,
    enforcementLevel: severity === "error" ? "mandatory" : "advisory",
    validateStack: (args: Pick<StackValidationArgs, "resources">, reportViolation: ReportViolation) => {
      const { model, urnByPointer } = modelOf(args);
      for (const violation of rule.check(model, data)) {
        if ((violation.severity ?? rule.severity) !== severity) continue;
        reportViolation(`${rule.id}: ${violation.message}`, urnFor(urnByPointer, violation.pointer));
      }
    },
  };
}

/** Reports resources whose inputs do not match their schema (they are left out of the model). */
function inputsPolicy(): StackValidationPolicy {
  return {
    name: "sf000-valid-inputs",
    description: "smartfleet resources must have inputs that match schemas/<kind>-inputs.schema.json; others cannot be checked.",
    enforcementLevel: "mandatory",
    validateStack: (args: Pick<StackValidationArgs, "resources">, reportViolation: ReportViolation) => {
      for (const resource of modelOf(args).invalid) {
        reportViolation(`SF000: inputs do not match their schema:\n${resource.errors.map(formatStackError).join("\n")}`, resource.urn);
      }
    },
  };
}

/** Every policy of the pack. */
export function crossGuardPolicies(data: PolicyData = loadPolicyData(), rules: readonly PolicyRule[] = RULES): StackValidationPolicy[] {
  return [
    inputsPolicy(),
    ...rules.flatMap((rule) => [policyFor(rule, rule.severity, data), ...(rule.alsoWarns ? [policyFor(rule, "warning", data)] : [])]),
  ];
}
