/**
 * A large YAML file cut into sections that parse on their own, so that after an edit only
 * the sections that changed are parsed again. A 2,000-DPU stack (1.5 MB, 68,000 lines)
 * takes the `yaml` parser about 1.2 s; a change to one DPU's service version changes one
 * of its 1,000 host sections, and everything else comes from the previous parse of the
 * same file (`parse-cache.ts` keeps its sections by content).
 *
 * The cut is made only where it cannot change the meaning: the document is a block mapping
 * whose keys start at column 0 as plain words, and the text has no anchor, alias or tag
 * (`&name`, `*name`, `!tag`), directive, document marker, byte-order mark or carriage
 * return. Each top-level entry is a section; an entry whose value is a block mapping of
 * plain-word keys (`hosts:` and its hosts) is cut again, one section per member. A section
 * that does not parse alone makes the caller parse the whole text, so every error is the
 * whole parse's own.
 */
import { createHash } from "node:crypto";
import { isMap, LineCounter, parseDocument, type Node } from "yaml";
import { SourceIndex, type SourceLocation } from "./source-index";
import { indexPairs, keyText, PARSE_OPTIONS } from "./yaml-positions";

/** A run of the text holding whole members of the mapping at `parent` (a JSON pointer). */
export interface Section {
  /** Where the member's mapping is: `""` for the document, `/hosts` for a member of `hosts`. */
  parent: string;
  /** Offset of the section's first character. */
  start: number;
  /** Offset after its last. */
  end: number;
  /** For the first section of a cut entry, that entry (its key is a member of the document). */
  opens?: CutEntry;
}

/** A top-level key whose value is cut into its members: where its key and its first member start. */
export interface CutEntry {
  key: string;
  keyOffset: number;
}

/** How the text is cut: the sections in document order. */
export interface Cut {
  sections: Section[];
  /** Line starts of the whole text, for positions. */
  lines: LineCounter;
  /** Offset of the first top-level key: where the document's mapping starts. */
  rootOffset: number;
}

/** Anything that could tie one part of the text to another, or change how it is read. */
const NOT_CUTTABLE = /(?:^|[\s,[\]{}])[&*!][^\s]|^(?:%|---|\.\.\.)|\r|^\uFEFF/m;

/** A plain-word key starting the (unindented) line, then `:` and a blank or the line's end. */
const TOP_KEY = /^([A-Za-z0-9_][A-Za-z0-9_.-]*):(?:[ \t]|$)/;
/** A key line with no value on it (a comment may follow): its value is the block below. */
const BARE_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*:[ \t]*(?:#.*)?$/;

/** The text's sections, or undefined when it cannot be cut safely (then parse it whole). */
export function cutIntoSections(text: string): Cut | undefined {
  if (NOT_CUTTABLE.test(text)) return undefined;
  const starts = lineStarts(text);
  const lines = new LineCounter();
  for (const offset of starts) lines.addNewLine(offset);
  const lineAt = (i: number) => text.slice(starts[i], i + 1 < starts.length ? starts[i + 1] - 1 : text.length);

  // Top-level entries: from a key line at column 0 to the next.
  const entries: Array<{ key: string; line: number }> = [];
  for (let i = 0; i < starts.length; i++) {
    const line = lineAt(i);
    if (line === "" || line[0] === " " || line[0] === "#") continue;
    const key = TOP_KEY.exec(line);
    if (!key) return undefined;
    entries.push({ key: key[1], line: i });
  }
  if (entries.length === 0) return undefined;
  // Anything but blank lines and comments before the first key is no part of a mapping.
  for (let i = 0; i < entries[0].line; i++) if (lineAt(i).trim() !== "" && !lineAt(i).trimStart().startsWith("#")) return undefined;

  const sections: Section[] = [];
  entries.forEach((entry, k) => {
    const endLine = k + 1 < entries.length ? entries[k + 1].line : starts.length;
    const end = endLine < starts.length ? starts[endLine] : text.length;
    const members = BARE_KEY.test(lineAt(entry.line)) ? memberLines(lineAt, entry.line + 1, endLine) : undefined;
    if (!members) {
      sections.push({ parent: "", start: starts[entry.line], end });
      return;
    }
    const cutEntry = { key: entry.key, keyOffset: starts[entry.line] };
    members.forEach((line, m) => {
      const memberEnd = m + 1 < members.length ? starts[members[m + 1]] : end;
      sections.push({ parent: `/${entry.key}`, start: starts[line], end: memberEnd, ...(m === 0 ? { opens: cutEntry } : {}) });
    });
  });
  return { sections, lines, rootOffset: starts[entries[0].line] };
}

/**
 * The lines where the members of a block mapping start, when every line of `from..to` is
 * blank, a comment, a plain-word key at the first member's indentation, or deeper; else
 * undefined (a sequence, a flow value, a scalar: the entry stays one section).
 */
function memberLines(lineAt: (i: number) => string, from: number, to: number): number[] | undefined {
  let indent = -1;
  const members: number[] = [];
  for (let i = from; i < to; i++) {
    const line = lineAt(i);
    const trimmed = line.trimStart();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    const depth = line.length - trimmed.length;
    if (indent < 0) indent = depth;
    if (depth > indent) continue;
    if (depth < indent || !TOP_KEY.test(trimmed)) return undefined;
    members.push(i);
  }
  return members.length > 0 ? members : undefined;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let at = text.indexOf("\n"); at !== -1 && at + 1 < text.length; at = text.indexOf("\n", at + 1)) starts.push(at + 1);
  return starts;
}

