/**
 * One Pulumi operation (up, preview, refresh, destroy) on one stack through the Automation
 * API: progress lines from the engine's events (`progress.ts`), and an outcome that says
 * what changed, how long it took and, on failure, why in one message. The unit a shard
 * runner schedules: it prints nothing itself, every line goes to `emit`.
 */
import * as path from "node:path";
import { LocalWorkspace, type ConfigMap, type Stack } from "@pulumi/pulumi/automation";
import { explainFailure, type Backend, type Explained } from "./backend";
import { namedStack, runInWorkspace } from "./named-stack";
import { Progress } from "./progress";
import { pulumiCommand } from "./pulumi-command";
import { plainConfigValue } from "./settings-file";

/** The operations of the front door. */
export const OPERATIONS = ["up", "preview", "refresh", "destroy"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** What one operation on one stack came to. */
export interface Outcome {
  stack: string;
  operation: Operation;
  ok: boolean;
  /** Steps that changed (or, for a preview, would change) something. */
  changed: number;
  unchanged: number;
  /** Resources whose step failed. */
  failed: number;
  seconds: number;
  /** Why it failed, when it did. */
  failure?: Explained;
  /** Error diagnostics of resources and the program. */
  errors: string[];
}

/** Options of one run. */
export interface RunOptions {
  /** Pulumi's parallel operations (`--parallel`). */
  parallel?: number;
  /** Receives every progress line. */
  emit: (line: string) => void;
  backend: Backend;
}

/** A stack that cannot be opened (missing, or its backend unusable), explained. */
export class StackOpenError extends Error {
  constructor(
    message: string,
    readonly kind: Explained["kind"],
  ) {
    super(message);
  }
}

/** The `pulumi` a command runs, shared by every workspace it opens (`pulumi-command.ts`). */
export { pulumiCommand };

/**
 * An existing stack of the project in `projectDir`, not made the user's selected stack
 * (`named-stack.ts`). Whether the backend has it is asked with `pulumi config --json`,
 * which needs no passphrase (secrets stay masked) and costs what `pulumi stack select` did.
 */
export async function openStack(projectDir: string, stackName: string, backend: Backend, command = pulumiCommand()): Promise<Stack> {
  try {
    const workspace = await LocalWorkspace.create({ workDir: projectDir, pulumiCommand: await command });
    const found = await runInWorkspace(workspace, ["config", "--json", "--stack", stackName]);
    if (found.code !== 0) throw new Error(found.stderr || found.stdout);
    return await namedStack(workspace, stackName);
  } catch (error) {
    const text = String((error as Error).message ?? error);
    const explained = explainFailure(text, stackName, backend);
    if (explained.kind === "backend") throw new StackOpenError(explained.message, "backend");
    if (/no stack named|stack .* not found/i.test(text)) {
      throw new StackOpenError(`no stack '${stackName}' in the backend: create it with \`pulumi stack init ${stackName}\` and set its configuration (smartfleet:stackFile, smartfleet:managementPassword, smartfleet:endpoints)`, "failed");
    }
    throw new StackOpenError(`cannot open stack '${stackName}': ${explained.message}`, explained.kind);
  }
}

/**
 * The stack file a stack's program loads: `smartfleet:stackFile`, else stacks/<stack>.yaml.
 * From the stack's settings file when it sets the value plainly; else from Pulumi
 * (`allConfig`: a caller that needs the whole configuration anyway passes its own read).
 */
export async function configuredStackFile(stack: Pick<Stack, "name" | "getAllConfig">, projectDir: string, allConfig: () => Promise<ConfigMap> = () => stack.getAllConfig()): Promise<string> {
  const configured = plainConfigValue(projectDir, stack.name, "smartfleet:stackFile") ?? (await allConfig())["smartfleet:stackFile"]?.value;
  return path.resolve(projectDir, configured ?? path.join("stacks", `${stack.name.split("/").pop()}.yaml`));
}

/**
 * After an operation the Automation API reads the stack's newest history entry, and after
 * `up` its outputs too: three more `pulumi` runs that each load the whole checkpoint (two
 * decrypting it), for results the outcome does not use. On a 250-DPU shard that is seconds
 * of CPU per shard, while the other shards still run. `stack` stops asking for them.
 */
function skipResultReads(stack: Stack): void {
  stack.info = async () => undefined;
  stack.outputs = async () => ({});
}

/** Runs `operation` on `stack`; never throws for a failed operation, the outcome says it. */
export async function runOperation(stack: Stack, operation: Operation, opts: RunOptions): Promise<Outcome> {
  skipResultReads(stack);
  const progress = new Progress(opts.emit);
  const common = { onEvent: (e: Parameters<Progress["onEvent"]>[0]) => progress.onEvent(e), color: "never" as const, parallel: opts.parallel };
  const t0 = Date.now();
  let failure: Explained | undefined;
  try {
    if (operation === "up") await stack.up(common);
    else if (operation === "preview") await stack.preview(common);
    else if (operation === "refresh") await stack.refresh(common);
    else await stack.destroy(common);
  } catch (error) {
    failure = explainFailure(String((error as Error).message ?? error), stack.name, opts.backend);
  }
  const { tally } = progress;
  if (failure?.kind === "failed" && tally.errors.length) failure = { kind: "failed", message: tally.errors[0] };
  return {
    stack: stack.name,
    operation,
    ok: failure === undefined,
    changed: progress.changed(),
    unchanged: progress.unchanged(),
    failed: tally.failed,
    seconds: (Date.now() - t0) / 1000,
    failure,
    errors: tally.errors,
  };
}

