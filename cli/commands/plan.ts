/**
 * `smartfleet plan --stack NAME`: what a `pulumi up` would do to the fleet, before
 * anything is touched. A preview (nothing changed, no state written) and, at the same
 * time, one snapshot read of every managed DPU's port for the properties that decide a
 * disruption (mode, host privilege, NIC firmware, DPU OS, host OS), which stand in for a
 * refresh of them: the engine's refresh of every resource costs more than the rest of the
 * plan at 500 DPUs. `--refresh` runs that refresh instead (exact for every property,
 * e.g. a pair's active side). Then per host: the operations with their disruption, the
 * rollout group and slot the budget gives, pair switch-overs and the estimated duration,
 * and the policy rules that need the live state (SF008 against the live mode, SF011
 * against the schedule). The pure half is `policies/plan/`; `cli/plan/` collects its input.
 *
 * `smartfleet plan STACKFILE [--shard S,...] [--concurrency N]` plans the stack named like
 * the file (or `--stack`). For a sharded file that is its parts' stacks `<stack>.<part>`
 * (`model/shards.ts`), up to N collected at once; their steps and live reads make one plan,
 * since the rollout budget is the file's, shared by its shards. A plan writes nothing, so a
 * part's stack must exist (`smartfleet preview STACKFILE` creates the missing ones).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation";
import { PLANNING_ENV } from "../../providers/common/kind";
import { readEndpointsFile, routesOf } from "../../model/endpoints";
import { resourceDeclarations, type ResourceDeclaration } from "../../model/declarations";
import { DISRUPTION_KINDS, OUTCOME_KINDS } from "../../model/disruption";
import { loadStackSync } from "../../model/load";
import { chosenParts, shardDeclarations, shardLayout, type ShardLayout } from "../../model/shards";
import { buildPlan, failOnHits, planExitCode, type PlanInput, type PreviewStep } from "../../policies/plan/plan";
import { renderPlan } from "../../policies/plan/render";
import { projectRoot } from "../../providers/common/settings";
import { InputError } from "../../schemas/diagnostics";
import { defineCommand, EXIT, parseCommand, usageError } from "../args";
import { previewErrors, previewSteps, withUnchanged } from "../plan/collect";
import { configuredStackFile } from "../stack-ops/operate";
import { PortUnreachableError, readLive, unreachablePorts, type LiveTarget } from "../plan/live";

/** One line for `smartfleet help`. */
export const summary = "show what an up would do to each host (operations, disruption, rollout order, duration) and check the policies that need the live state";

/** What `--fail-on` accepts. */
export const FAIL_ON_KINDS = [...DISRUPTION_KINDS, ...OUTCOME_KINDS] as const;

const SPEC = defineCommand({
  name: "smartfleet plan",
  summary: `${summary}. Exit 0: nothing to object to; 1: a policy error (e.g. SF008, SF011) or a kind named in --fail-on; 2: usage or input error (a missing stack, an unreadable stack file, an unreachable management port)`,
  positionals: { name: "STACKFILE", description: "the stack definition; without it --stack names the stack", min: 0, max: 1 },
  options: {
    stack: { type: "string", valueName: "NAME", description: "the Pulumi stack to plan (default: the stack file's name without .yaml)" },
    cwd: { type: "string", valueName: "DIR", description: "the Pulumi project directory (default: the working directory)" },
    format: { type: "string", short: "f", choices: ["text", "markdown", "json", "svg"], default: "text", description: "output format" },
    "fail-on": { type: "string", valueName: "KIND,...", multiple: true, description: `exit 1 when the plan contains one of these (${FAIL_ON_KINDS.join(", ")})` },
    out: { type: "string", short: "o", valueName: "FILE", description: "write the plan to FILE instead of stdout" },
    parallel: { type: "number", integer: true, min: 1, valueName: "N", description: "Pulumi's parallel resource operations in the plan's preview (default 32); as for the up it plans" },
    refresh: { type: "boolean", description: "refresh every resource through the engine first (exact for every property; slower) instead of reading only what decides a disruption" },
    shard: { type: "string", valueName: "S,...", description: "a sharded STACKFILE: plan these parts only" },
    concurrency: { type: "number", integer: true, min: 1, default: Math.max(1, os.availableParallelism()), valueName: "N", description: "a sharded STACKFILE: parts previewed at once (one per CPU core of this machine unless given)" },
  },
});

