/**
 * `smartfleet up|preview|refresh|destroy STACKFILE [--stack NAME] [--cwd DIR] [--parallel N]`:
 * the everyday front door to Pulumi, through the Automation API, on one stack.
 *
 * 1. Loads STACKFILE (an invalid one stops here, exit 2, every problem listed) and selects
 *    the stack (default: the file's name without `.yaml`), whose program must load that
 *    same file (`smartfleet:stackFile`, default `stacks/<stack>.yaml`).
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
 * The four commands share this module; `main.ts` takes each from `commands`.
 */
import * as path from "node:path";
import { defineCommand, EXIT, parseCommand, usageError } from "../args";
import { loadStackSync } from "../../model/load";
import { InputError } from "../../schemas/diagnostics";
import { projectRoot } from "../../providers/common/settings";
import { formatReport, recoverStack } from "./recover";
import { backendOf, type Backend } from "../stack-ops/backend";
import { configuredStackFile, isFile, openStack, runOperation, StackSelectError, type Operation, type Outcome } from "../stack-ops/operate";

const SUMMARIES: Record<Operation, string> = {
  up: "apply a stack file to the fleet (pulumi up through the Automation API), one line per resource event",
  preview: "show what up would change, one line per planned change",
  refresh: "read the fleet back into the stack's state, one line per resource found changed",
  destroy: "release every resource of a stack, one line per resource event",
};

function specOf(operation: Operation) {
  return defineCommand({
    name: `smartfleet ${operation}`,
    summary: SUMMARIES[operation],
    positionals: { name: "STACKFILE", description: "the stack definition (e.g. stacks/lab.yaml)", min: 1, max: 1 },
    options: {
      stack: { type: "string", valueName: "NAME", description: "the Pulumi stack (default: the stack file's name without .yaml)" },
      cwd: { type: "string", valueName: "DIR", description: "the Pulumi project directory (default: the one holding the working directory)" },
      parallel: { type: "number", integer: true, min: 1, valueName: "N", description: "Pulumi's parallel resource operations (give up at least as many as DPUs a change touches)" },
    },
  });
}

/** Runs one operation from its command line; resolves to the exit code. */
async function runCommand(operation: Operation, args: string[]): Promise<number> {
  const spec = specOf(operation);
  const parsed = parseCommand(spec, args);
  if (typeof parsed === "number") return parsed;
  const prefix = `smartfleet ${operation}`;
  const projectDir = projectRoot(path.resolve(parsed.values.cwd ?? process.cwd()));
  if (!isFile(path.join(projectDir, "Pulumi.yaml"))) return usageError(spec, `no Pulumi.yaml in ${projectDir} or above: run in the project or pass --cwd`);
  const stackFile = path.resolve(parsed.positionals[0]);
  if (!isFile(stackFile)) return usageError(spec, `no stack file ${parsed.positionals[0]}`);
  try {
    loadStackSync(stackFile);
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    console.error(`${prefix}: ${stackFile} is invalid:\n${error.message}`);
    return EXIT.usage;
  }
  const stackName = parsed.values.stack ?? path.basename(stackFile).replace(/\.ya?ml$/, "");
  const backend = backendOf(projectDir);

  let stack;
  try {
    stack = await openStack(projectDir, stackName, backend);
  } catch (error) {
    if (!(error instanceof StackSelectError)) throw error;
    console.error(`${prefix}: ${error.message}`);
    return EXIT.usage;
  }
  const programFile = await configuredStackFile(stack, projectDir);
  if (programFile !== stackFile) {
    console.error(`${prefix}: stack ${stackName} runs ${path.relative(projectDir, programFile)} (smartfleet:stackFile), not ${path.relative(projectDir, stackFile)}: pass the stack's own file, or \`pulumi config set smartfleet:stackFile ${path.relative(projectDir, stackFile)} --stack ${stackName}\``);
    return EXIT.usage;
  }
  if (backend.kind === "file" && operation !== "preview" && !(await clearStaleLock(prefix, stackName, projectDir))) return EXIT.findings;

  const outcome = await runOperation(stack, operation, { parallel: parsed.values.parallel, backend, emit: (line) => console.log(line) });
  return report(prefix, outcome, backend);
}

/** recover's check on a file backend; false when a live update holds the stack. */
async function clearStaleLock(prefix: string, stackName: string, projectDir: string): Promise<boolean> {
  const found = await recoverStack({ stack: stackName, cwd: projectDir });
  if (found.problems.length) {
    console.error(`${prefix}: ${formatReport(found)}`);
    return false;
  }
  if (found.locksRemoved.length || found.pendingCleared.length) console.error(`${prefix}: before starting, ${formatReport(found)}`);
  return true;
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
