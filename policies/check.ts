/**
 * Runs the policy rules over a loaded stack and positions every finding in the source.
 * Rules a stack disables (with a written reason) still run: their findings are kept as
 * waived, so reports show what was switched off and why.
 */
import type { SourceLocation } from "../schemas/source-index";
import { childPointer } from "../schemas/source-index";
import type { StackError } from "../schemas/diagnostics";
import { describeValue } from "../schemas/diagnostics";
import { locate, type LoadedStack } from "../model/load";
import { loadPolicyData } from "./data";
import type { PolicyData, PolicyRule, Severity } from "./rule";
import { RULES } from "./rules";

/** One positioned policy finding. */
export interface Finding {
  /** The rule's id, e.g. SF004. */
  ruleId: string;
  /** The rule's name. */
  ruleName: string;
  /** error or warning. */
  severity: Severity;
  /** What is wrong. */
  message: string;
  /** JSON pointer of the offending value. */
  pointer: string;
  /** Where the offending value is written (with the template origin for component output). */
  location: SourceLocation;
  /** Set when the stack disables the rule: the written reason. */
  waivedBecause?: string;
}

/** The result of checking one stack. */
export interface StackReport {
  /** The stack file. */
  file: string;
  /** The stack name, when the stack could be loaded. */
  stackName?: string;
  /** Findings that count, sorted by location. */
  findings: Finding[];
  /** Findings of disabled rules, with the reason. */
  waived: Finding[];
  /** Input problems (the stack could not be loaded or a waiver names no rule). */
  inputErrors: StackError[];
}

/** Runs every rule over `model` (a pure computation) and returns the unsorted violations with their rule. */
export function runRules(model: Parameters<PolicyRule["check"]>[0], data: PolicyData = loadPolicyData(), rules: readonly PolicyRule[] = RULES) {
  return rules.flatMap((rule) => rule.check(model, data).map((violation) => ({ rule, violation })));
}

/** Checks one loaded stack: runs every rule, applies its waivers and positions each finding. */
export function checkStack(stack: LoadedStack, data: PolicyData = loadPolicyData(), rules: readonly PolicyRule[] = RULES): StackReport {
  const known = new Set(rules.map((r) => r.id));
  const inputErrors: StackError[] = [];
  const waivers = new Map<string, string>();
  stack.waivers.forEach((waiver, i) => {
    const at = childPointer("/policy/disable", i, "rule");
    if (!known.has(waiver.rule)) {
      inputErrors.push({ ...locate(stack, at), path: at, message: "no policy rule has this id", got: describeValue(waiver.rule), allowed: [...known] });
    } else waivers.set(waiver.rule, waiver.reason);
  });
  const findings: Finding[] = [];
  const waived: Finding[] = [];
  for (const { rule, violation } of runRules(stack, data, rules)) {
    const finding: Finding = {
      ruleId: rule.id,
      ruleName: rule.name,
      severity: violation.severity ?? rule.severity,
      message: violation.message,
      pointer: violation.pointer,
      location: locate(stack, violation.pointer),
    };
    const reason = waivers.get(rule.id);
    if (reason !== undefined) waived.push({ ...finding, waivedBecause: reason });
    else findings.push(finding);
  }
  return { file: stack.file, stackName: stack.stack.metadata.name, findings: sortFindings(findings), waived: sortFindings(waived), inputErrors };
}

/** Sorts findings by line, then column, then rule. */
export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) => a.location.line - b.location.line || a.location.column - b.location.column || a.ruleId.localeCompare(b.ruleId) || a.message.localeCompare(b.message),
  );
}

/** The exit code of `smartfleet check` for a set of reports: 2 invalid input, 1 policy errors, 0 otherwise. */
export function exitCodeOf(reports: StackReport[]): number {
  if (reports.some((r) => r.inputErrors.length > 0)) return 2;
  if (reports.some((r) => r.findings.some((f) => f.severity === "error"))) return 1;
  return 0;
}