/** The stack a plan reads and previews, named without selecting it. */
type PlannedStack = Pick<Stack, "name" | "workspace" | "getAllConfig">;

/** A problem with the input, reported with exit code 2. */
class PlanInputError extends Error {}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const failOn = values["fail-on"].flatMap((v) => v.split(",")).map((k) => k.trim()).filter(Boolean);
  const unknown = failOn.filter((k) => !(FAIL_ON_KINDS as readonly string[]).includes(k));
  if (unknown.length) return usageError(SPEC, `unknown --fail-on kind '${unknown[0]}' (kinds: ${FAIL_ON_KINDS.join(", ")})`);
  const stackFile = parsed.positionals[0];
  if (!stackFile && !values.stack) return usageError(SPEC, "name the stack: a STACKFILE or --stack NAME");
  try {
    const cwd = path.resolve(values.cwd ?? process.cwd());
    const options = { refresh: values.refresh === true, parallel: values.parallel, stackFile: stackFile && path.resolve(stackFile) };
    const planned = stackFile ? stacksOfFile(stackFile, values.stack, values.shard) : { stacks: [values.stack as string], sharded: false };
    if (typeof planned === "string") return usageError(SPEC, planned);
    const { stacks, sharded } = planned;
    const collectOne = (name: string) => collect(name, cwd, options).catch((error: unknown) => {
      // A plan writes nothing, so it does not create a part's stack the way preview and up do.
      if (sharded && error instanceof PlanInputError && error.message.startsWith("cannot open stack")) {
        throw new PlanInputError(`${error.message}; \`smartfleet preview ${stackFile}\` creates a sharded stack's missing parts`);
      }
      throw error;
    });
    const plan = shownHosts(await inTurn(stacks, values.concurrency, collectOne));
    const text = renderPlan(plan, values.format);
    if (values.out) fs.writeFileSync(values.out, text);
    else process.stdout.write(text);
    const hits = failOnHits(plan, failOn);
    for (const hit of hits) console.error(`smartfleet plan: --fail-on ${hit}`);
    for (const v of plan.violations.filter((x) => x.severity === "error")) console.error(`smartfleet plan: policy error ${v.rule}: ${v.message}`);
    return planExitCode(plan, failOn);
  } catch (error) {
    if (error instanceof PlanInputError || error instanceof InputError || error instanceof PortUnreachableError) {
      console.error(`smartfleet plan: ${error.message}`);
      return EXIT.usage;
    }
    throw error;
  }
}

/**
 * The stacks a plan of `file` covers: the one named like it (or `--stack`), or a sharded
 * file's parts (`--shard` for some); a usage message for a `--shard` that does not fit.
 */
function stacksOfFile(file: string, stackOption: string | undefined, shardOption: string | undefined): { stacks: string[]; sharded: boolean } | string {
  const base = stackOption ?? path.basename(file).replace(/\.ya?ml$/, "");
  if (!fs.existsSync(file)) throw new PlanInputError(`no stack file ${file}`);
  const layout = shardLayout(loadStackSync(file));
  if (!layout) return shardOption ? `--shard: ${file} declares no shards` : { stacks: [base], sharded: false };
  const parts = chosenParts(layout, shardOption);
  return typeof parts === "string" ? parts : { stacks: parts.map((part) => `${base}.${part}`), sharded: true };
}

/**
 * `collectOne` of each stack, at most `concurrency` at once; the results in the stacks'
 * order. After a failure no other stack starts, the running ones end, and the first
 * failure is thrown.
 */
async function inTurn<T>(stacks: string[], concurrency: number, collectOne: (name: string) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array(stacks.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < stacks.length && !failure) {
      const i = next++;
      try {
        results[i] = await collectOne(stacks[i] as string);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, stacks.length) }, worker));
  if (failure) throw failure.error;
  return results;
}

/**
 * One plan from the parts' inputs (one stack file, so one loaded stack). Of some shards
 * only, it shows their hosts and any other host an operation touches (a cross-shard pair's
 * side), not the rest of the fleet as if nothing were planned for it.
 */
function shownHosts(inputs: Array<PlanInput & { hosts?: string[] }>) {
  const [first] = inputs as [PlanInput];
  const plan = buildPlan({ stack: first.stack, steps: inputs.flatMap((i) => i.steps), live: Object.assign({}, ...inputs.map((i) => i.live)) });
  if (inputs.some((i) => !i.hosts)) return plan;
  const shown = new Set(inputs.flatMap((i) => i.hosts ?? []));
  return { ...plan, hosts: plan.hosts.filter((h) => h.operations.length > 0 || shown.has(h.host)) };
}

