/**
 * A loaded stack handed from the `smartfleet` command to the programs of the shard stacks
 * it starts, with its policy report, so that a sharded run parses and checks the stack's
 * files once, not once per shard: at 2,000 DPUs loading the stack and its inventory costs
 * about 1.9 s of CPU and the rules 0.1 s, paid by each of nine programs sharing the
 * machine's cores.
 *
 * The command writes the loaded stack to a file and names it in `SMARTFLEET_LOADED_STACK`
 * for the stacks it runs, and only for them (a `pulumi up` started by hand never sees it).
 * The program takes it only when it is the stack the program was asked to load and neither
 * the stack file nor its inventory changed since; otherwise it loads the files as always.
 *
 * A program may also be started before the command has loaded the stack (a one-shard
 * preview starts its engine while the file still parses): then `SMARTFLEET_LOADED_STACK_GATE`
 * names a gate file, and the program declares nothing until the command writes its verdict
 * there ({@link awaitGate}): go once the stack is loaded and the shard is known to be in it,
 * stop (with why) when the file is invalid or the run must not go on.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { LoadedStack } from "./load";

/** The environment variable that names the handed-over file. */
export const LOADED_STACK_ENV = "SMARTFLEET_LOADED_STACK";

/** What the file holds: the loaded stack, the files it was read from as they were then, and the command's checks. */
interface Handoff {
  format: 2;
  files: Array<{ file: string; mtimeMs: number; size: number }>;
  loaded: LoadedStack;
  checked: unknown;
}

/** What a program takes over. */
export interface HandedOver {
  /**
   * The loaded stack, without its source positions (`sources` is empty): they serve to
   * locate the findings of the policy rules, which the command already ran (`checked`),
   * and were half of the 15 MB a 2,000-DPU stack's programs each read.
   */
  loaded: LoadedStack;
  /** The policy report of the stack, as the command made it (`policies/check.ts`'s `StackReport`). */
  checked: unknown;
}

/** The environment variable that names the gate: `<pid of the command>:<file>`. */
export const LOADED_STACK_GATE_ENV = "SMARTFLEET_LOADED_STACK_GATE";

/** The environment that hands the stack written into `dir` to a program, before or after it is written. */
export function loadedStackEnv(dir: string): Record<string, string> {
  return { [LOADED_STACK_ENV]: path.join(dir, "loaded-stack.json") };
}

/** Writes `loaded` and its policy report (`checked`) into `dir`; returns the environment that hands them to a program. */
export function writeLoadedStack(dir: string, loaded: LoadedStack, checked: unknown): Record<string, string> {
  const env = loadedStackEnv(dir);
  const handoff: Handoff = { format: 2, files: [loaded.file, loaded.inventoryFile].map(stamp), loaded: { ...loaded, sources: {} }, checked };
  fs.writeFileSync(env[LOADED_STACK_ENV], JSON.stringify(handoff), { mode: 0o600 });
  return env;
}

/** The command's side of a gate in `dir`: the environment for the programs, and the verdict to write once. */
export interface Gate {
  env: Record<string, string>;
  /** Lets the programs take the handed-over stack. */
  go(): void;
  /** Stops the programs before they declare anything; `why` is their error. */
  stop(why: string): void;
}

/** A gate in `dir` for programs started before the stack is loaded; the first verdict counts. */
export function handoffGate(dir: string): Gate {
  const file = path.join(dir, "gate");
  let decided = false;
  const decide = (verdict: string) => {
    if (decided) return;
    decided = true;
    // Written whole, then renamed: a program never reads half a verdict.
    fs.writeFileSync(`${file}.tmp`, verdict, { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  };
  return { env: { [LOADED_STACK_GATE_ENV]: `${process.pid}:${file}` }, go: () => decide("go"), stop: (why) => decide(`stop\n${why}`) };
}

/** How often a waiting program looks at the gate: a small part of the 1.5 s it saves. */
const GATE_POLL_MS = 20;

/**
 * In a program: returns at once without a gate, else blocks until the command says go.
 * Throws when it says stop, or when the command is gone without a verdict (killed), so a
 * program started early never declares a stack nobody checked. Blocking is fine here: the
 * program has nothing else to do before it declares.
 */
export function awaitGate(env: NodeJS.ProcessEnv = process.env): void {
  const value = env[LOADED_STACK_GATE_ENV];
  if (!value) return;
  const colon = value.indexOf(":");
  const pid = Number(value.slice(0, colon));
  const file = value.slice(colon + 1);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    const verdict = readIfThere(file);
    if (verdict === "go") return;
    if (verdict !== undefined) throw new Error(verdict.replace(/^stop\n/, ""));
    if (!isAlive(pid)) throw new Error(`the smartfleet command (pid ${pid}) that started this run ended without loading the stack`);
    Atomics.wait(nap, 0, 0, GATE_POLL_MS);
  }
}

function readIfThere(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The handed-over stack when it is `stackFile`'s and its files are unchanged; undefined
 * (load and check the files) otherwise, or when nothing was handed over.
 */
export function handedOverStack(stackFile: string, env: NodeJS.ProcessEnv = process.env): HandedOver | undefined {
  const file = env[LOADED_STACK_ENV];
  if (!file) return undefined;
  let handoff: Handoff;
  try {
    handoff = JSON.parse(fs.readFileSync(file, "utf8")) as Handoff;
  } catch {
    return undefined;
  }
  if (handoff.format !== 2 || handoff.loaded?.file !== path.resolve(stackFile)) return undefined;
  const unchanged = handoff.files.every((was) => {
    try {
      const now = stamp(was.file);
      return now.mtimeMs === was.mtimeMs && now.size === was.size;
    } catch {
      return false;
    }
  });
  return unchanged ? { loaded: handoff.loaded, checked: handoff.checked } : undefined;
}

function stamp(file: string): { file: string; mtimeMs: number; size: number } {
  const st = fs.statSync(file);
  return { file, mtimeMs: st.mtimeMs, size: st.size };
}
