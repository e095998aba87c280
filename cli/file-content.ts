/**
 * A first look at a file a command was given, before the loader parses it: an empty file,
 * bytes that are not text, or a document of another kind (an inventory where a stack is
 * expected) gets a message saying what it is and what to do, instead of the schema's
 * "must be object" or a list of a stack's missing properties. Bytes are never echoed:
 * what is not text is described by its offset and value in hex.
 */
import * as fs from "node:fs";
import { isUtf8 } from "node:buffer";
import { parse } from "yaml";
import type { StackError } from "../schemas/diagnostics";

/** What each kind of document is for, said when it is passed where a Stack is expected. */
const WRONG_KIND_FOR_STACK: Record<string, string> = {
  Fleet: "this is a Fleet inventory, not a Stack: a stack names it in `inventory:` (check that stack), and `smartfleet emulator start --inventory FILE` emulates it",
  Component: "this is a Component, not a Stack: a stack uses it under `components:` (check that stack)",
};

/** The offset of the first byte that is not part of a well-formed UTF-8 sequence. */
function invalidUtf8At(b: Buffer): number | undefined {
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    // Overlong forms, UTF-16 surrogates and code points above U+10FFFF.
    if (n === 2 && ((c === 0xe0 && b[i + 1] < 0xa0) || (c === 0xed && b[i + 1] >= 0xa0))) return i;
    if (n === 3 && ((c === 0xf0 && b[i + 1] < 0x90) || (c === 0xf4 && b[i + 1] >= 0x90))) return i;
    i += n + 1;
  }
  return undefined;
}

/** The offset of the first byte that makes `bytes` not text (NUL, a C0 control other than tab/CR/LF, DEL, invalid UTF-8). */
export function firstNonTextByte(bytes: Buffer): number | undefined {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if ((b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f) return i;
  }
  return isUtf8(bytes) ? undefined : invalidUtf8At(bytes);
}

function at(file: string, message: string): StackError {
  return { file, line: 1, column: 1, path: "", message };
}

/**
 * Why `file` cannot be a Stack document, when that is visible without the schema; undefined
 * when it may be one (the loader then reports everything else, including a missing file).
 */
export function stackFileProblem(file: string): StackError | undefined {
  let bytes: Buffer;
  try {
    if (!fs.statSync(file).isFile()) return undefined;
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const bad = firstNonTextByte(bytes);
  if (bad !== undefined) {
    return at(file, `not a text file: byte 0x${bytes[bad].toString(16).padStart(2, "0")} at offset ${bad}; expected a YAML Stack document`);
  }
  let value: unknown;
  try {
    value = parse(bytes.toString("utf8"));
  } catch {
    return undefined; // the loader reports YAML syntax errors with their positions
  }
  if (value === null || value === undefined) return at(file, "empty file, expected a Stack document (apiVersion: smartfleet.dev/v1, kind: Stack)");
  if (typeof value !== "object" || Array.isArray(value)) return undefined;
  const doc = value as Record<string, unknown>;
  const kind = typeof doc.kind === "string" ? doc.kind : undefined;
  if (kind && WRONG_KIND_FOR_STACK[kind]) return at(file, WRONG_KIND_FOR_STACK[kind]);
  if (!kind && ("config" in doc || "encryptionsalt" in doc)) {
    return at(file, "this is Pulumi stack settings (Pulumi.<stack>.yaml), not a smartfleet Stack: its smartfleet:stackFile names the stack to check");
  }
  return undefined;
}
