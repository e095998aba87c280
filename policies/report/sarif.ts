/**
 * The SARIF 2.1.0 report for code-scanning tools: one run, every rule as a reporting
 * descriptor, every finding as a result located in the stack file (and, for component
 * output, a related location in the template), waived findings as suppressed results.
 */
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { StackError } from "../../schemas/diagnostics";
import type { Finding, StackReport } from "../check";
import { RULES } from "../rules";

/** Rule id used for input errors (a stack that cannot be loaded). */
export const INPUT_ERROR_RULE = "SF000";

/** A SARIF artifact URI: relative to the working directory with forward slashes (as code-scanning tools expect), else a file:// URI. */
function uriOf(file: string): string {
  const absolute = path.resolve(file);
  const relative = path.relative(process.cwd(), absolute);
  if (relative.startsWith("..") || path.isAbsolute(relative)) return pathToFileURL(absolute).href;
  return relative.split(path.sep).map(encodeURIComponent).join("/");
}

function physical(file: string, line: number, column: number) {
  return { artifactLocation: { uri: uriOf(file) }, region: { startLine: Math.max(1, line), startColumn: Math.max(1, column) } };
}

function result(finding: Finding, ruleIndex: number) {
  const origin = finding.location.origin;
  return {
    ruleId: finding.ruleId,
    ruleIndex,
    level: finding.severity,
    message: { text: finding.message },
    locations: [{ physicalLocation: physical(finding.location.file, finding.location.line, finding.location.column) }],
    ...(origin
      ? { relatedLocations: [{ id: 1, physicalLocation: physical(origin.file, origin.line, 1), message: { text: `rendered by component ${origin.component}` } }] }
      : {}),
    ...(finding.waivedBecause !== undefined ? { suppressions: [{ kind: "inSource", justification: finding.waivedBecause }] } : {}),
    properties: { pointer: finding.pointer },
  };
}

function inputResult(error: StackError) {
  return {
    ruleId: INPUT_ERROR_RULE,
    ruleIndex: 0,
    level: "error",
    message: { text: `${error.path || "/"}: ${error.message}${error.got !== undefined ? ` (got ${error.got})` : ""}` },
    locations: [{ physicalLocation: physical(error.file, error.line, error.column) }],
  };
}

/** Builds the SARIF log object. */
export function buildSarif(reports: StackReport[], toolVersion: string) {
  const descriptors = [
    {
      id: INPUT_ERROR_RULE,
      name: "invalid-input",
      shortDescription: { text: "The stack or a file it uses is not valid." },
      fullDescription: { text: "The stack file, its inventory or a component failed to parse, validate or resolve." },
      help: { text: "Fix the value at the reported position; the message says what is allowed." },
      defaultConfiguration: { level: "error" },
    },
    ...RULES.map((rule) => ({
      id: rule.id,
      name: rule.name,
      shortDescription: { text: rule.description },
      fullDescription: { text: rule.description },
      help: { text: rule.remediation, markdown: `**How to fix:** ${rule.remediation}` },
      defaultConfiguration: { level: rule.severity },
    })),
  ];
  const indexOf = new Map(descriptors.map((d, i) => [d.id, i]));
  const results = reports.flatMap((report) => [
    ...report.inputErrors.map(inputResult),
    ...report.findings.map((f) => result(f, indexOf.get(f.ruleId) ?? -1)),
    ...report.waived.map((f) => result(f, indexOf.get(f.ruleId) ?? -1)),
  ]);
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "smartfleet", version: toolVersion, informationUri: "https://smartfleet.dev/", rules: descriptors } },
        columnKind: "unicodeCodePoints",
        results,
      },
    ],
  };
}

/** Renders the reports as a SARIF 2.1.0 log. */
export function renderSarif(reports: StackReport[], toolVersion: string): string {
  return JSON.stringify(buildSarif(reports, toolVersion), null, 2) + "\n";
}
