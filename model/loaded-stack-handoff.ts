/**
 * A loaded stack handed from the `smartfleet` command to the programs of the shard stacks
 * it starts, so that a sharded run parses and checks the stack's files once, not once per
 * shard: at 2,000 DPUs loading the stack and its inventory costs about 1.9 s of CPU, paid
 * by each of nine programs sharing the machine's cores.
 *
 * The command writes the loaded stack to a file and names it in `SMARTFLEET_LOADED_STACK`
 * for the stacks it runs, and only for them (a `pulumi up` started by hand never sees it).
 * The program takes it only when it is the stack the program was asked to load and neither
 * the stack file nor its inventory changed since; otherwise it loads the files as always.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadedStack } from "./load";

/** The environment variable that names the handed-over file. */
export const LOADED_STACK_ENV = "SMARTFLEET_LOADED_STACK";

/** What the file holds: the loaded stack and the files it was read from, as they were then. */
interface Handoff {
  format: 1;
  files: Array<{ file: string; mtimeMs: number; size: number }>;
  loaded: LoadedStack;
}

/** Writes `loaded` into `dir`; returns the environment that hands it to a program. */
export function writeLoadedStack(dir: string, loaded: LoadedStack): Record<string, string> {
  const file = path.join(dir, "loaded-stack.json");
  const handoff: Handoff = { format: 1, files: [loaded.file, loaded.inventoryFile].map(stamp), loaded };
  fs.writeFileSync(file, JSON.stringify(handoff), { mode: 0o600 });
  return { [LOADED_STACK_ENV]: file };
}

/**
 * The handed-over stack when it is `stackFile`'s and its files are unchanged; undefined
 * (load the files) otherwise, or when nothing was handed over.
 */
export function handedOverStack(stackFile: string, env: NodeJS.ProcessEnv = process.env): LoadedStack | undefined {
  const file = env[LOADED_STACK_ENV];
  if (!file) return undefined;
  let handoff: Handoff;
  try {
    handoff = JSON.parse(fs.readFileSync(file, "utf8")) as Handoff;
  } catch {
    return undefined;
  }
  if (handoff.format !== 1 || handoff.loaded?.file !== path.resolve(stackFile)) return undefined;
  const unchanged = handoff.files.every((was) => {
    try {
      const now = stamp(was.file);
      return now.mtimeMs === was.mtimeMs && now.size === was.size;
    } catch {
      return false;
    }
  });
  return unchanged ? handoff.loaded : undefined;
}

function stamp(file: string): { file: string; mtimeMs: number; size: number } {
  const st = fs.statSync(file);
  return { file, mtimeMs: st.mtimeMs, size: st.size };
}
