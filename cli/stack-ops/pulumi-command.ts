/**
 * The `pulumi` a command runs. The Automation API finds it with `pulumi version`, about
 * 0.2 s in front of every smartfleet command's first Pulumi run (a one-shard preview's
 * engine starts after it). The version of the binary on PATH is kept in smartfleet's cache
 * folder (`schemas/cache-dir.ts`), keyed by the binary's path, size and modification time,
 * so it is asked again only when that binary changes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { SemVer } from "semver";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { smartfleetCacheDir } from "../../schemas/cache-dir";

/** The cache file: versions by binary fingerprint. */
const CACHE_FILE = "pulumi-versions.json";

/** The `pulumi` on PATH, with its version from the cache when the binary is the one measured. */
export async function pulumiCommand(env: NodeJS.ProcessEnv = process.env): Promise<PulumiCommand> {
  const cacheDir = smartfleetCacheDir(env);
  const binary = firstOnPath("pulumi", env.PATH ?? "");
  const key = binary && fingerprint(binary);
  const cacheFile = cacheDir && path.join(cacheDir, CACHE_FILE);
  const known = key && cacheFile ? readCache(cacheFile)[key] : undefined;
  if (known) return Object.assign(Object.create(PulumiCommand.prototype) as PulumiCommand, { command: "pulumi", version: new SemVer(known) });
  const command = await PulumiCommand.get({ skipVersionCheck: !!env.PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK });
  if (key && cacheFile && command.version) writeCache(cacheFile, { ...readCache(cacheFile), [key]: command.version.version });
  return command;
}

/** The first executable file `name` in the PATH's folders, resolved through links. */
function firstOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return fs.realpathSync(candidate);
    } catch {
      // not here
    }
  }
  return undefined;
}

function fingerprint(file: string): string {
  const stat = fs.statSync(file);
  return `${file}:${stat.size}:${stat.mtimeMs}`;
}

function readCache(file: string): Record<string, string> {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Written whole and renamed into place: concurrent commands never read half a file. */
function writeCache(file: string, versions: Record<string, string>): void {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}`;
    fs.writeFileSync(temporary, JSON.stringify(versions));
    fs.renameSync(temporary, file);
  } catch {
    // A cache that cannot be written costs the next command one `pulumi version`.
  }
}
