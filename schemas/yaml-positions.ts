/**
 * The position of every value and key of a parsed YAML node, as offsets into the text it
 * was parsed from, and its duplicate keys: what `yaml-source.ts` turns into a source index
 * and `yaml-sections.ts` keeps per section.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { childPointer } from "./source-index";

/**
 * How every YAML text is parsed, whole or in sections (which must read it alike). Duplicate
 * keys are found while indexing (one Set per mapping); yaml's own check compares every pair
 * of keys, which is quadratic in the size of a mapping.
 */
export const PARSE_OPTIONS = { uniqueKeys: false, prettyErrors: true, strict: true } as const;

/** Where `indexNode` puts what it finds: offsets into the parsed text. */
export interface PositionSink {
  value(path: string, offset: number): void;
  key(path: string, offset: number): void;
  /** A key seen before in the same mapping; `offset` is the repeated key's, when it has one. */
  duplicate(path: string, name: string, offset: number | undefined): void;
}

/**
 * Records the position of every value and key, and reports duplicate keys. Does not
 * follow aliases (they keep their own position), so it is linear in the text's size.
 */
export function indexNode(node: Node | null, path: string, sink: PositionSink): void {
  if (!node) return;
  if (node.range) sink.value(path, node.range[0]);
  if (isMap(node)) indexPairs(node, path, sink, new Set());
  else if (isSeq(node)) node.items.forEach((item, i) => indexNode(item as Node, childPointer(path, i), sink));
}

/**
 * The members of mapping `node` at `path`; `seen` holds the keys met so far (a mapping
 * parsed in sections passes the same set for all of them).
 */
export function indexPairs(node: YAMLMap, path: string, sink: PositionSink, seen: Set<string>): void {
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    const name = keyText(key);
    const memberPath = childPointer(path, name);
    if (seen.has(name)) {
      sink.duplicate(memberPath, name, key?.range?.[0]);
      continue;
    }
    seen.add(name);
    if (key?.range) sink.key(memberPath, key.range[0]);
    const value = pair.value as Node | null;
    if (value) indexNode(value, memberPath, sink);
    else if (key?.range) sink.value(memberPath, key.range[0]);
  }
}

/** A mapping key as the index names it. */
export function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}
