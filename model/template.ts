/**
 * Renders component templates (Handlebars, strict mode) into YAML text and remembers which
 * template line produced each rendered line, so errors in the rendered YAML can name the
 * template line as well as the stack line.
 */
import Handlebars from "handlebars";
import { stringify } from "yaml";

/** A rendered template plus the template line behind each rendered line. */
export interface RenderedTemplate {
  /** The rendered YAML text. */
  text: string;
  /** 1-based template line for a 1-based rendered line. */
  templateLineOf(renderedLine: number): number;
}

/** A template failure (a missing parameter in strict mode, a helper misuse), with its template position. */
export class TemplateRenderError extends Error {
  constructor(
    message: string,
    /** 1-based template line, when Handlebars reported one. */
    readonly line: number,
    /** 1-based template column, when Handlebars reported one. */
    readonly column: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TemplateRenderError";
  }
}

const MARK_OPEN = "\u0001";
const MARK_CLOSE = "\u0002";
const MARKER = /\u0001(\d+)\u0002/g;

/** Handlebars with the helpers component templates may use; isolated from the global instance. */
function createEnvironment(): typeof Handlebars {
  const env = Handlebars.create();
  // quote: any scalar as a YAML double-quoted string (JSON strings are valid YAML).
  env.registerHelper("quote", (value: unknown) => JSON.stringify(value === undefined || value === null ? "" : String(value)));
  // json: any value in YAML flow style, safe on one line.
  env.registerHelper("json", (value: unknown) => JSON.stringify(value ?? null));
  // yaml: any value as block YAML (use with indent).
  env.registerHelper("yaml", (value: unknown) => stringify(value ?? null).replace(/\n$/, ""));
  // indent: indents every line but the first by n spaces, for a block placed after a key.
  env.registerHelper("indent", (width: unknown, text: unknown) => {
    const n = Number(width);
    if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`indent: width must be an integer 0..64, got ${String(width)}`);
    return String(text ?? "").split("\n").join("\n" + " ".repeat(n));
  });
  // concat: joins its arguments into one string (Handlebars passes its options object last).
  env.registerHelper("concat", (...args: unknown[]) => args.slice(0, -1).map((a) => String(a ?? "")).join(""));
  env.registerHelper("eq", (a: unknown, b: unknown) => a === b);
  env.registerHelper("join", (items: unknown, separator: unknown) =>
    Array.isArray(items) ? items.join(typeof separator === "string" ? separator : ", ") : "",
  );
  return env;
}

const environment = createEnvironment();

/** Inserts a line marker at the start of every line a content statement begins. */
function markContent(statement: hbs.AST.ContentStatement): void {
  const value = statement.value;
  // The typings call `original` strip flags; at run time it is the unstripped source text.
  const original = String((statement as unknown as { original: string }).original);
  if (value.length === 0) return;
  let offset = 0;
  for (let i = 0; i + value.length <= original.length; i++) {
    if (original.startsWith(value, i)) {
      offset = i;
      break;
    }
  }
  const firstLine = statement.loc.start.line + countNewlines(original.slice(0, offset));
  let line = firstLine;
  let out = `${MARK_OPEN}${firstLine}${MARK_CLOSE}`;
  for (let i = 0; i < value.length; i++) {
    out += value[i];
    // A newline that ends the statement gets no marker: whatever comes next (a mustache's
    // output, a block's first line) is marked by its own content statement.
    if (value[i] === "\n" && i < value.length - 1) {
      line += 1;
      out += `${MARK_OPEN}${line}${MARK_CLOSE}`;
    }
  }
  statement.value = out;
}

function countNewlines(text: string): number {
  let n = 0;
  for (const ch of text) if (ch === "\n") n++;
  return n;
}

function walk(node: hbs.AST.Node | null | undefined): void {
  if (!node) return;
  switch (node.type) {
    case "Program":
      for (const statement of (node as hbs.AST.Program).body) walk(statement);
      break;
    case "ContentStatement":
      markContent(node as hbs.AST.ContentStatement);
      break;
    case "BlockStatement":
    case "DecoratorBlock": {
      const block = node as hbs.AST.BlockStatement;
      walk(block.program);
      walk(block.inverse);
      break;
    }
    default:
      break;
  }
}

/** Compiles a template in strict mode (a missing parameter is an error); no HTML escaping. */
export function compileTemplate(source: string): (context: unknown) => RenderedTemplate {
  let ast: hbs.AST.Program;
  try {
    ast = environment.parse(source);
  } catch (err) {
    throw asRenderError(err, "template syntax");
  }
  walk(ast);
  const render = environment.compile(ast, { strict: true, noEscape: true });
  return (context) => {
    let marked: string;
    try {
      marked = render(context);
    } catch (err) {
      throw asRenderError(err, "template");
    }
    return unmark(marked);
  };
}

/** Strips the line markers and builds the rendered-line → template-line table. */
function unmark(marked: string): RenderedTemplate {
  const lines = marked.split("\n");
  const templateLines: number[] = [];
  let last = 1;
  const clean = lines.map((line) => {
    const first = /\u0001(\d+)\u0002/.exec(line);
    if (first) last = Number(first[1]);
    templateLines.push(last);
    return line.replace(MARKER, "");
  });
  return {
    text: clean.join("\n"),
    templateLineOf: (renderedLine) => templateLines[Math.min(Math.max(renderedLine, 1), templateLines.length) - 1] ?? 1,
  };
}

function asRenderError(err: unknown, what: string): TemplateRenderError {
  const e = err as { message?: string; lineNumber?: number; column?: number };
  const message = String(e.message ?? err).split("\n")[0].replace(/ in \[object Object\]/, "");
  // Handlebars reports strict-mode misses as "x" not defined - line:column; parse errors carry lineNumber.
  const at = / - (\d+):(\d+)$/.exec(message);
  const line = e.lineNumber ?? (at ? Number(at[1]) : 1);
  const column = (e.column ?? (at ? Number(at[2]) : 0)) + 1;
  return new TemplateRenderError(`${what}: ${message.replace(/ - \d+:\d+$/, "")}`, line, column, { cause: err });
}
