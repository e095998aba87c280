/**
 * Reads and parses a YAML file safely, keeping the source position of every value.
 * Rejects files over a size limit, duplicate keys, multiple documents and anchors that
 * expand into more nodes than a sane input has (the "billion laughs" attack).
 */
import { isUtf8 } from "node:buffer";
import * as fs from "node:fs";
import { Alias, Document, isAlias, isMap, isPair, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { InputError, type StackError, type TemplateOrigin } from "./diagnostics";
import { cachedParse, keepSections, keptSections, MIN_CACHED_BYTES, type ParsedValue } from "./parse-cache";
import { parentPointer, SourceIndex, type SourceLocation } from "./source-index";
import { indexNode, PARSE_OPTIONS, type PositionSink } from "./yaml-positions";
import { parseBySections, type ParsedSection } from "./yaml-sections";

/** Largest input file accepted, in bytes, unless the caller says otherwise. */
export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

/** Most alias expansions accepted while converting a document (yaml's own guard). */
export const DEFAULT_MAX_ALIAS_COUNT = 1000;

/** Limits applied while reading YAML. */
export interface YamlLimits {
  /** Largest accepted file, in bytes. */
  maxFileBytes?: number;
  /** Most alias expansions accepted. */
  maxAliasCount?: number;
}

/** A parsed YAML document: the plain value and where each part of it came from. */
export interface ParsedYaml {
  /** The file name used in error messages. */
  file: string;
  /** The document as plain JSON-compatible data. */
  value: unknown;
  /** Positions by JSON pointer. */
  sources: SourceIndex;
}

/** Reads a file as UTF-8 text, refusing missing files, directories and files over the limit. */
export function readInputFile(file: string, maxFileBytes = DEFAULT_MAX_FILE_BYTES): string {
  const at = { file, line: 1, column: 1, path: "" };
  let size: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new InputError([{ ...at, message: "not a regular file" }]);
    size = stat.size;
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === "ENOENT" ? "file not found" : `cannot read file (${code ?? String(err)})`;
    throw new InputError([{ ...at, message }], { cause: err });
  }
  if (size > maxFileBytes) {
    throw new InputError([
      { ...at, message: "file is too large", got: `${size} bytes`, allowed: [`at most ${maxFileBytes} bytes`] },
    ]);
  }
  const bytes = fs.readFileSync(file);
  // A NUL byte or invalid UTF-8 means this is not a YAML file: say so, and never echo it.
  if (bytes.includes(0) || !isUtf8(bytes)) throw new InputError([{ ...at, message: "not a text file (binary content); expected YAML" }]);
  return bytes.toString("utf8");
}

/** Options for parsing YAML text. */
export interface ParseOptions extends YamlLimits {
  /** Set when the text was rendered from a component template: maps rendered lines to template lines. */
  originOf?: (line: number, column: number) => TemplateOrigin | undefined;
  /** Where to report positions instead of in `file` (component output is reported at the `use:` entry). */
  reportAt?: SourceLocation;
}

/** Parses YAML text into plain data plus positions; throws `InputError` listing every syntax problem. */
export function parseYamlText(text: string, file: string, options: ParseOptions = {}): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...PARSE_OPTIONS, lineCounter });
  const locate = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    const origin = options.originOf?.(line, col);
    if (options.reportAt) return { ...options.reportAt, origin };
    return { file, line: Math.max(line, 1), column: Math.max(col, 1), ...(origin ? { origin } : {}) };
  };
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const errors: StackError[] = problems.map((problem) => ({
      ...locate(problem.pos[0]),
      path: "",
      message: describeYamlProblem(problem.code, problem.message),
    }));
    throw new InputError(errors, { summary: `${file}: invalid YAML` });
  }
  const sources = new SourceIndex(locate(0));
  const duplicates: StackError[] = [];
  indexNode(doc.contents as Node | null, "", indexSink(sources, locate, duplicates));
  if (duplicates.length > 0) throw new InputError(duplicates, { summary: `${file}: invalid YAML` });
  const value = toPlainValue(doc, file, options.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT, locate);
  return { file, value, sources };
}

/**
 * Reads, size-checks and parses a YAML file. A large one parsed before comes from
 * `parse-cache.ts`: whole when unchanged, else the sections an edit left alone
 * (`yaml-sections.ts`), with only the changed ones parsed again.
 */
export function parseYamlFile(file: string, limits: YamlLimits = {}): ParsedYaml {
  const text = readInputFile(file, limits.maxFileBytes);
  const options = { maxAliasCount: limits.maxAliasCount ?? DEFAULT_MAX_ALIAS_COUNT };
  return { file, ...cachedParse(file, text, options, () => parseReusingSections(text, file, options)) };
}

function parseReusingSections(text: string, file: string, options: { maxAliasCount: number }): ParsedValue {
  if (Buffer.byteLength(text) < MIN_CACHED_BYTES) return parseYamlText(text, file, options);
  const parsed = parseBySections(text, file, options.maxAliasCount, keptSections<ParsedSection>(file, options));
  if (!parsed) return parseYamlText(text, file, options);
  keepSections(file, options, parsed.sections);
  return { value: parsed.value, sources: parsed.sources };
}

function describeYamlProblem(code: string, message: string): string {
  // yaml's pretty messages repeat the source excerpt over several lines; keep the first.
  const first = message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
  if (code === "DUPLICATE_KEY") return "duplicate key (each key may appear once in a mapping)";
  return `YAML syntax: ${first}`;
}

function toPlainValue(
  doc: Document,
  file: string,
  maxAliasCount: number,
  locate: (offset: number) => SourceLocation,
): unknown {
  try {
    return doc.toJS({ maxAliasCount });
  } catch (err) {
    const firstAlias = findFirstAlias(doc.contents as Node | null);
    const at = firstAlias?.range ? locate(firstAlias.range[0]) : locate(0);
    const message = /Excessive alias count/.test(String((err as Error).message))
      ? `YAML aliases expand too much (more than ${maxAliasCount} expansions); write the values out or use fewer anchors`
      : `YAML: ${(err as Error).message}`;
    throw new InputError([{ ...at, path: "", message }], { cause: err, summary: `${file}: invalid YAML` });
  }
}

function findFirstAlias(node: Node | null): Alias | undefined {
  if (!node) return undefined;
  if (isAlias(node)) return node;
  if (isMap(node) || isSeq(node)) {
    for (const item of node.items) {
      const inner = isPair(item) ? (findFirstAlias(item.key as Node) ?? findFirstAlias(item.value as Node)) : findFirstAlias(item as Node);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** A sink recording into `sources` and `duplicates`, at `locate`'s positions. */
function indexSink(sources: SourceIndex, locate: (offset: number) => SourceLocation, duplicates: StackError[]): PositionSink {
  return {
    value: (path, offset) => sources.setValue(path, locate(offset)),
    key: (path, offset) => sources.setKey(path, locate(offset)),
    duplicate(path, name, offset) {
      const at = offset === undefined ? sources.locate(parentPointer(path)) : locate(offset);
      duplicates.push({ ...at, path, message: "duplicate key (each key may appear once in a mapping)", got: JSON.stringify(name) });
    },
  };
}
