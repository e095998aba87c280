/**
 * Finds shared components: `<root>/<name>/<version>/component.yaml` in the project's
 * `stacks/components/`, and in npm packages that declare a components directory in their
 * package.json (`"smartfleet": { "components": "dir" }`), so a team can publish components.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";
import { sourcePath } from "../schemas/paths";

/** The project's own components directory. */
export const PROJECT_COMPONENTS_DIR = sourcePath("stacks", "components");

/** One version of one component found on disk. */
export interface ComponentCandidate {
  /** Component name (its directory). */
  name: string;
  /** Exact version (its directory). */
  version: string;
  /** The version directory holding component.yaml and template.yaml.hbs. */
  dir: string;
  /** Where it was found: `project` or the npm package name. */
  source: string;
}

/** The places components are looked up in. */
export interface ComponentSearch {
  /** Component roots (`<root>/<name>/<version>/`) with a label each. */
  roots: { dir: string; source: string }[];
}

/** Lists the npm packages in `nodeModulesDir` that declare a smartfleet components directory. */
export function packageComponentRoots(nodeModulesDir: string): { dir: string; source: string }[] {
  if (!fs.existsSync(nodeModulesDir)) return [];
  const packageDirs: string[] = [];
  for (const entry of fs.readdirSync(nodeModulesDir).sort()) {
    if (entry.startsWith(".")) continue;
    const full = path.join(nodeModulesDir, entry);
    if (entry.startsWith("@")) {
      for (const scoped of safeReaddir(full).sort()) packageDirs.push(path.join(full, scoped));
    } else packageDirs.push(full);
  }
  const roots: { dir: string; source: string }[] = [];
  for (const dir of packageDirs) {
    const manifest = readPackageJson(path.join(dir, "package.json"));
    const declared = manifest?.smartfleet?.components;
    if (typeof declared !== "string") continue;
    const root = path.resolve(dir, declared);
    // A package may only point inside itself.
    if (!root.startsWith(path.resolve(dir) + path.sep) && root !== path.resolve(dir)) continue;
    roots.push({ dir: root, source: `npm:${manifest?.name ?? path.basename(dir)}` });
  }
  return roots;
}

function safeReaddir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

function readPackageJson(file: string): { name?: string; smartfleet?: { components?: unknown } } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; smartfleet?: { components?: unknown } };
  } catch {
    return undefined;
  }
}

/**
 * The default search: the project's components first, then packages in every `node_modules`
 * from the stack file's directory up to the file system root.
 */
export function defaultSearch(stackFile: string, projectDir = PROJECT_COMPONENTS_DIR): ComponentSearch {
  const roots = [{ dir: projectDir, source: "project" }];
  const seen = new Set<string>();
  for (let dir = path.dirname(path.resolve(stackFile)); ; dir = path.dirname(dir)) {
    const nodeModules = path.join(dir, "node_modules");
    if (!seen.has(nodeModules)) {
      seen.add(nodeModules);
      roots.push(...packageComponentRoots(nodeModules));
    }
    if (path.dirname(dir) === dir) break;
  }
  return { roots };
}

/** Every version of `name` in the search roots. */
export function listCandidates(name: string, search: ComponentSearch): ComponentCandidate[] {
  const found: ComponentCandidate[] = [];
  for (const root of search.roots) {
    const componentDir = path.join(root.dir, name);
    for (const version of safeReaddir(componentDir)) {
      if (!semver.valid(version)) continue;
      const dir = path.join(componentDir, version);
      if (fs.existsSync(path.join(dir, "component.yaml"))) found.push({ name, version, dir, source: root.source });
    }
  }
  return found;
}

/** Splits `name@range` into its parts. */
export function parseUse(use: string): { name: string; range: string } {
  const at = use.indexOf("@");
  return { name: use.slice(0, at), range: use.slice(at + 1) };
}

/** The outcome of resolving a `use:` reference. */
export type Resolution =
  | { ok: true; candidate: ComponentCandidate }
  | { ok: false; message: string; allowed: string[] };

/**
 * Picks the highest version satisfying the range; the project wins over packages on a tie
 * so that a team can override a published component locally.
 */
export function resolveComponent(use: string, search: ComponentSearch): Resolution {
  const { name, range } = parseUse(use);
  if (semver.validRange(range) === null) {
    return { ok: false, message: `'${range}' is not a valid semver range`, allowed: ["npm-style ranges such as ^1, ~1.2, 1.x, >=1.0.0 <2"] };
  }
  const candidates = listCandidates(name, search);
  if (candidates.length === 0) {
    return { ok: false, message: `component '${name}' not found`, allowed: search.roots.map((r) => `${r.source} (${r.dir})`) };
  }
  const matching = candidates.filter((c) => semver.satisfies(c.version, range));
  if (matching.length === 0) {
    const versions = [...new Set(candidates.map((c) => c.version))].sort(semver.compare);
    return { ok: false, message: `no version of '${name}' satisfies '${range}'`, allowed: versions };
  }
  matching.sort((a, b) => semver.rcompare(a.version, b.version) || Number(b.source === "project") - Number(a.source === "project"));
  return { ok: true, candidate: matching[0] };
}
