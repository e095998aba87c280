/**
 * Parsed YAML files kept on disk by content, so that a large file read again unchanged
 * costs a hash and a deserialisation instead of a parse. The `yaml` parser takes about
 * 0.6 s for a 2,000-host inventory (0.8 MB) and 1 s for its stack; a fleet's inventory
 * changes far less often than it is read (`check` in CI, `preview`, then `up`, whose
 * program reads it again), and a one-DPU change leaves it untouched.
 *
 * An entry is keyed by the SHA-256 of the text, the name the file was given as (every
 * position carries it), the alias limit and the parser itself (the compiled modules that
 * turn text into values and positions, and the `yaml` version): a change to any of them
 * is a miss, never a stale answer. Only parses that succeed are kept, only of files of
 * at least {@link MIN_CACHED_BYTES}, at most {@link MAX_ENTRIES} of them, in a folder
 * only this user can read (`SMARTFLEET_CACHE_DIR`, else `$XDG_CACHE_HOME/smartfleet` or
 * `~/.cache/smartfleet`; an empty `SMARTFLEET_CACHE_DIR` turns the cache off). An entry
 * that cannot be read or written is a miss, never an error: the file is parsed as always.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as v8 from "node:v8";
import { smartfleetCacheDir, touchCacheEntry, writeCacheEntry, type CacheFolder } from "./cache-dir";
import { SourceIndex, type SourceLocation } from "./source-index";

/** Smaller files parse in milliseconds: caching them would only fill the folder. */
export const MIN_CACHED_BYTES = 64 * 1024;

/**
 * Entries kept; the least recently used go first. A few fleets' stacks and inventories, each
 * with its sections (an entry of a 2,000-DPU stack is 8.5 MB, its sections about as much).
 */
export const MAX_ENTRIES = 16;

/** What a parse produces and an entry holds. */
export interface ParsedValue {
  value: unknown;
  sources: SourceIndex;
}

/** An entry on disk: positions as parallel arrays (the file name once, not once per value). */
interface Entry {
  value: unknown;
  fallback: SourceLocation;
  values: PositionList;
  keys: PositionList;
}

interface PositionList {
  paths: string[];
  lines: Int32Array;
  columns: Int32Array;
}

/** The folder entries are kept in; undefined when the cache is off. */
export function parseCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = smartfleetCacheDir(env);
  return base && path.join(base, "parsed-yaml");
}

/**
 * `parse()`'s result for `text` read from `file`, from the cache when an entry for the
 * same text, name, options and parser exists; otherwise parses and keeps the result.
 * `options` are the parse's settings that change its result (the alias limit).
 */
export function cachedParse(file: string, text: string, options: Record<string, unknown>, parse: () => ParsedValue): ParsedValue {
  const dir = Buffer.byteLength(text) >= MIN_CACHED_BYTES ? parseCacheDir() : undefined;
  const parser = dir && parserFingerprint();
  if (!dir || !parser) return parse();
  const entryFile = path.join(dir, `${entryKey(parser, file, text, options)}.v8`);
  const hit = readEntry(entryFile, file);
  if (hit) return hit;
  const parsed = parse();
  writeEntry(dir, entryFile, file, parsed);
  return parsed;
}

/**
 * The sections (`yaml-sections.ts`) kept from the last parse of `file` with these options
 * and this parser, by their hash; empty when there are none or the cache is off.
 */
export function keptSections<T extends { hash: string }>(file: string, options: Record<string, unknown>): Map<string, T> {
  const entryFile = sectionsFile(file, options);
  if (!entryFile) return new Map();
  try {
    const sections = v8.deserialize(fs.readFileSync(entryFile)) as T[];
    return new Map(sections.map((section) => [section.hash, section]));
  } catch {
    return new Map();
  }
}

/** Keeps `sections` as the last parse of `file`, in place of what was kept before. */
export function keepSections<T extends { hash: string }>(file: string, options: Record<string, unknown>, sections: T[]): void {
  const entryFile = sectionsFile(file, options);
  if (entryFile) writeCacheEntry(folderOf(path.dirname(entryFile)), entryFile, v8.serialize(sections));
}

function sectionsFile(file: string, options: Record<string, unknown>): string | undefined {
  const dir = parseCacheDir();
  const parser = dir && parserFingerprint();
  if (!dir || !parser) return undefined;
  return path.join(dir, `${entryKey(parser, file, "\0sections", options)}.v8`);
}

function entryKey(parser: string, file: string, text: string, options: Record<string, unknown>): string {
  return createHash("sha256").update(parser).update("\0").update(file).update("\0").update(JSON.stringify(options)).update("\0").update(text).digest("hex");
}

let fingerprint: string | null | undefined;

/**
 * What identifies the parser: the modules that produce values and positions (as run: the
 * compiled ones in a build) and yaml's version. Null when they cannot be read: no cache.
 */
function parserFingerprint(): string | null {
  if (fingerprint === undefined) {
    try {
      const hash = createHash("sha256");
      for (const module of ["yaml-source", "yaml-positions", "yaml-sections", "source-index", "parse-cache"]) hash.update(fs.readFileSync(path.join(__dirname, module + path.extname(__filename))));
      hash.update((require("yaml/package.json") as { version: string }).version);
      fingerprint = hash.digest("hex");
    } catch {
      fingerprint = null;
    }
  }
  return fingerprint;
}

function readEntry(entryFile: string, file: string): ParsedValue | undefined {
  let entry: Entry;
  try {
    entry = v8.deserialize(fs.readFileSync(entryFile)) as Entry;
  } catch {
    return undefined;
  }
  touchCacheEntry(entryFile);
  const sources = new SourceIndex(entry.fallback);
  forEachPosition(entry.values, file, (p, at) => sources.setValue(p, at));
  forEachPosition(entry.keys, file, (p, at) => sources.setKey(p, at));
  return { value: entry.value, sources };
}

function forEachPosition(list: PositionList, file: string, record: (path: string, at: SourceLocation) => void): void {
  for (let i = 0; i < list.paths.length; i++) record(list.paths[i], { file, line: list.lines[i], column: list.columns[i] });
}

function writeEntry(dir: string, entryFile: string, file: string, parsed: ParsedValue): void {
  const { fallback, values, keys } = parsed.sources.entries();
  // Positions are kept as line and column in `file`: one anywhere else (a template's) is not.
  const elsewhere = (at: SourceLocation): boolean => at.file !== file || at.origin !== undefined;
  if (elsewhere(fallback) || values.some(([, at]) => elsewhere(at)) || keys.some(([, at]) => elsewhere(at))) return;
  const entry: Entry = { value: parsed.value, fallback, values: positionList(values), keys: positionList(keys) };
  writeCacheEntry(folderOf(dir), entryFile, v8.serialize(entry));
}

/** Parsed files and their sections share one folder and one limit. */
function folderOf(dir: string): CacheFolder {
  return { dir, extension: ".v8", keep: MAX_ENTRIES };
}

function positionList(entries: Array<[string, SourceLocation]>): PositionList {
  return {
    paths: entries.map(([p]) => p),
    lines: Int32Array.from(entries, ([, at]) => at.line),
    columns: Int32Array.from(entries, ([, at]) => at.column),
  };
}

