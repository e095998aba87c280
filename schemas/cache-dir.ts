/**
 * smartfleet's folder of the user's cache: `SMARTFLEET_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/smartfleet` or `~/.cache/smartfleet`. An empty `SMARTFLEET_CACHE_DIR`
 * turns every cache kept there off. Deleting the folder is always safe.
 */
import * as os from "node:os";
import * as path from "node:path";

/** The folder; undefined when caching is off. */
export function smartfleetCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const configured = env.SMARTFLEET_CACHE_DIR;
  if (configured !== undefined) return configured === "" ? undefined : path.resolve(configured);
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "smartfleet");
}
