/**
 * The preview half of `smartfleet plan`: runs `pulumi preview` through the Automation API
 * (nothing is changed and no state is written; with `refresh`, the providers first read
 * each port once, as `pulumi refresh` does) and turns the engine's step events into one
 * `PreviewStep` per resource: its step and its changed properties with the state's value
 * and the wanted one.
 */
import { isDeepStrictEqual } from "node:util";
import type { EngineEvent, OpType, Stack, StepEventMetadata } from "@pulumi/pulumi/automation";
import type { StepKind } from "../../model/disruption";
import type { PreviewStep } from "../../policies/plan/plan";

/** What each engine op means for the plan; ops not listed (refresh, read, discard) are not steps. */
const STEP_OF: Partial<Record<OpType, StepKind>> = {
  same: "same",
  create: "create",
  update: "update",
  delete: "delete",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  import: "create",
};
const RANK: Record<StepKind, number> = { same: 0, create: 1, update: 1, delete: 1, replace: 2 };

/** The resource name of a URN: its last `::` part. */
export function nameOfUrn(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Folds step events into one step per resource (a replacement's three events into one `replace`). */
export class StepCollector {
  private readonly steps = new Map<string, PreviewStep>();

  /** Feeds one engine event. */
  add(event: EngineEvent): void {
    const meta = event.resourcePreEvent?.metadata;
    if (meta) this.addStep(meta);
  }

  /** Feeds one step's metadata. */
  addStep(meta: StepEventMetadata): void {
    const step = STEP_OF[meta.op];
    if (!step || meta.type.startsWith("pulumi:")) return;
    const name = nameOfUrn(meta.urn);
    const held = this.steps.get(name);
    if (held && RANK[held.step] > RANK[step]) return;
    const olds = meta.old?.outputs ?? meta.old?.inputs;
    const keys = [...(meta.diffs ?? []), ...Object.keys(meta.detailedDiff ?? {}).map((k) => k.split(/[.[]/)[0]), ...changedKeys(meta)];
    const changes =
      step === "same" || step === "delete"
        ? []
        : [...new Set(keys)].map((property) => ({
            property,
            ...(olds && property in olds ? { from: olds[property] } : {}),
            to: meta.new?.inputs?.[property],
          }));
    const merged = held && held.step === step ? [...held.changes, ...changes.filter((c) => !held.changes.some((h) => h.property === c.property))] : changes;
    this.steps.set(name, { name, step, changes: merged, ...(olds ? { olds } : held?.olds ? { olds: held.olds } : {}) });
  }

  /** Every resource's step. */
  result(): PreviewStep[] {
    return [...this.steps.values()];
  }
}

/** Engine-internal and context properties, never compared (as the providers' diff skips them). */
const NOT_COMPARED = new Set(["__provider", "rollout"]);

/**
 * The input properties whose wanted value differs from the refreshed state's: a dynamic
 * provider's diff says only whether something changes, so the engine's `diffs` is empty
 * for them and the keys are found here the way the providers' diff finds them (new inputs
 * against old outputs, which carry the live values under the input names).
 */
export function changedKeys(meta: Pick<StepEventMetadata, "old" | "new">): string[] {
  const news = meta.new?.inputs;
  const oldInputs = meta.old?.inputs;
  if (!news || !oldInputs) return [];
  const olds = { ...oldInputs, ...(meta.old?.outputs ?? {}) };
  const keys = new Set([...Object.keys(news), ...Object.keys(oldInputs)].filter((k) => !NOT_COMPARED.has(k)));
  return [...keys].filter((k) => !isDeepStrictEqual(news[k], olds[k]));
}

/** Runs the preview (with `refresh`, after a refresh of every resource) and collects the steps. */
export async function previewSteps(stack: Stack, opts: { refresh: boolean; parallel?: number; signal?: AbortSignal }): Promise<PreviewStep[]> {
  const collector = new StepCollector();
  await stack.preview({ refresh: opts.refresh, parallel: opts.parallel ?? 32, signal: opts.signal, onEvent: (e) => collector.add(e) });
  return collector.result();
}

/** The engine's error lines from a failed preview's output, without the noise around them. */
export function previewErrors(message: string): string[] {
  const lines = message.split("\n").map((l) => l.trim());
  const errors = lines.filter((l) => /\berror:/.test(l)).map((l) => l.replace(/^.*?\berror:\s*/, ""));
  return [...new Set(errors.filter((l) => l !== "" && !/^preview failed$/i.test(l) && !/update failed/i.test(l)))];
}
