/**
 * Source positions of the values in a parsed document, by JSON pointer, so that any
 * later stage (schema validation, component merging, policy rules) can name the exact
 * file, line and column of a value it objects to.
 */
import type { TemplateOrigin } from "./diagnostics";

/** A position in a source file. */
export interface SourceLocation {
  /** The file (as given to the loader). */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** Set when the value was rendered by a component template. */
  origin?: TemplateOrigin;
}

/** Escapes one JSON pointer segment (RFC 6901). */
export function escapePointerSegment(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The segments of a JSON pointer, unescaped (RFC 6901): `/hosts/a~1b` is `["hosts", "a/b"]`. */
export function pointerSegments(pointer: string): string[] {
  return pointer
    .split("/")
    .slice(1)
    .map((segment) => segment.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** Joins JSON pointer segments: `pointer("hosts", "esx-01")` is `/hosts/esx-01`. */
export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => "/" + escapePointerSegment(s)).join("");
}

/** Appends segments to an existing pointer. */
export function childPointer(parent: string, ...segments: (string | number)[]): string {
  return parent + pointer(...segments);
}

/** The parent of a pointer (`""` for the document itself). */
export function parentPointer(path: string): string {
  const cut = path.lastIndexOf("/");
  return cut <= 0 ? "" : path.slice(0, cut);
}

/**
 * Positions by JSON pointer: where each value starts and, for object members, where its
 * key starts. Lookups fall back to the nearest ancestor, so every pointer has a position.
 */
export class SourceIndex {
  private readonly values = new Map<string, SourceLocation>();
  private readonly keys = new Map<string, SourceLocation>();

  constructor(private readonly fallback: SourceLocation) {}

  /** Records where the value at `path` starts. */
  setValue(path: string, location: SourceLocation): void {
    this.values.set(path, location);
  }

  /** Records where the key of the member at `path` starts. */
  setKey(path: string, location: SourceLocation): void {
    this.keys.set(path, location);
  }

  /** Where the value at `path` starts, or the nearest ancestor's position. */
  locate(path: string): SourceLocation {
    for (let current = path; ; current = parentPointer(current)) {
      const found = this.values.get(current);
      if (found) return found;
      if (current === "") return this.fallback;
    }
  }

  /** Where the key of the member at `path` starts, or else its value's position. */
  locateKey(path: string): SourceLocation {
    return this.keys.get(path) ?? this.locate(path);
  }

  /** Copies every position of `other` this index has none for (merging component output keeps the stack's own positions). */
  adoptMissing(other: SourceIndex): void {
    for (const [path, location] of other.values) if (!this.values.has(path)) this.values.set(path, location);
    for (const [path, location] of other.keys) if (!this.keys.has(path)) this.keys.set(path, location);
  }

  /** Everything recorded, for keeping the index outside this process (`parse-cache.ts`). */
  entries(): { fallback: SourceLocation; values: Array<[string, SourceLocation]>; keys: Array<[string, SourceLocation]> } {
    return { fallback: this.fallback, values: [...this.values], keys: [...this.keys] };
  }

  /** Every recorded value pointer (for tests and diagnostics). */
  paths(): string[] {
    return [...this.values.keys()];
  }
}
