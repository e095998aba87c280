/**
 * `smartfleet up|preview|refresh|destroy STACKFILE [--stack NAME] [--cwd DIR] [--parallel N] [--shard S,...] [--concurrency N]`:
 * the everyday front door to Pulumi, through the Automation API, on one stack.
 *
 * 1. Loads STACKFILE (an invalid one stops here, exit 2, every problem listed) and selects
 *    the stack (default: the file's name without `.yaml`), whose program must load that
 *    same file (`smartfleet:stackFile`, default `stacks/<stack>.yaml`). The two overlap:
 *    the file is loaded on a worker thread (`cli/stack-ops/load-stack.ts`).
 * 2. On a file:// backend, runs `smartfleet recover`'s check first: a lock whose `pulumi` is
 *    gone from this host is removed and pending creates cleared (said on stderr); a live
 *    lock stops here. Other backends (postgres://) have no local process to judge: Pulumi's
 *    own lock check answers there.
 * 3. Runs the operation, one progress line per resource event (`cli/stack-ops/progress.ts`),
 *    and a closing line with the counts and time.
 *
 * Exit codes: 0 done; 1 the operation failed or the stack is locked by another update (the
 * message says which and what to do); 2 usage or input error (invalid stack file, no such
 * stack, a backend that refuses the login or does not answer).
 *
 * A stack file with `shards:` is run as its parts (`model/shards.ts`): the stacks
 * `<stack>.<shard>` concurrently (`--concurrency`, default this machine's cores; `--shard S,...` for some only),
 * then `<stack>.cross-shard` (first for destroy), created from the base stack `<stack>`'s
 * configuration; one progress line per part, a summary table, the worst part's exit code
 * (`cli/stack-ops/shards.ts`). A preview of named shards whose stacks exist starts while the
 * file loads, its programs waiting for it (`previewEarly`).
 *
 * The four commands share this module; `main.ts` takes each from `commands`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { defineCommand, EXIT, parseCommand, usageError } from "../args";
import { InputError } from "../../schemas/diagnostics";
import { projectRoot } from "../../providers/common/settings";
import { formatReport, recoverStack } from "./recover";
import { backendOf, type Backend } from "../stack-ops/backend";
// The modules driving Pulumi's Automation API are imported where used, once the stack file's
// worker has started: loading the API takes about 0.5 s of this thread, which the worker's
// parse (1.5 s at 2,000 DPUs) would otherwise wait for instead of running beside it.
import type { Operation, Outcome } from "../stack-ops/operate";
import type { EarlyRun } from "../stack-ops/shards";
import type { PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { prepareStackOffThread, type PreparedStack } from "../stack-ops/load-stack";
import { chosenParts, CROSS_SHARD } from "../../model/shards";

const SUMMARIES: Record<Operation, string> = {
  up: "apply a stack file to the fleet (pulumi up through the Automation API), one line per resource event",
  preview: "show what up would change, one line per planned change",
  refresh: "read the fleet back into the stack's state, one line per resource found changed",
  destroy: "release every resource of a stack, one line per resource event",
};

/**
 * Shards run at once unless `--concurrency` says otherwise: one per core. A shard's engine,
 * program and provider all run on this machine and keep it busy, so more shards than cores
 * only add switching between them: at 500 DPUs on 2 cores, 8 at once took 74–86 s, 4 took
 * 71 s, 2 took 62 s and 1 took 86 s (bench/README.md, "Shards at once").
 */
const DEFAULT_CONCURRENCY = Math.max(1, os.availableParallelism());

function specOf(operation: Operation) {
  return defineCommand({
    name: `smartfleet ${operation}`,
    summary: SUMMARIES[operation],
    positionals: { name: "STACKFILE", description: "the stack definition (e.g. stacks/lab.yaml)", min: 1, max: 1 },
    options: {
      stack: { type: "string", valueName: "NAME", description: "the Pulumi stack (default: the stack file's name without .yaml)" },
      cwd: { type: "string", valueName: "DIR", description: "the Pulumi project directory (default: the one holding the working directory)" },
      parallel: { type: "number", integer: true, min: 1, valueName: "N", description: "Pulumi's parallel resource operations per stack (give up at least as many as DPUs a change touches)" },
      shard: { type: "string", valueName: "S,...", description: `a sharded stack: act on these shards only (and ${CROSS_SHARD} when named)` },
      concurrency: { type: "number", integer: true, min: 1, default: DEFAULT_CONCURRENCY, valueName: "N", description: "a sharded stack: shards run at once (one per CPU core of this machine unless given)" },
    },
  });
}