/** Everything the plan is computed from: the loaded stack, the preview's steps and the live reads. */
async function collect(stackName: string, cwd: string, { refresh, parallel, stackFile }: { refresh: boolean; parallel?: number; stackFile?: string }) {
  const root = projectRoot(cwd);
  if (!fs.existsSync(path.join(root, "Pulumi.yaml"))) throw new PlanInputError(`no Pulumi.yaml in ${cwd} or above: run in the project or pass --cwd`);
  // Not `selectStack`: it would make NAME the user's selected stack, and costs a `pulumi`
  // run before the preview starts. A missing stack fails the configuration read below.
  let workspace: LocalWorkspace;
  try {
    // The providers refuse a change they must not apply at diff time, which would end the
    // preview; plan reports such changes itself, with the rest of the plan (PLANNING_ENV).
    workspace = await LocalWorkspace.create({ workDir: root, envVars: { [PLANNING_ENV]: "1" } });
  } catch (error) {
    throw new PlanInputError(`cannot use the Pulumi project in ${root}: ${firstLine(error)}`);
  }
  const stack: PlannedStack = {
    name: stackName,
    workspace,
    getAllConfig: () => workspace.getAllConfig(stackName).catch((error: unknown) => {
      throw new PlanInputError(`cannot open stack '${stackName}' in ${root}: ${firstLine(error)}`);
    }),
  };
  // The preview starts first: the configuration and the stack file are read (seconds at
  // 500 DPUs) while its engine starts. A bad input stops it.
  const abort = new AbortController();
  // Without a refresh the live reads answer for the unchanged resources: the preview leaves them out.
  const previewing = previewSteps(stack, { refresh, sames: refresh, parallel, signal: abort.signal });
  previewing.catch(() => undefined);
  let inputs: PlanInputs;
  try {
    inputs = await planInputs(stack, root, refresh, stackFile);
  } catch (error) {
    abort.abort();
    await previewing.catch(() => undefined);
    throw error;
  }
  const { loaded, declarations, dpus, password, caPem, hosts } = inputs;
  // Without the engine's refresh the ports are read here, while the preview runs.
  const reading = refresh ? undefined : readLive(liveTargets(dpus, password), caPem as string);
  reading?.catch(() => undefined);
  let steps: PreviewStep[];
  try {
    steps = await previewing;
  } catch (error) {
    const down = caPem ? await unreachablePorts(dpus, caPem) : [];
    if (down.length) throw new PlanInputError(`the preview could not read the fleet:\n  ${down.join("\n  ")}`);
    const lines = previewErrors(String((error as Error).message ?? error));
    throw new PlanInputError(`the preview failed:\n  ${(lines.length ? lines : [firstLine(error)]).join("\n  ")}`);
  }
  if (reading) return { stack: loaded, steps: withUnchanged(steps, declarations.map((d) => d.name)), live: (await reading).live, hosts };

  // After a refresh only resources not in state yet need the port (a create adopts hardware that may differ).
  const created = createdOn(steps, declarations);
  const creates = liveTargets(dpus.filter((d) => created.has(d.id)), password);
  if (creates.length && !caPem) throw new PlanInputError("set smartfleet:caFile or smartfleet:endpoints in the stack configuration to read the management ports");
  const { live } = creates.length ? await readLive(creates, caPem as string) : { live: {} };
  return { stack: loaded, steps, live, hosts };
}

type PlanInputs = Awaited<ReturnType<typeof planInputs>>;

/**
 * The stack's configuration, its definition and declarations, and the DPUs to read.
 * `stackFile`, when the command names one, must be the file the stack's program loads.
 */
