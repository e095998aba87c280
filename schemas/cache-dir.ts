/**
 * smartfleet's folder of the user's cache: `SMARTFLEET_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/smartfleet` or `~/.cache/smartfleet`. An empty `SMARTFLEET_CACHE_DIR`
 * turns every cache kept there off. Deleting the folder is always safe.
 */
import { createHash, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** The folder; undefined when caching is off. */
export function smartfleetCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env.SMARTFLEET_CACHE_DIR;
  if (configured !== undefined) return configured === "" ? undefined : path.resolve(configured);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "smartfleet");
}

/** A half-written entry older than this was left by a writer that died; a live one takes milliseconds. */
const ABANDONED_WRITE_MS = 60_000;

/** How a cache folder is kept: its entries end in `extension`, and at most `keep` of them stay. */
export interface CacheFolder {
  dir: string;
  extension: string;
  keep: number;
}

/**
 * Writes `bytes` as `entryFile` in `folder` (created for this user only), whole or not at
 * all, then drops the least recently used entries beyond the folder's `keep`. A cache that
 * cannot be written is only slower: failures are swallowed.
 */
export function writeCacheEntry(folder: CacheFolder, entryFile: string, bytes: string | Uint8Array): void {
  // Unique per writer (threads share a pid): the rename then replaces an entry whole.
  const temporary = `${entryFile}.${randomUUID()}.tmp`;
  try {
    fs.mkdirSync(folder.dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(temporary, bytes, { mode: 0o600 });
    fs.renameSync(temporary, entryFile);
    pruneOldest(folder);
  } catch {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * `body` behind a first line of `header` and the body's SHA-256: for entries that are code
 * or text a process runs, which must never be taken damaged ({@link readCheckedEntry}).
 */
export function checkedEntry(header: string, body: string | Buffer): Buffer {
  const bytes = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${header}${sha256(bytes)}\n`), bytes]);
}

/**
 * The body of an entry {@link checkedEntry} made with `header`, marked used; undefined when
 * the entry is missing, empty, or its checksum does not hold.
 */
export function readCheckedEntry(entryFile: string, header: string): Buffer | undefined {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(entryFile);
  } catch {
    return undefined;
  }
  const newline = bytes.indexOf(0x0a);
  if (newline < 0) return undefined;
  const first = bytes.subarray(0, newline).toString();
  const body = bytes.subarray(newline + 1);
  if (!body.length || !first.startsWith(header) || first.slice(header.length) !== sha256(body)) return undefined;
  touchCacheEntry(entryFile);
  return body;
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Marks an entry used, for pruning; a folder this process cannot write is still read. */
export function touchCacheEntry(entryFile: string): void {
  try {
    const now = new Date();
    fs.utimesSync(entryFile, now, now);
  } catch {
    // pruned as if unused: harmless
  }
}

/** Removes the least recently used entries beyond `keep`, and what writers that died left half-written. */
function pruneOldest({ dir, extension, keep }: CacheFolder): void {
  const files = fs.readdirSync(dir).map((name) => ({ name, file: path.join(dir, name), used: fs.statSync(path.join(dir, name)).mtimeMs }));
  const entries = files.filter((f) => f.name.endsWith(extension)).sort((a, b) => b.used - a.used);
  const abandoned = files.filter((f) => f.name.endsWith(".tmp") && Date.now() - f.used > ABANDONED_WRITE_MS);
  for (const stale of [...entries.slice(keep), ...abandoned]) fs.rmSync(stale.file, { force: true });
}