/** A section as parsed once and kept: its members' values and where each value and key is, relative to its start. */
export interface ParsedSection {
  /** What the section is: its parent and text, hashed. */
  hash: string;
  /** Its members' names, as the source index names them. */
  names: string[];
  /** Its members: the section's mapping as plain data. */
  value: Record<string, unknown>;
  /** Offset of its first member's key. */
  firstKey: number;
  values: OffsetList;
  keys: OffsetList;
}

interface OffsetList {
  paths: string[];
  offsets: Int32Array;
}

/**
 * Parses `text` section by section, taking every section found in `kept` (by content) from
 * there. Returns the document and its sections, or undefined when the text cannot be cut
 * or a section does not parse alone, has a duplicate key or repeats another's member: the
 * caller then parses the whole text and reports what is wrong with it.
 */
export function parseBySections(text: string, file: string, maxAliasCount: number, kept: ReadonlyMap<string, ParsedSection>): { value: unknown; sources: SourceIndex; sections: ParsedSection[] } | undefined {
  const cut = cutIntoSections(text);
  if (!cut) return undefined;
  const sections: ParsedSection[] = [];
  for (const { parent, start, end } of cut.sections) {
    const chunk = text.slice(start, end);
    const hash = createHash("sha256").update(parent).update("\0").update(chunk).digest("base64");
    const section = kept.get(hash) ?? parseSection(chunk, parent, hash, maxAliasCount);
    if (!section) return undefined;
    sections.push(section);
  }
  const assembled = assemble(cut, sections, file);
  return assembled && { ...assembled, sections };
}

function parseSection(chunk: string, parent: string, hash: string, maxAliasCount: number): ParsedSection | undefined {
  const doc = parseDocument(chunk, PARSE_OPTIONS);
  const map = doc.contents;
  if (doc.errors.length > 0 || doc.warnings.length > 0 || !isMap(map) || map.items.length === 0) return undefined;
  const values = { paths: [] as string[], offsets: [] as number[] };
  const keys = { paths: [] as string[], offsets: [] as number[] };
  let duplicated = false;
  indexPairs(
    map,
    parent,
    {
      value: (path, offset) => void (values.paths.push(path), values.offsets.push(offset)),
      key: (path, offset) => void (keys.paths.push(path), keys.offsets.push(offset)),
      duplicate: () => void (duplicated = true),
    },
    new Set(),
  );
  const firstKey = (map.items[0].key as Node | null)?.range?.[0];
  if (duplicated || firstKey === undefined) return undefined;
  let value: Record<string, unknown>;
  try {
    value = doc.toJS({ maxAliasCount }) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  return {
    hash,
    names: map.items.map((pair) => keyText(pair.key)),
    value,
    firstKey,
    values: { paths: values.paths, offsets: Int32Array.from(values.offsets) },
    keys: { paths: keys.paths, offsets: Int32Array.from(keys.offsets) },
  };
}

/** The document the sections make, with every position the whole parse would record; undefined when a member repeats. */
function assemble(cut: Cut, sections: ParsedSection[], file: string): { value: unknown; sources: SourceIndex } | undefined {
  const locate = (offset: number): SourceLocation => {
    const { line, col } = cut.lines.linePos(offset);
    return { file, line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const root: Record<string, unknown> = {};
  const sources = new SourceIndex(locate(0));
  sources.setValue("", locate(cut.rootOffset));
  const seen = new Map<string, Set<string>>();
  // A member named twice is reported by the whole parse; __proto__ would not be a plain member here.
  const isNew = (parent: string, name: string): boolean => {
    const names = seen.get(parent) ?? new Set<string>();
    seen.set(parent, names);
    if (names.has(name) || name === "__proto__") return false;
    names.add(name);
    return true;
  };
  for (let i = 0; i < sections.length; i++) {
    const section = sections[i];
    const { parent, start, opens } = cut.sections[i];
    if (opens) {
      if (!isNew("", opens.key)) return undefined;
      root[opens.key] = {};
      sources.setKey(parent, locate(opens.keyOffset));
      sources.setValue(parent, locate(start + section.firstKey));
    }
    if (!section.names.every((name) => isNew(parent, name))) return undefined;
    const target = parent === "" ? root : (root[parent.slice(1)] as Record<string, unknown>);
    Object.assign(target, section.value);
    for (let j = 0; j < section.values.paths.length; j++) sources.setValue(section.values.paths[j], locate(start + section.values.offsets[j]));
    for (let j = 0; j < section.keys.paths.length; j++) sources.setKey(section.keys.paths[j], locate(start + section.keys.offsets[j]));
  }
  return { value: root, sources };
}
