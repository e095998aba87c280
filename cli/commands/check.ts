/**
 * `smartfleet check STACK|DIR|GLOB... [--format text|json|sarif|markdown] [--output FILE]
 * [--max-errors N]`: loads, expands and validates each stack, runs the policy rules and
 * reports. Directories and globs name their stack files (`cli/stack-files.ts`; Pulumi's
 * settings files are left out); an empty, non-text or wrong-kind file is named as such
 * (`cli/file-content.ts`). Exit 0 when clean (warnings allowed), 1 on policy errors, 2 on
 * invalid input or usage. Reads files only: runs on plain Node.js >= 20, no Pulumi.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkStack, exitCodeOf, type StackReport } from "../../policies/check";
import { loadPolicyData } from "../../policies/data";
import { renderJson } from "../../policies/report/json";
import { renderMarkdown } from "../../policies/report/markdown";
import { renderSarif } from "../../policies/report/sarif";
import { renderText } from "../../policies/report/text";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync, type LoadedStack } from "../../model/load";
import { defineCommand, packageVersion, parseCommand, usageError } from "../args";
import { stackFileProblem } from "../file-content";
import { expandStackArgs } from "../stack-files";
import { colourFor } from "../terminal";

/** One line for `smartfleet help`. */
export const summary = "check stack files against the schemas and policy rules (text, json, sarif, markdown)";

const FORMATS = ["text", "json", "sarif", "markdown"] as const;
type Format = (typeof FORMATS)[number];

const SPEC = defineCommand({
  name: "smartfleet check",
  summary,
  positionals: { name: "STACK", description: "stack files, directories (their *.yaml) or quoted globs; Pulumi.*.yaml is skipped", min: 1 },
  options: {
    format: { type: "string", short: "f", choices: FORMATS, default: "text", description: "report format" },
    output: { type: "string", short: "o", valueName: "FILE", description: "write the report to FILE instead of stdout" },
    "max-errors": {
      type: "number",
      integer: true,
      min: 0,
      default: 50,
      description: "list at most N problems in the text and markdown reports, then '… and N more' (0: all; json and sarif list all)",
    },
  },
});

/** Checks each file; an unloadable stack becomes a report carrying its input errors. `onLoaded` sees each stack that loaded. */
export function checkFiles(files: string[], onLoaded?: (stack: LoadedStack) => void): StackReport[] {
  const data = loadPolicyData();
  return files.map((file) => {
    const problem = stackFileProblem(file);
    if (problem) return { file, findings: [], waived: [], inputErrors: [problem] };
    try {
      const loaded = loadStackSync(file);
      onLoaded?.(loaded);
      return checkStack(loaded, data);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      return { file, findings: [], waived: [], inputErrors: err.errors };
    }
  });
}

/** How many DPUs of the stack's inventory give their factory password in plain text rather than by `passwordFrom`. */
function plainFactoryPasswords(stack: LoadedStack): number {
  return stack.inventory.hosts.reduce((n, host) => n + host.smartnics.filter((nic) => nic.factoryCredentials.password !== undefined).length, 0);
}

/** How a report is written: the problem cap of the human formats, and colour for a terminal. */
export interface RenderOptions {
  maxErrors?: number;
  colour?: boolean;
}

/** Renders reports in a format. */
export function render(reports: StackReport[], format: Format, options: RenderOptions = {}): string {
  switch (format) {
    case "json":
      return renderJson(reports);
    case "sarif":
      return renderSarif(reports, packageVersion());
    case "markdown":
      return renderMarkdown(reports, options.maxErrors ?? 0);
    default:
      return renderText(reports, { maxProblems: options.maxErrors ?? 0, colour: options.colour });
  }
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  const { files, skipped, unmatched } = expandStackArgs(positionals);
  for (const s of skipped) console.error(`smartfleet check: skipped ${s.file}: ${s.reason}`);
  if (unmatched.length > 0) return usageError(SPEC, `no stack files in ${unmatched.map((u) => `'${u}'`).join(", ")}`);
  if (files.length === 0) return usageError(SPEC, "no stack files left to check (every file given was skipped)");
  const inventories = new Map<string, number>();
  const reports = checkFiles(files, (stack) => inventories.set(stack.inventoryFile, plainFactoryPasswords(stack)));
  for (const [inventory, count] of inventories) {
    if (count > 0) {
      console.error(
        `smartfleet check: note: ${path.relative(process.cwd(), inventory) || inventory} holds ${count} factory password${count === 1 ? "" : "s"} in plain text; ` +
          "passwordFrom: env:NAME or file:PATH keeps them out of the repository (README, Everyday use)",
      );
    }
  }
  const colour = !values.output && values.format === "text" && colourFor(process.stdout, process.env);
  const text = render(reports, values.format, { maxErrors: values["max-errors"], colour });
  if (values.output) fs.writeFileSync(values.output, text);
  else process.stdout.write(text);
  return exitCodeOf(reports);
}