/** Runs one operation from its command line; resolves to the exit code. */
async function runCommand(operation: Operation, args: string[]): Promise<number> {
  const spec = specOf(operation);
  const parsed = parseCommand(spec, args);
  if (typeof parsed === "number") return parsed;
  const projectDir = projectRoot(path.resolve(parsed.values.cwd ?? process.cwd()));
  if (!isFile(path.join(projectDir, "Pulumi.yaml"))) return usageError(spec, `no Pulumi.yaml in ${projectDir} or above: run in the project or pass --cwd`);
  const stackFile = path.resolve(parsed.positionals[0]);
  if (!isFile(stackFile)) return usageError(spec, `no stack file ${parsed.positionals[0]}`);
  const handoffDir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-shards-"));
  try {
    return await operate({ operation, spec, values: parsed.values, file: parsed.positionals[0], stackFile, projectDir, handoffDir });
  } finally {
    fs.rmSync(handoffDir, { recursive: true, force: true });
  }
}

/** What `operate` works from: the parsed command line, resolved. */
interface Invocation {
  operation: Operation;
  spec: ReturnType<typeof specOf>;
  values: { stack?: string; parallel?: number; shard?: string; concurrency: number };
  /** The stack file as given, and resolved. */
  file: string;
  stackFile: string;
  projectDir: string;
  /** Where a sharded stack's loaded model is written for the shards' programs. */
  handoffDir: string;
}

/**
 * Loads the stack file (on a worker thread) while `pulumi` opens the stack and reads its
 * configuration; an invalid file is reported first, as if it had been loaded alone.
 */
async function operate({ operation, spec, values, file, stackFile, projectDir, handoffDir }: Invocation): Promise<number> {
  const prefix = `smartfleet ${operation}`;
  const stackName = values.stack ?? path.basename(stackFile).replace(/\.ya?ml$/, "");
  const backend = backendOf(projectDir);
  const preparing = prepareStackOffThread(stackFile, handoffDir);
  // Awaited below, after the Automation API loads; it may fail before that.
  preparing.catch(() => undefined);
  const { configuredStackFile, openStack, pulumiCommand } = await import("../stack-ops/operate");
  const command = pulumiCommand();
  const shardOps = values.shard ? await import("../stack-ops/shards") : undefined;
  const opening = openStack(projectDir, stackName, backend, command).then(async (stack) => ({ stack, programFile: await configuredStackFile(stack, projectDir) }));
  // Awaited only once the file is known to be valid; it may fail before that.
  opening.catch(() => undefined);
  const early =
    operation === "preview"
      ? shardOps?.previewEarly({
          projectDir,
          base: { name: stackName, getAllConfig: () => opening.then(({ stack }) => stack.getAllConfig()) },
          concurrency: values.concurrency,
          parallel: values.parallel,
          backend,
          emit: (line) => console.log(line),
          pulumiCommand: command,
          shardOption: values.shard,
          handoffDir,
        })
      : undefined;
  try {
    return await operateLoaded({ operation, spec, values, file, stackFile, projectDir, handoffDir }, { prefix, stackName, backend, preparing, opening, command, early });
  } finally {
    // Unless it was let go, an early preview is stopped before it declares anything.
    await early?.stop();
  }
}

/** What `operate` started before the stack file was loaded. */
interface Started {
  prefix: string;
  stackName: string;
  backend: Backend;
  preparing: Promise<PreparedStack>;
  opening: Promise<{ stack: Stack; programFile: string }>;
  command: Promise<PulumiCommand>;
  early?: EarlyRun;
}

