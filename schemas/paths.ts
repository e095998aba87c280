/**
 * The one answer to "where is the source tree": compiled modules run from `dist/<room>/`,
 * tests run the TypeScript in place, and both must find the same data files (schemas,
 * components, policy data, CSDL). Everything resolves from the package root: the nearest
 * folder above this module that holds `package.json`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

let root: string | undefined;

/** The package root (where package.json, schemas/, stacks/ and dist/ live). */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname, parent = ""; dir !== parent; parent = dir, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return (root = dir);
  }
  throw new Error(`cannot find the package root (a folder with package.json) above ${__dirname}`);
}

/** Absolute path of a data file in the source tree, e.g. `sourcePath("stacks", "components")`. */
export function sourcePath(...segments: string[]): string {
  return path.join(packageRoot(), ...segments);
}
