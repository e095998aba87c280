/**
 * A sharded stack's operation: every part (`model/shards.ts`) is its own Pulumi stack
 * `<stack>.<part>`, created from the base stack `<stack>` when missing (none is selected:
 * `named-stack.ts`) and given the base's configuration (endpoints, password, stack file)
 * plus `smartfleet:shard` whenever the base's settings file changed after the part's, so a
 * change of the base's configuration reaches every shard.
 *
 * Order ({@link runParts}): the parts run concurrently, up to `concurrency` at once. The
 * cross-shard stack (pairs and shares that span shards) runs once the shards it has sides in
 * (`crossSpans`) have succeeded, since both sides must exist — and for destroy, before those
 * shards take a side away. The other shards never wait for it, and the shards it waits
 * for go first, so it runs while the rest do instead of alone at the end. One progress line
 * per part when it starts and when it ends (plus a line per failed resource), and a
 * summary table at the end.
 */
import * as fs from "node:fs";
import type { PulumiCommand, Stack } from "@pulumi/pulumi/automation";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { handoffGate, loadedStackEnv } from "../../model/loaded-stack-handoff";
import { CROSS_SHARD, namedParts } from "../../model/shards";
import type { Backend } from "./backend";
import { ensureStack, namedStack } from "./named-stack";
import { pulumiCommand, runOperation, type Operation, type Outcome } from "./operate";
import { readStackSettings, stackSettingsFile } from "./settings-file";

/** One part's result in the summary. */
export interface PartResult {
  part: string;
  /** `skipped`: not run because a shard it needs failed. */
  status: "ok" | "failed" | "locked" | "backend" | "skipped";
  outcome?: Outcome;
  /** Why it was skipped or failed. */
  note?: string;
}

/** What a sharded run needs. */
export interface ShardRun {
  projectDir: string;
  /** The base stack, whose configuration the parts take (read only for a part whose copy is stale). */
  base: Pick<Stack, "name" | "getAllConfig">;
  /** The parts to run (the shards chosen, and CROSS_SHARD when it runs). */
  parts: string[];
  /** The shards the cross-shard part has sides in (the layout's `crossSpans`). */
  crossSpans: string[];
  operation: Operation;
  concurrency: number;
  parallel?: number;
  backend: Backend;
  emit: (line: string) => void;
  /** Environment for the parts' programs (the loaded stack handed over). */
  env?: Record<string, string>;
  /** The `pulumi` to run (`pulumiCommand()`), shared with whoever opened the base stack. */
  pulumiCommand?: Promise<PulumiCommand>;
  /** Started by {@link previewEarly}, before the stack file was loaded: each part's first line says so. */
  early?: boolean;
  /** Run before a part's operation (recover's check on a file backend); a string stops the part with that note. */
  before?: (stackName: string) => Promise<string | undefined>;
}

