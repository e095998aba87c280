/**
 * The stack file of an operation, loaded and checked on a worker thread while the command
 * selects the stack and reads its configuration. Both take seconds at 2,000 DPUs (parsing
 * 2.3 MB of YAML with every value's position; three or more `pulumi` runs) and neither
 * needs the other, so on two cores they overlap instead of adding up.
 *
 * For a sharded stack the thread also checks the policy rules and writes the loaded stack
 * and the report for the shards' programs (`model/loaded-stack-handoff.ts`), so the model
 * never crosses to this thread (what comes back is the shard layout) and no program checks
 * the whole stack again.
 */
import * as path from "node:path";
import { loadStackSync } from "../../model/load";
import { writeLoadedStack } from "../../model/loaded-stack-handoff";
import { shardLayout, type ShardLayout } from "../../model/shards";
import { checkStack } from "../../policies/check";
import { offThread } from "../worker-thread";

/** What an operation needs of its stack file. */
export interface PreparedStack {
  /** The stack's `metadata.name`: the rollout store its providers and `recover` use. */
  rollout: string;
  /** The shard layout, when the stack declares `shards:`. */
  layout?: ShardLayout;
  /** The environment that hands the loaded stack to the shards' programs (sharded stacks only). */
  handoff?: Record<string, string>;
}

/** Loads `file` on this thread (what the worker runs too); throws `InputError` for an invalid stack. */
export function prepareStack(file: string, handoffDir: string): PreparedStack {
  const loaded = loadStackSync(file);
  const layout = shardLayout(loaded);
  const rollout = loaded.stack.metadata.name;
  return layout ? { rollout, layout, handoff: writeLoadedStack(handoffDir, loaded, checkStack(loaded)) } : { rollout };
}

/**
 * `prepareStack` on a worker thread (`../worker-thread.ts`). A stack that fails to load is
 * loaded again here, so the caller gets the loader's own error (`InputError` with every problem).
 */
export async function prepareStackOffThread(file: string, handoffDir: string): Promise<PreparedStack> {
  return offThread(path.join(__dirname, "load-stack-worker.js"), { file, handoffDir }, () => prepareStack(file, handoffDir));
}