async function planInputs(stack: PlannedStack, root: string, refresh: boolean, stackFile?: string) {
  // Pulumi answers the configuration (the password is a secret) in a process of its own
  // while the stack file is parsed here. Parsed first, the file's parse-cache entry is
  // there when the preview's program loads it: a pending change is a changed file, which
  // the program would otherwise parse a second time.
  const configuring = stack.getAllConfig();
  configuring.catch(() => undefined);
  const programFile = await configuredStackFile(stack, root, () => configuring);
  if (stackFile && programFile !== stackFile) {
    throw new PlanInputError(`stack ${stack.name} runs ${path.relative(root, programFile)} (smartfleet:stackFile), not ${path.relative(root, stackFile)}: pass the stack's own file`);
  }
  const loaded = loadStackSync(programFile);
  const config = await configuring;
  const get = (key: string): string | undefined => config[`smartfleet:${key}`]?.value;
  const endpointsFile = get("endpoints") ? path.resolve(root, get("endpoints") as string) : undefined;
  const routes = endpointsFile ? routesOf(readEndpoints(endpointsFile)) : undefined;
  const caPem = readCa(root, get("caFile"), endpointsFile);
  const shard = get("shard");
  const layout = shard ? shardLayout(loaded) : undefined;
  const declarations = declaredBy(layout, resourceDeclarations(loaded, { routes }), shard);
  if (!refresh && !caPem) throw new PlanInputError("set smartfleet:caFile or smartfleet:endpoints in the stack configuration to read the management ports");
  // A shard's own hosts (the cross-shard part has none); undefined: the whole fleet's.
  const hosts = shard ? (layout?.hosts.get(shard) ?? []) : undefined;
  return { loaded, declarations, dpus: managedDpus(declarations), password: get("managementPassword"), caPem, hosts };
}

/**
 * What the stack's program declares: of a sharded stack's shard (`smartfleet:shard`), that
 * part only. The resources the preview leaves out are taken as unchanged, so another part's
 * must not count among them (nor its DPUs be read).
 */
function declaredBy(layout: ShardLayout | undefined, all: ResourceDeclaration[], shard: string | undefined): ResourceDeclaration[] {
  if (!shard || !layout) return all;
  try {
    return shardDeclarations(all, layout, shard);
  } catch (error) {
    throw new PlanInputError(`smartfleet:shard: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n").find((l) => l.trim() !== "") ?? "unknown error";
}

function readEndpoints(file: string) {
  try {
    return readEndpointsFile(file);
  } catch (error) {
    throw new PlanInputError(`cannot read the endpoints file ${file} (smartfleet:endpoints): ${firstLine(error)}`);
  }
}

/** The CA of the management ports: `smartfleet:caFile`, else the endpoints file's `caFile`. */
function readCa(root: string, caFile: string | undefined, endpointsFile: string | undefined): string | undefined {
  let file = caFile ? path.resolve(root, caFile) : undefined;
  if (!file && endpointsFile) {
    const named = (JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as { caFile?: unknown }).caFile;
    if (typeof named === "string") file = path.resolve(path.dirname(endpointsFile), named);
  }
  if (!file) return undefined;
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new PlanInputError(`cannot read the management ports' CA ${file}: ${firstLine(error)}`);
  }
}

/** Every managed DPU's port, from the SmartNic declarations. */
function managedDpus(declarations: ResourceDeclaration[]) {
  return declarations.flatMap((d) => (d.kind === "SmartNic" ? [{ id: `${d.inputs.target.host}/${d.inputs.target.smartnic}`, target: d.inputs.target, username: d.account.username, factoryPassword: d.account.factoryPassword }] : []));
}

/** The DPUs (`host/nic`) behind a SmartNic, DpuOs or HostOsInstall that is created, or changes a property the state does not hold. */
function createdOn(steps: PreviewStep[], declarations: ResourceDeclaration[]): Set<string> {
  const byName = new Map(declarations.map((d) => [d.name, d]));
  const wanted = new Set<string>();
  for (const step of steps) {
    // An update may change a property the state does not hold (e.g. firmware the stack did not manage before).
    if (step.step !== "create" && !step.changes.some((c) => c.from === undefined && ["mode", "hostPrivilege", "firmware", "image", "version"].includes(c.property))) continue;
    const d = byName.get(step.name);
    if (d?.kind === "SmartNic" || d?.kind === "DpuOs") wanted.add(`${d.inputs.target.host}/${d.inputs.target.smartnic}`);
    if (d?.kind === "HostOsInstall") wanted.add(`${d.inputs.via.host}/${d.inputs.via.smartnic}`);
  }
  return wanted;
}

/** How to read each DPU: the stack's management password, then its factory one. */
function liveTargets(dpus: ReturnType<typeof managedDpus>, password: string | undefined): LiveTarget[] {
  return dpus.map((dpu) => ({
    id: dpu.id,
    target: dpu.target,
    username: dpu.username,
    passwords: [password, dpu.factoryPassword].filter((p): p is string => typeof p === "string" && p !== ""),
  }));
}