/** The rest of `operate`, once the stack file is loaded: checks it, then runs the stack or its parts. */
async function operateLoaded({ operation, spec, values, file, stackFile, projectDir }: Invocation, { prefix, stackName, backend, preparing, opening, command, early }: Started): Promise<number> {
  const { runOperation, StackOpenError } = await import("../stack-ops/operate");
  let prepared: PreparedStack;
  try {
    prepared = await preparing;
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(`${prefix}: ${stackFile} is invalid:\n${error.message}`);
    return EXIT.usage;
  }
  const { layout } = prepared;
  const parts = layout ? chosenParts(layout, values.shard) : undefined;
  if (typeof parts === "string") return usageError(spec, parts);
  if (!layout && values.shard) return usageError(spec, `--shard: ${file} declares no shards`);

  let stack;
  let programFile: string;
  try {
    ({ stack, programFile } = await opening);
  } catch (error) {
    if (!(error instanceof StackOpenError)) throw error;
    console.error(`${prefix}: ${error.message}`);
    return EXIT.usage;
  }
  if (programFile !== stackFile) {
    console.error(`${prefix}: stack ${stackName} runs ${path.relative(projectDir, programFile)} (smartfleet:stackFile), not ${path.relative(projectDir, stackFile)}: pass the stack's own file, or \`pulumi config set smartfleet:stackFile ${path.relative(projectDir, stackFile)} --stack ${stackName}\``);
    return EXIT.usage;
  }
  if (parts) {
    const { runShards, summaryTable, worstExit } = await import("../stack-ops/shards");
    // An early preview runs the parts --shard named, which are these once the layout knows them all.
    const results = early
      ? await early.go(parts)
      : await runShards({
          projectDir,
          base: stack,
          parts,
          crossSpans: layout?.crossSpans ?? [],
          operation,
          concurrency: values.concurrency,
          parallel: values.parallel,
          backend,
          emit: (line) => console.log(line),
          env: prepared.handoff,
          pulumiCommand: command,
          before: backend.kind === "file" && operation !== "preview" ? (name) => staleLockNote(prefix, name, projectDir, prepared.rollout) : undefined,
        });
    console.log(summaryTable(results, operation));
    return worstExit(results);
  }
  if (backend.kind === "file" && operation !== "preview" && (await staleLockNote(prefix, stackName, projectDir, prepared.rollout))) return EXIT.findings;

  const outcome = await runOperation(stack, operation, { parallel: values.parallel, backend, emit: (line) => console.log(line) });
  return report(prefix, outcome, backend);
}

/** True when `file` is a regular file (not a directory, not missing). */
function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * recover's check on a file backend: undefined to go on, else why the stack cannot be run
 * now (the whole report on stderr). `rollout`: the loaded stack file's name, so the file is
 * not parsed again on this thread while other shards' events wait for it.
 */
async function staleLockNote(prefix: string, stackName: string, projectDir: string, rollout: string): Promise<string | undefined> {
  const found = await recoverStack({ stack: stackName, cwd: projectDir, rollout });
  if (found.problems.length) {
    console.error(`${prefix}: ${formatReport(found)}`);
    return found.problems.join("; ");
  }
  if (found.locksRemoved.length || found.pendingCleared.length) console.error(`${prefix}: before starting ${stackName}, ${formatReport(found)}`);
  return undefined;
}

/** The closing line (and the failure) of one stack; the exit code. */
function report(prefix: string, outcome: Outcome, backend: Backend): number {
  const counts = `${outcome.changed} ${outcome.operation === "preview" ? "to change" : "changed"}, ${outcome.unchanged} unchanged${outcome.failed ? `, ${outcome.failed} failed` : ""}`;
  if (outcome.ok) {
    console.log(`${outcome.operation} of ${outcome.stack} done in ${outcome.seconds.toFixed(1)}s: ${counts}`);
    return EXIT.ok;
  }
  const failure = outcome.failure as NonNullable<Outcome["failure"]>;
  for (const error of outcome.errors) console.error(`  error: ${error.split("\n").join("\n         ")}`);
  console.error(`${prefix}: ${outcome.operation} of ${outcome.stack} failed after ${outcome.seconds.toFixed(1)}s (${counts}): ${failure.message}`);
  return failure.kind === "backend" && backend.kind !== "file" ? EXIT.usage : EXIT.findings;
}

/** The four commands, for `main.ts`. */
export const commands: Record<Operation, { summary: string; run(args: string[]): Promise<number> }> = {
  up: { summary: SUMMARIES.up, run: (args) => runCommand("up", args) },
  preview: { summary: SUMMARIES.preview, run: (args) => runCommand("preview", args) },
  refresh: { summary: SUMMARIES.refresh, run: (args) => runCommand("refresh", args) },
  destroy: { summary: SUMMARIES.destroy, run: (args) => runCommand("destroy", args) },
};

/** `smartfleet up` itself (the module's default command). */
export const summary = SUMMARIES.up;
export const run = commands.up.run;
