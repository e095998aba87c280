/** The Markdown report for a pull-request comment, rendered from `markdown.md.hbs`. */
import * as fs from "node:fs";
import Handlebars from "handlebars";
import { sourcePath } from "../../schemas/paths";
import type { Finding, StackReport } from "../check";
import { RULES } from "../rules";
import { limitProblems, omittedLine } from "./limit";
import { count, summarize } from "./summary";

/** The template (beside this file in the source tree, also when running from `dist/`). */
export const MARKDOWN_TEMPLATE = sourcePath("policies", "report", "markdown.md.hbs");

function environment(): typeof Handlebars {
  const env = Handlebars.create();
  // A table cell: no line breaks, no column separators, no raw HTML.
  env.registerHelper("cell", (value: unknown) =>
    String(value ?? "").replace(/\r?\n/g, " ").replace(/\|/g, "\\|").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/`/g, "'"),
  );
  env.registerHelper("eq", (a: unknown, b: unknown) => a === b);
  return env;
}

let compiled: Handlebars.TemplateDelegate | undefined;

function where(file: string, line: number, column: number): string {
  return `${file}:${line}:${column}`;
}

function withWhere(f: Finding) {
  return { ...f, where: where(f.location.file, f.location.line, f.location.column) };
}

/** Renders the reports as Markdown, listing at most `maxProblems` problems (0: every one; the totals stay exact). */
export function renderMarkdown(all: StackReport[], maxProblems = 0): string {
  compiled ??= environment().compile(fs.readFileSync(MARKDOWN_TEMPLATE, "utf8"), { strict: false, noEscape: true });
  const s = summarize(all);
  const failing = new Set(all.flatMap((r) => r.findings.map((f) => f.ruleId)));
  const { reports, omitted } = limitProblems(all, maxProblems);
  const text = compiled({
    omitted: omitted > 0 ? omittedLine(omitted) : "",
    passed: s.errors === 0 && s.invalid === 0,
    summaryLine: `${count(s.stacks, "stack")} checked: ${count(s.errors, "error")}, ${count(s.warnings, "warning")}, ${s.waived} waived${s.invalid ? `, ${s.invalid} invalid` : ""}.`,
    stacks: reports.map((r) => ({
      ...r,
      findings: r.findings.map(withWhere),
      waived: r.waived.map(withWhere),
      inputErrors: r.inputErrors.map((e) => ({ ...e, where: where(e.file, e.line, e.column) })),
    })),
    fixes: RULES.filter((r) => failing.has(r.id)),
  });
  return text.replace(/\n{3,}/g, "\n\n");
}
