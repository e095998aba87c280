/**
 * The error types of stack loading: one `StackError` per problem found in an input file,
 * collected into one `InputError` so that a user sees every problem at once.
 */

/** Where a value came from when it was produced by a component template. */
export interface TemplateOrigin {
  /** The component, as `name@version`. */
  component: string;
  /** The template file the value was rendered from. */
  file: string;
  /** 1-based line in the template. */
  line: number;
  /** 1-based column in the rendered line (the template column is not tracked through helpers). */
  column: number;
}

/** One problem in an input file, with its exact location. */
export interface StackError {
  /** The file the problem is in (for expanded components: the stack file that uses the component). */
  file: string;
  /** 1-based line of the offending value. */
  line: number;
  /** 1-based column of the offending value. */
  column: number;
  /** JSON pointer of the offending value (`/hosts/esx-01/smartnics/nic1/mode`); `""` is the document. */
  path: string;
  /** What is wrong, in words. */
  message: string;
  /** The offending value, rendered short (absent when there is no value, e.g. a missing property). */
  got?: string;
  /** What would have been accepted (enum members, a pattern, a range), when known. */
  allowed?: string[];
  /** Set when the value was rendered by a component template. */
  origin?: TemplateOrigin;
}

/** Renders one error as `file:line:column  path  message  (got X; allowed: ...)`. */
export function formatStackError(error: StackError): string {
  const details: string[] = [];
  if (error.got !== undefined) details.push(`got ${error.got}`);
  if (error.allowed && error.allowed.length > 0) details.push(`allowed: ${error.allowed.join(", ")}`);
  const suffix = details.length > 0 ? `  (${details.join("; ")})` : "";
  const origin = error.origin
    ? `  [from ${error.origin.component} ${error.origin.file}:${error.origin.line}:${error.origin.column}]`
    : "";
  return `${error.file}:${error.line}:${error.column}  ${error.path || "/"}  ${error.message}${suffix}${origin}`;
}

/** Sorts errors by file, line and column so output is stable and reads top to bottom. */
export function sortStackErrors(errors: StackError[]): StackError[] {
  return [...errors].sort(
    (a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || a.path.localeCompare(b.path),
  );
}

/**
 * Invalid input: a file that cannot be read, parsed, validated or resolved. Carries every
 * problem found; the message lists them one per line.
 */
export class InputError extends Error {
  /** Every problem found, sorted by location. */
  readonly errors: StackError[];

  constructor(errors: StackError[], options?: { cause?: unknown; summary?: string }) {
    const sorted = sortStackErrors(errors);
    const summary = options?.summary ?? `${sorted.length} error${sorted.length === 1 ? "" : "s"} in input`;
    super([summary + ":", ...sorted.map((e) => "  " + formatStackError(e))].join("\n"), { cause: options?.cause });
    this.name = "InputError";
    this.errors = sorted;
  }
}

/** Renders any value short enough for one line of an error message. */
export function describeValue(value: unknown, limit = 60): string {
  let text: string;
  if (value === undefined) text = "nothing";
  else if (typeof value === "string") text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > limit ? text.slice(0, limit - 1) + "…" : text;
}
