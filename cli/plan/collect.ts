/**
 * The preview half of `smartfleet plan`: runs `pulumi preview --json` of a stack in an
 * Automation API workspace (nothing is changed and no state is written; with `refresh`, the
 * providers first read each port once, as `pulumi refresh` does) and turns its steps into one
 * `PreviewStep` per resource: its step and its changed properties with the state's value
 * and the wanted one.
 */
import { isDeepStrictEqual } from "node:util";
import type { OpType, Stack, StepEventMetadata } from "@pulumi/pulumi/automation";
import type { StepKind } from "../../model/disruption";
import type { PreviewStep } from "../../policies/plan/plan";
import { runInWorkspace } from "../stack-ops/named-stack";

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

/** Folds steps into one step per resource (a replacement's three steps into one `replace`). */
export class StepCollector {
  private readonly steps = new Map<string, PreviewStep>();

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

  /** Every resource's step, by name: the engine finishes steps in no fixed order, a plan lists them in one. */
  result(): PreviewStep[] {
    return [...this.steps.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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

/** One step of `pulumi preview --json`'s digest (Pulumi's `display.PreviewStep`). */
export interface DigestStep {
  op: OpType;
  urn: string;
  oldState?: StepEventMetadata["old"] & { type?: string };
  newState?: StepEventMetadata["new"] & { type?: string };
  diffReasons?: string[];
  detailedDiff?: StepEventMetadata["detailedDiff"] | null;
}

/** What `pulumi preview --json` prints: every step (sames and a replacement's parts only when asked) and the diagnostics. */
export interface PreviewDigest {
  steps?: DigestStep[];
  diagnostics?: Array<{ message?: string; severity?: string }>;
}

/** The step metadata of one digest step, as the engine's step events carry it. */
export function metadataOfDigestStep(step: DigestStep): StepEventMetadata {
  const type = step.newState?.type ?? step.oldState?.type ?? step.urn.split("::")[2] ?? "";
  return {
    op: step.op,
    urn: step.urn,
    type,
    provider: "",
    ...(step.oldState ? { old: step.oldState } : {}),
    ...(step.newState ? { new: step.newState } : {}),
    ...(step.diffReasons ? { diffs: step.diffReasons } : {}),
    ...(step.detailedDiff ? { detailedDiff: step.detailedDiff } : {}),
  };
}

/** The digest's error diagnostics as the `error: …` lines of Pulumi's text output (a program's stack trace keeps its colours in JSON; they go). */
export function digestErrors(digest: PreviewDigest): string[] {
  return (digest.diagnostics ?? [])
    .filter((d) => d.severity === "error" && d.message)
    .map((d) => `error: ${(d.message as string).replace(/\u001b\[[0-9;]*m/g, "").replace(/^error:\s*/, "").trim()}`);
}

/**
 * Runs the preview (with `refresh`, after a refresh of every resource) and collects the
 * steps. Not `stack.preview()`: the Automation API streams every step event, each with
 * the resource's old and new state, to this process over gRPC; at 500 DPUs decoding them
 * took 2–3 s of CPU beside the engine on two cores. `--json` hands the same steps over
 * once, at the end, as one document.
 *
 * `sames`: list the unchanged resources too, with their state (`--show-sames`). Only for a
 * caller that reads nothing else about them: at 500 DPUs they are 48 MB of the digest,
 * which the engine writes and this process parses (2–3 s beside a 20 s preview). Without
 * them, {@link withUnchanged} adds their `same` steps.
 */
export async function previewSteps(stack: Pick<Stack, "name" | "workspace">, opts: { refresh: boolean; sames: boolean; parallel?: number; signal?: AbortSignal }): Promise<PreviewStep[]> {
  const args = ["preview", "--json", "--show-replacement-steps", "--parallel", String(opts.parallel ?? 32), ...(opts.sames ? ["--show-sames"] : []), ...(opts.refresh ? ["--refresh"] : []), "--stack", stack.name];
  const { code, stdout, stderr } = await runInWorkspace(stack.workspace, args, opts.signal);
  let digest: PreviewDigest | undefined;
  try {
    digest = JSON.parse(stdout) as PreviewDigest;
  } catch {
    digest = undefined;
  }
  if (code !== 0 || !digest) {
    throw new Error([`pulumi preview exited ${code}`, ...(digest ? digestErrors(digest) : []), stderr].join("\n"));
  }
  const collector = new StepCollector();
  for (const step of digest.steps ?? []) collector.addStep(metadataOfDigestStep(step));
  return collector.result();
}

/**
 * `steps` of a preview without `--show-sames`, with a `same` step (no changes, no state) for
 * each of `declared` it did not list: a declared resource the preview leaves out is in
 * state and unchanged (creates, updates, replacements and deletes are always listed).
 */
export function withUnchanged(steps: PreviewStep[], declared: Iterable<string>): PreviewStep[] {
  const listed = new Set(steps.map((s) => s.name));
  const unchanged = [...declared].filter((name) => !listed.has(name)).map((name): PreviewStep => ({ name, step: "same", changes: [] }));
  return [...steps, ...unchanged].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The engine's error lines from a failed preview's output, without the noise around them. */
export function previewErrors(message: string): string[] {
  const lines = message.split("\n").map((l) => l.trim());
  const errors = lines.filter((l) => /\berror:/.test(l)).map((l) => l.replace(/^.*?\berror:\s*/, ""));
  return [...new Set(errors.filter((l) => l !== "" && !/^preview failed$/i.test(l) && !/update failed/i.test(l)))];
}