/** Runs the operation over the parts in order; resolves to one result per part. */
export async function runShards(run: ShardRun): Promise<PartResult[]> {
  const t0 = Date.now();
  const clock = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`;
  const width = Math.max(...run.parts.map((p) => p.length), 5);
  let config: ReturnType<Stack["getAllConfig"]> | undefined;
  const command = run.pulumiCommand ?? pulumiCommand();
  // Each part awaits it and reports a failure as its own; none may go unhandled meanwhile.
  command.catch(() => undefined);
  const one = async (part: string): Promise<PartResult> => {
    const name = `${run.base.name}.${part}`;
    run.emit(`${clock()} ${part.padEnd(width)} ${run.operation} started ${run.early ? "while the stack file loads " : ""}(stack ${name})`);
    let stack: Stack;
    let workspace: LocalWorkspace;
    // A part whose settings are current was run before: its stack is taken to exist, and
    // made only if the operation says it does not (`operateOnPart`).
    const current = configIsCurrent(run.projectDir, run.base.name, name, part);
    try {
      workspace = await LocalWorkspace.create({ workDir: run.projectDir, envVars: run.env, pulumiCommand: await command });
      if (!current) await ensureStack(workspace, name);
      stack = await namedStack(workspace, name);
      if (!current) {
        config ??= run.base.getAllConfig();
        await stack.setAllConfig({ ...(await config), "smartfleet:shard": { value: part } });
      }
    } catch (error) {
      const note = `cannot prepare stack ${name}: ${String((error as Error).message).split("\n").find((l) => l.trim()) ?? "unknown error"}`;
      run.emit(`${clock()} ${part.padEnd(width)} failed: ${note}`);
      return { part, status: "failed", note };
    }
    const stop = await run.before?.(name);
    if (stop) {
      run.emit(`${clock()} ${part.padEnd(width)} not started: ${stop}`);
      return { part, status: "locked", note: stop };
    }
    const operate = () =>
      runOperation(stack, run.operation, {
        parallel: run.parallel,
        backend: run.backend,
        emit: (line) => {
          if (/^\[\s*[\d.]+s\] failed /.test(line)) run.emit(`${clock()} ${part.padEnd(width)} ${line.replace(/^\[\s*[\d.]+s\] /, "")}`);
        },
      });
    const outcome = await operateOnPart(operate, current ? () => ensureStack(workspace, name) : undefined);
    const counts = `${outcome.changed} ${run.operation === "preview" ? "to change" : "changed"}, ${outcome.unchanged} unchanged${outcome.failed ? `, ${outcome.failed} failed` : ""}`;
    if (outcome.ok) {
      run.emit(`${clock()} ${part.padEnd(width)} ${run.operation} done in ${outcome.seconds.toFixed(1)}s: ${counts}`);
      return { part, status: "ok", outcome };
    }
    const failure = outcome.failure as NonNullable<Outcome["failure"]>;
    run.emit(`${clock()} ${part.padEnd(width)} ${run.operation} failed after ${outcome.seconds.toFixed(1)}s (${counts}): ${failure.message}`);
    return { part, status: failure.kind === "lock" ? "locked" : failure.kind === "backend" ? "backend" : "failed", outcome, note: failure.message };
  };

  return runParts(run, one);
}

/**
 * Runs `operate`; when it fails because the backend has no such stack and `ensure` is given
 * (the part's settings said it was run before), makes the stack and runs it once more. A
 * part run before is taken to exist: checking first would cost a `pulumi stack init` per
 * part (0.3–0.5 s, in front of a one-shard preview), for a stack that is there but after a
 * `pulumi stack rm --preserve-config` or a backend switched under the same settings.
 */
export async function operateOnPart(operate: () => Promise<Outcome>, ensure?: () => Promise<void>): Promise<Outcome> {
  const first = await operate();
  if (first.ok || !ensure || !isMissingStack(first)) return first;
  await ensure();
  return operate();
}

/** An operation refused because the backend has no such stack (Pulumi's `no stack named '…' found`). */
export function isMissingStack(outcome: Outcome): boolean {
  return /no stack named '[^']*' found/.test(outcome.failure?.message ?? "");
}

/**
 * Runs `one` over `parts`, at most `concurrency` at once, each part after the parts it waits
 * for: the cross-shard part after the shards of `crossSpans` (destroy: those shards after
 * it). A part whose wait ended in anything but `ok` is skipped with a note saying why,
 * except in a preview, which applies nothing. Results: the cross-shard part first for
 * destroy, last otherwise, the shards in the order given.
 */
export async function runParts(
  { parts, crossSpans, operation, concurrency }: Pick<ShardRun, "parts" | "crossSpans" | "operation" | "concurrency">,
  one: (part: string) => Promise<PartResult>,
): Promise<PartResult[]> {
  const cross = parts.includes(CROSS_SHARD) ? [CROSS_SHARD] : [];
  const shards = parts.filter((p) => p !== CROSS_SHARD);
  const spanned = cross.length ? shards.filter((s) => crossSpans.includes(s)) : [];
  const others = shards.filter((s) => !spanned.includes(s));
  const crossFirst = operation === "destroy";
  const waitsFor = (part: string): string[] => {
    if (crossFirst) return spanned.includes(part) ? cross : [];
    return part === CROSS_SHARD ? spanned : [];
  };
  // What another part waits for goes first; a waiting part goes next once it may start.
  const order = crossFirst ? [...cross, ...spanned, ...others] : [...spanned, ...cross, ...others];

  const results = new Map<string, PartResult>();
  const started = new Set<string>();
  let finished = () => undefined as void;
  let anotherFinished = new Promise<void>((resolve) => (finished = resolve));
  const start = async (part: string): Promise<PartResult> => {
    const notOk = waitsFor(part).filter((p) => results.get(p)?.status !== "ok");
    if (!notOk.length || operation === "preview") return one(part);
    const note = crossFirst ? `${CROSS_SHARD} was not destroyed: its pairs and shares still use this shard's DPUs` : `needs ${spanned.join(", ")}; ${notOk.join(", ")} did not ${operation}`;
    return { part, status: "skipped", note };
  };
  const worker = async (): Promise<void> => {
    while (started.size < order.length) {
      const next = order.find((p) => !started.has(p) && waitsFor(p).every((q) => results.has(q)));
      if (next === undefined) {
        await anotherFinished;
        continue;
      }
      started.add(next);
      results.set(next, await start(next));
      const wake = finished;
      anotherFinished = new Promise<void>((resolve) => (finished = resolve));
      wake();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, order.length) }, worker));
  return (crossFirst ? [...cross, ...shards] : [...shards, ...cross]).map((p) => results.get(p) as PartResult);
}

