/**
 * The stack-file arguments of `check`, `render` and `graph`: files, directories and globs
 * expanded to the stack files they name. Pulumi's own settings files (`Pulumi.yaml`,
 * `Pulumi.<stack>.yaml`) sit beside the stacks in `stacks/` and are never smartfleet
 * stacks, so they are always left out (a shell's `stacks/*.yaml` names them too); from a
 * directory or a glob, Fleet inventories and Components are left out as well (they are
 * checked through the stacks that use them). Plain Node, no toolchain: these commands run
 * on any Node.js >= 20 (see cli/bin/smartfleet.js).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** A file left out, and why (reported on stderr, never an error). */
export interface Skipped {
  file: string;
  reason: string;
}

/** The stack files an argument list names. */
export interface StackFiles {
  /** Files to load, in argument order, each once. */
  files: string[];
  /** Files left out, with the reason. */
  skipped: Skipped[];
  /** Arguments that name nothing (a missing directory, a glob without a match): usage errors. */
  unmatched: string[];
}

const YAML_FILE = /\.ya?ml$/i;
const PULUMI_SETTINGS = /^Pulumi(\.[^/\\]+)?\.ya?ml$/;
const GLOB_CHARS = /[*?[]/;

/** True for `Pulumi.yaml` and `Pulumi.<stack>.yaml`: Pulumi's project and stack settings. */
export function isPulumiSettings(file: string): boolean {
  return PULUMI_SETTINGS.test(path.basename(file));
}

/** The `kind:` of a YAML document, or undefined when it has none or does not parse. */
export function documentKind(file: string): string | undefined {
  try {
    const value: unknown = parse(fs.readFileSync(file, "utf8"));
    const kind = value && typeof value === "object" ? (value as { kind?: unknown }).kind : undefined;
    return typeof kind === "string" ? kind : undefined;
  } catch {
    return undefined;
  }
}

/** Converts one glob segment (`*`, `?`, `[...]`) to an anchored regular expression. */
function segmentPattern(segment: string): RegExp {
  let source = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i];
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end < 0) source += "\\[";
      else {
        source += `[${segment.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  // Like a shell, `*` does not match a leading dot.
  return new RegExp(segment.startsWith(".") ? `^${source}$` : `^(?!\\.)${source}$`);
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

/** Expands a glob (`*`, `?`, `[...]` within a segment, `**` for any depth but not into hidden folders or node_modules) to the files it matches, sorted. */
export function expandGlob(pattern: string): string[] {
  const absolute = path.isAbsolute(pattern);
  const segments = pattern.split(/[/\\]+/).filter((s, i) => s !== "" || i === 0);
  const start = absolute ? path.parse(path.resolve(pattern)).root : ".";
  if (absolute) segments.shift();
  const results = new Set<string>();
  const walk = (base: string, rest: string[]): void => {
    if (rest.length === 0) {
      if (fs.statSync(base, { throwIfNoEntry: false })?.isFile()) results.add(base);
      return;
    }
    const [head, ...tail] = rest;
    if (head === "**") {
      walk(base, tail);
      // Like a shell's globstar, `**` skips hidden folders; it also skips node_modules, which holds no stacks.
      for (const entry of listDir(base)) if (entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules") walk(path.join(base, entry.name), rest);
      return;
    }
    if (!GLOB_CHARS.test(head)) return walk(path.join(base, head), tail);
    const re = segmentPattern(head);
    for (const entry of listDir(base)) if (re.test(entry.name)) walk(path.join(base, entry.name), tail);
  };
  walk(start, segments);
  return [...results].sort();
}

function display(file: string): string {
  return path.isAbsolute(file) ? file : path.normalize(file);
}

/**
 * Expands the arguments: a directory names its own `*.yaml`/`*.yml` files (not its
 * sub-directories: `stacks/components/` holds templates, not stacks), a glob the files it
 * matches (its YAML files), anything else itself (a missing file stays, for the loader to report).
 */
export function expandStackArgs(args: string[]): StackFiles {
  const files: string[] = [];
  const skipped: Skipped[] = [];
  const unmatched: string[] = [];
  const seen = new Set<string>();
  const add = (file: string, explicit: boolean): void => {
    const key = path.resolve(file);
    if (seen.has(key)) return;
    seen.add(key);
    if (isPulumiSettings(file)) {
      skipped.push({ file: display(file), reason: "Pulumi stack settings, not a smartfleet stack" });
      return;
    }
    const kind = explicit ? undefined : documentKind(file);
    if (kind === "Fleet" || kind === "Component") {
      skipped.push({ file: display(file), reason: `a ${kind === "Fleet" ? "Fleet inventory" : "Component"}, checked through the stacks that use it` });
      return;
    }
    files.push(display(file));
  };
  for (const arg of args) {
    const stat = fs.statSync(arg, { throwIfNoEntry: false });
    if (stat?.isDirectory()) {
      const inside = listDir(arg).filter((e) => e.isFile() && YAML_FILE.test(e.name)).map((e) => path.join(arg, e.name)).sort();
      if (inside.length === 0) unmatched.push(arg);
      inside.forEach((f) => add(f, false));
    } else if (!stat && GLOB_CHARS.test(arg)) {
      const matched = expandGlob(arg).filter((f) => YAML_FILE.test(f));
      if (matched.length === 0) unmatched.push(arg);
      matched.forEach((f) => add(f, false));
    } else add(arg, true);
  }
  return { files, skipped, unmatched };
}
