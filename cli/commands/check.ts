/**
 * `smartfleet check STACK... [--format text|json|sarif|markdown] [--output FILE]`: loads,
 * expands and validates each stack, runs the policy rules and reports. Exit 0 when clean
 * (warnings allowed), 1 on policy errors, 2 on invalid input or usage.
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
import { loadStackSync } from "../../model/load";

/** One line for `smartfleet help`. */
export const summary = "check stack files against the schemas and policy rules (text, json, sarif, markdown)";

const FORMATS = ["text", "json", "sarif", "markdown"] as const;
type Format = (typeof FORMATS)[number];

const USAGE = `usage: smartfleet check STACK... [--format ${FORMATS.join("|")}] [--output FILE]`;

/** Parsed command line. */
interface CheckArgs {
  files: string[];
  format: Format;
  output?: string;
}

function parseArgs(args: string[]): CheckArgs | string {
  const files: string[] = [];
  let format: Format = "text";
  let output: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = () => inline ?? args[++i];
    if (flag === "--format" || flag === "-f") {
      const chosen = value();
      if (!FORMATS.includes(chosen as Format)) return `unknown format '${chosen ?? ""}' (allowed: ${FORMATS.join(", ")})`;
      format = chosen as Format;
    } else if (flag === "--output" || flag === "-o") {
      output = value();
      if (!output) return "--output needs a file name";
    } else if (flag === "--help" || flag === "-h") {
      return "";
    } else if (arg.startsWith("-")) {
      return `unknown option '${arg}'`;
    } else files.push(arg);
  }
  if (files.length === 0) return "no stack file given";
  return { files, format, output };
}

function toolVersion(): string {
  for (const candidate of [path.resolve(__dirname, "..", "..", "package.json"), path.resolve(__dirname, "..", "..", "..", "package.json")]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, "utf8")) as { name?: string; version?: string };
      if (pkg.name === "smartfleet" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

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
      return renderSarif(reports, toolVersion());
    case "markdown":
      return renderMarkdown(reports);
    default:
      return renderText(reports);
  }
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseArgs(args);
  if (typeof parsed === "string") {
    if (parsed) console.error(`smartfleet check: ${parsed}`);
    console.error(USAGE);
    return parsed ? 2 : 0;
  }
  const reports = checkFiles(parsed.files);
  const text = render(reports, parsed.format);
  if (parsed.output) fs.writeFileSync(parsed.output, text);
  else process.stdout.write(text);
  return exitCodeOf(reports);
}