/**
 * Whether a part's settings file already holds the base's configuration: it names the part
 * and was written after the base's file last changed. Copying costs two `pulumi` runs (a
 * decrypting read of the base, a write), seconds a one-shard preview need not pay.
 */
export function configIsCurrent(projectDir: string, base: string, stackName: string, part: string): boolean {
  try {
    const [mine, theirs] = [fs.statSync(stackSettingsFile(projectDir, stackName)), fs.statSync(stackSettingsFile(projectDir, base))];
    return mine.mtimeMs >= theirs.mtimeMs && readStackSettings(projectDir, stackName)?.config?.["smartfleet:shard"] === part;
  } catch {
    return false;
  }
}

/** What an early preview needs: a sharded run's settings, without the layout the stack file will give. */
export type EarlyPreview = Omit<ShardRun, "parts" | "crossSpans" | "operation" | "env" | "before" | "early"> & {
  /** `--shard` as given. */
  shardOption: string | undefined;
  /** Where the command hands the loaded stack over. */
  handoffDir: string;
};

/** A preview of named parts started before the stack file is loaded ({@link previewEarly}). */
export interface EarlyRun {
  parts: string[];
  /** Lets the parts' programs declare, shows their lines from now on; their results in `order`. */
  go(order: string[]): Promise<PartResult[]>;
  /** Stops the parts before their programs declare anything (no-op after go) and waits for them; their lines are dropped. */
  stop(): Promise<void>;
}

/**
 * `smartfleet preview STACKFILE --shard S,...` starts the named parts' previews while the
 * stack file still loads, when every named part was run before (its settings are current,
 * so nothing needs the base's configuration) and all start at once (no more than
 * `concurrency`). A name that is no part has no such settings and waits for the layout's
 * verdict. Each engine opens its state and starts the program meanwhile, about a
 * second that a one-shard preview at 2,000 DPUs otherwise waits for after the load (its
 * CPU lands on the core the parse leaves free). The programs wait at the handover's gate
 * (`model/loaded-stack-handoff.ts`): the command says go only once the file is valid, names
 * these parts and is the stack's own; otherwise it says stop, and its own error is all
 * the user sees. A preview only: it changes nothing, so a part stopped this way loses
 * nothing, and no lock or recovery check comes before it.
 */
export function previewEarly(run: EarlyPreview): EarlyRun | undefined {
  const parts = namedParts(run.shardOption);
  const runBefore = (part: string) => configIsCurrent(run.projectDir, run.base.name, `${run.base.name}.${part}`, part);
  if (!parts.length || parts.length > run.concurrency || !parts.every(runBefore)) return undefined;
  const gate = handoffGate(run.handoffDir);
  const held: string[] = [];
  let emit: (line: string) => void = (line) => void held.push(line);
  const env = { ...loadedStackEnv(run.handoffDir), ...gate.env };
  const results = runShards({ ...run, parts, crossSpans: [], operation: "preview", env, early: true, emit: (line) => emit(line) });
  return {
    parts,
    async go(order) {
      gate.go();
      held.splice(0).forEach((line) => run.emit(line));
      emit = run.emit;
      const done = await results;
      return order.map((part) => done.find((r) => r.part === part) as PartResult);
    },
    async stop() {
      gate.stop("the smartfleet command did not go on with this preview");
      await results.catch(() => undefined);
    },
  };
}

/** The summary table: one row per part. */
export function summaryTable(results: PartResult[], operation: Operation): string {
  const rows = results.map((r) => [
    r.part,
    r.status,
    r.outcome ? String(r.outcome.changed) : "-",
    r.outcome ? String(r.outcome.unchanged) : "-",
    r.outcome ? String(r.outcome.failed) : "-",
    r.outcome ? `${r.outcome.seconds.toFixed(1)}s` : "-",
    r.status === "ok" ? "" : (r.note ?? ""),
  ]);
  const header = ["shard", "result", operation === "preview" ? "to change" : "changed", "unchanged", "failed", "time", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** The exit code of the worst part: 2 for a backend that cannot be used, 1 for a failure, lock or skip, else 0. */
export function worstExit(results: PartResult[]): number {
  if (results.some((r) => r.status === "backend")) return 2;
  return results.some((r) => r.status !== "ok") ? 1 : 0;
}
