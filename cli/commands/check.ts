/**
 * `smartfleet check STACK... [--format text|json|sarif|markdown] [--output FILE]`: loads,
 * expands and validates each stack, runs the policy rules and reports. Exit 0 when clean
 * (warnings allowed), 1 on policy errors, 2 on invalid input or usage.
 */
import * as fs from "node:fs";
import { checkStack, exitCodeOf, type StackReport } from "../../policies/check";
import { loadPolicyData } from "../../policies/data";
import { renderJson } from "../../policies/report/json";
import { renderMarkdown } from "../../policies/report/markdown";
import { renderSarif } from "../../policies/report/sarif";
import { renderText } from "../../policies/report/text";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync } from "../../model/load";
import { defineCommand, packageVersion, parseCommand } from "../args";

/** One line for `smartfleet help`. */
export const summary = "check stack files against the schemas and policy rules (text, json, sarif, markdown)";

const FORMATS = ["text", "json", "sarif", "markdown"] as const;
type Format = (typeof FORMATS)[number];

const SPEC = defineCommand({
  name: "smartfleet check",
  summary,
  positionals: { name: "STACK", description: "stack files to check", min: 1 },
  options: {
    format: { type: "string", short: "f", choices: FORMATS, default: "text", description: "report format" },
    output: { type: "string", short: "o", valueName: "FILE", description: "write the report to FILE instead of stdout" },
  },
});

/** Checks each file; an unloadable stack becomes a report carrying its input errors. */
export function checkFiles(files: string[]): StackReport[] {
  const data = loadPolicyData();
  return files.map((file) => {
    try {
      return checkStack(loadStackSync(file), data);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { file, findings: [], waived: [], inputErrors: err.errors };
    }
  });
}

/** Renders reports in a format. */
export function render(reports: StackReport[], format: Format): string {
  switch (format) {
    case "json":
      return renderJson(reports);
    case "sarif":
      return renderSarif(reports, packageVersion());
    case "markdown":
      return renderMarkdown(reports);
    default:
      return renderText(reports);
  }
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const reports = checkFiles(positionals);
  const text = render(reports, values.format);
  if (values.output) fs.writeFileSync(values.output, text);
  else process.stdout.write(text);
  return exitCodeOf(reports);
}
