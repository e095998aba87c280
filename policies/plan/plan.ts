/**
 * `smartfleet plan`, the pure half: from what a preview says will change (each resource's
 * step and changed properties, with the refreshed state's values) and what the ports hold
 * for resources not yet in state, the plan per host — operations with their disruption,
 * the host's group, its slot in the rollout the budget gives, pair switch-overs, the
 * estimated duration — and the policy findings that need the live state (SF008 against
 * the live mode, SF011 against the schedule). No Pulumi, no network: the CLI collects the
 * input (`cli/plan/`), the renderers (`render.ts`) print the result.
 */
import { resourceDeclarations, type ResourceDeclaration } from "../../model/declarations";
import { classify, disruptsHost, estimateSeconds, worse, OUTCOME_KINDS, type DisruptionKind, type PropertyChange, type StepKind } from "../../model/disruption";
import type { LoadedStack } from "../../model/load";
import { hostRollouts, schedule } from "../../model/rollout";
import type { ResourceKind } from "../../schemas/kinds";
import { checkStack } from "../check";
import type { PolicyData, LiveContext } from "../rule";
import { loadPolicyData } from "../data";

/** One resource as the preview saw it. */
export interface PreviewStep {
  /** Pulumi resource name (the last part of its URN). */
  name: string;
  /** What Pulumi will do with it. */
  step: StepKind;
  /**
   * Changed input properties: `from` the refreshed state's value (what the port reported
   * during the preview), absent for a create; `to` the wanted value.
   */
  changes: PropertyChange[];
  /** The refreshed outputs in state before the step (e.g. a SmartNic's live mode, a pair's active side); absent for a create. */
  olds?: Record<string, unknown>;
}

/** What one DPU's port holds for the properties that decide a disruption (read once per port). */
export interface LiveDpu {
  /** `port`: read from the management port; `factory`: the port shows nothing before its factory password is changed, so the inventory's factory state stands in. */
  source: "port" | "factory";
  mode?: "dpu" | "nic" | null;
  hostPrivilege?: "privileged" | "restricted" | null;
  /** NIC firmware version. */
  firmware?: string | null;
  /** The DPU OS installed. */
  dpuOs?: { image: string | null; version: string | null } | null;
  /** The OS of the host behind this DPU. */
  hostOs?: { image: string; version: string } | null;
  /** The active side (`primary`, `secondary`) of each service pair whose primary this DPU is, by pair name. */
  pairs?: Record<string, string>;
}

/** Everything a plan is computed from. */
export interface PlanInput {
  /** The loaded stack. */
  stack: LoadedStack;
  /** Every declared resource's step (unchanged ones included, as `same`). */
  steps: PreviewStep[];
  /** Live reads by DPU id (`host/nic`): every managed DPU, or after a refresh those of creates. */
  live: Record<string, LiveDpu>;
}

/** One thing that changes. */
export interface PlanOperation {
  /** Pulumi resource name. */
  resource: string;
  /** Its kind. */
  resourceKind: ResourceKind;
  /** The step Pulumi takes. */
  step: StepKind;
  /** The property (`os` stands for image, version, URI and checksum together; `(create)`/`(delete)` for a whole resource). */
  property: string;
  /** What this operation does to the fleet. */
  kind: DisruptionKind;
  /** The value now, as text (null when none or unknown). */
  from: string | null;
  /** The value wanted, as text (null when the resource goes). */
  to: string | null;
}

/** What the rollout does to one host. */
export interface PlanHost {
  host: string;
  /** Its rollout group. */
  group: string;
  operations: PlanOperation[];
  /** The worst disruption of its operations. */
  disruption: DisruptionKind;
  /** Its place among the hosts of its group (1 first); null when it is not disrupted. */
  order: number | null;
  /** Seconds from the start of the rollout when its disruption starts / its slot frees (gate passed); null when not disrupted. */
  start: number | null;
  end: number | null;
  /** Estimated seconds of its own work (without the gate's settle time). */
  seconds: number;
  /** Pair switch-overs and unprotected pairs its disruption causes. */
  failovers: string[];
}

/** An outcome `--fail-on` can name besides the operations' kinds. */
export interface PlanOutcome {
  kind: (typeof OUTCOME_KINDS)[number];
  message: string;
}

/** A policy finding of the plan. */
export interface PlanViolation {
  rule: string;
  severity: "error" | "warning";
  message: string;
}

/** The plan: what `smartfleet plan --format json` prints. */
export interface Plan {
  stack: string;
  hosts: PlanHost[];
  /** Estimated seconds until the last host has passed its gate. */
  estimateSeconds: number;
  outcomes: PlanOutcome[];
  violations: PlanViolation[];
}

/** Properties that are never shown: credentials, the provider, rollout context. */
const HIDDEN = new Set(["username", "password", "factoryPassword", "peerUsername", "__provider", "rollout"]);
/** Properties of an OS resource that one `os` operation stands for. */
const OS_PARTS = ["image", "version", "uri", "sha256"];

/** Computes the plan. */
export function buildPlan(input: PlanInput, data: PolicyData = loadPolicyData()): Plan {
  const { stack } = input;
  const declarations = new Map(resourceDeclarations(stack).map((d) => [d.name, d]));
  const rollouts = hostRollouts(stack);
  const operationsByHost = new Map<string, PlanOperation[]>(stack.hosts.map((h) => [h.name, []]));
  /** Per host: seconds of host-disrupting work per DPU (they run in parallel) and of the host itself (after them). */
  const work = new Map<string, { perDpu: Map<string, number>; host: number; other: number }>(stack.hosts.map((h) => [h.name, { perDpu: new Map(), host: 0, other: 0 }]));
  const modes: LiveContext["modes"] = {};

  for (const step of input.steps) {
    const decl = declarations.get(step.name);
    if (!decl) continue;
    if (decl.kind === "SmartNic") {
      const id = `${decl.inputs.target.host}/${decl.inputs.target.smartnic}`;
      const live = input.live[id];
      const mode = (live?.source === "port" ? live.mode : undefined) ?? step.olds?.mode;
      if (mode === "dpu" || mode === "nic") modes[id] = mode;
    }
    const changes = changesOf(decl, step, input.live, stack);
    // A resource the state calls unchanged whose port differs (drift the preview did not refresh) is updated.
    const kind = step.step === "same" ? "update" : step.step;
    if (step.step === "same" && changes.length === 0) continue;
    const host = hostOf(decl);
    const ops = operationsOf(decl, kind, changes);
    if (ops.length === 0) continue;
    operationsByHost.get(host)?.push(...ops);
    const seconds = estimateSeconds(decl.kind, kind, changes);
    const w = work.get(host);
    if (!w || seconds === 0) continue;
    if (!disruptsHost(classify(decl.kind, kind, changes))) w.other = Math.max(w.other, seconds);
    else if (decl.kind === "HostOsInstall" || decl.kind === "Host") w.host += seconds;
    else {
      const dpu = dpuOf(decl) ?? "";
      w.perDpu.set(dpu, (w.perDpu.get(dpu) ?? 0) + seconds);
    }
  }

  const hostSeconds = (host: string): number => {
    const w = work.get(host);
    return w ? Math.max(0, ...w.perDpu.values()) + w.host : 0;
  };
  const timeline = schedule(
    stack.hosts.map((h) => ({ host: h.name, seconds: hostSeconds(h.name) })),
    rollouts,
  );
  const slots = new Map(timeline.hosts.map((s) => [s.host, s]));

  const outcomes: PlanOutcome[] = [];
  const hosts: PlanHost[] = stack.hosts.map((h) => {
    const operations = operationsByHost.get(h.name) ?? [];
    const disruption = operations.reduce<DisruptionKind>((worst, op) => worse(worst, op.kind), "none");
    const slot = slots.get(h.name);
    const failovers = disruptsHost(disruption) ? pairEffects(input, h.name, outcomes) : [];
    const rollout = rollouts.get(h.name);
    if (disruptsHost(disruption) && rollout) {
      if (rollout.hostMaintenance.mode !== "none") {
        outcomes.push({ kind: "maintenance", message: `host ${h.name} enters maintenance (${rollout.hostMaintenance.mode}) before its ${disruption}` });
      } else if ((h.hardware.workloads?.count ?? 0) > 0) {
        outcomes.push({ kind: "workload-outage", message: `host ${h.name} runs ${h.hardware.workloads?.count} workloads and is disrupted (${disruption}) without maintenance (rollout.hostMaintenance.mode: none)` });
      }
    }
    return {
      host: h.name,
      group: rollout?.group ?? "fleet",
      operations,
      disruption,
      order: slot?.order ?? null,
      start: slot?.start ?? null,
      end: slot?.end ?? null,
      seconds: hostSeconds(h.name) || (work.get(h.name)?.other ?? 0),
      failovers,
    };
  });
  for (const pair of stack.servicePairs) {
    const [a, b] = [pair.primary.split("/")[0], pair.secondary.split("/")[0]];
    if (a === b) outcomes.push({ kind: "pair-unprotected", message: `service pair ${pair.name} has both sides in host ${a}: nothing protects it from that host's disruption` });
  }

  const nonHostWork = Math.max(0, ...[...work.values()].map((w) => w.other));
  const live: LiveContext = { modes, disruptions: timeline.hosts.map((s) => ({ host: s.host, start: s.start, end: s.end })) };
  const model: LoadedStack & { live: LiveContext } = { ...stack, live };
  const report = checkStack(model, data);
  return {
    stack: stack.stack.metadata.name,
    hosts,
    estimateSeconds: Math.max(timeline.totalSeconds, nonHostWork),
    outcomes: dedupe(outcomes),
    violations: report.findings.map((f) => ({ rule: f.ruleId, severity: f.severity, message: f.message })),
  };
}

/** The kinds a plan contains: every operation's and host's disruption and every outcome's, plus `none` when nothing changes. */
export function kindsIn(plan: Plan): Set<string> {
  const kinds = new Set<string>();
  for (const h of plan.hosts) {
    for (const op of h.operations) kinds.add(op.kind);
    kinds.add(h.disruption);
  }
  for (const o of plan.outcomes) kinds.add(o.kind);
  return kinds;
}

/** The exit code of `smartfleet plan`: 1 when a policy error is found or the plan contains a kind in `failOn`, else 0. */
export function planExitCode(plan: Plan, failOn: readonly string[]): number {
  if (plan.violations.some((v) => v.severity === "error")) return 1;
  const kinds = kindsIn(plan);
  return failOn.some((k) => kinds.has(k)) ? 1 : 0;
}

/** What the kinds in `failOn` hit in the plan, one line each (for the message on stderr). */
export function failOnHits(plan: Plan, failOn: readonly string[]): string[] {
  const hits: string[] = [];
  for (const kind of failOn) {
    const ops = plan.hosts.flatMap((h) => h.operations.filter((op) => op.kind === kind).map((op) => `${h.host}: ${op.resource} ${op.property}`));
    const outs = plan.outcomes.filter((o) => o.kind === kind).map((o) => o.message);
    if (ops.length || outs.length) hits.push(`${kind}: ${[...ops, ...outs].join("; ")}`);
  }
  return hits;
}

function dedupe(outcomes: PlanOutcome[]): PlanOutcome[] {
  const seen = new Set<string>();
  return outcomes.filter((o) => (seen.has(o.kind + o.message) ? false : (seen.add(o.kind + o.message), true)));
}

/** The host a resource's operations are shown under: its own, a pair's primary's, a share's source's. */
function hostOf(decl: ResourceDeclaration): string {
  if (decl.host) return decl.host;
  if (decl.kind === "ServicePair") return decl.inputs.primary.host;
  if (decl.kind === "AcceleratorShare") return decl.inputs.source.host;
  return "";
}

/** The DPU (`host/nic`) a resource lives on, for DPU-level kinds. */
function dpuOf(decl: ResourceDeclaration): string | undefined {
  const inputs = decl.inputs as { target?: { host: string; smartnic: string } };
  return inputs.target ? `${inputs.target.host}/${inputs.target.smartnic}` : undefined;
}

/**
 * The changes that matter: for resources in state, the preview's, except that a property
 * the port was read for is the wanted value against the port's (a refresh of it: drift
 * shows, a change already made out of band does not); for a create, the wanted values
 * against what the port holds (or, for an unclaimed DPU, its factory state), keeping only
 * those that differ.
 */
function changesOf(decl: ResourceDeclaration, step: PreviewStep, live: Record<string, LiveDpu>, stack: LoadedStack): PropertyChange[] {
  const shown = step.changes.filter((c) => !HIDDEN.has(c.property));
  if (step.step === "delete" || step.step === "replace") return shown;
  if (step.step !== "create") {
    const known = liveValues(decl, live);
    const wanted = decl.inputs as unknown as Record<string, unknown>;
    const fromPort = Object.keys(known)
      .filter((p) => wanted[p] !== undefined && JSON.stringify(known[p]) !== JSON.stringify(wanted[p]))
      .map((p) => ({ property: p, from: known[p], to: wanted[p] }));
    // An OS is installed when the port runs another image or version; a new URI or checksum alone installs nothing.
    const decidedByPort = (c: PropertyChange) => c.property in known || ("version" in known && "image" in known && (c.property === "uri" || c.property === "sha256"));
    return [...shown.filter((c) => !decidedByPort(c)), ...fromPort];
  }
  const differ = (c: PropertyChange) => c.from === undefined || c.from === null || JSON.stringify(c.from) !== JSON.stringify(c.to);
  switch (decl.kind) {
    case "SmartNic": {
      const id = `${decl.inputs.target.host}/${decl.inputs.target.smartnic}`;
      const factory = stack.smartnics.find((n) => n.id === id)?.hardware.factoryState;
      const l = live[id];
      const known = l?.source === "port" ? l : { mode: factory?.mode, hostPrivilege: factory?.hostPrivilege, firmware: undefined };
      const changes: PropertyChange[] = [
        { property: "mode", from: known.mode ?? undefined, to: decl.inputs.mode },
        { property: "hostPrivilege", from: known.hostPrivilege ?? undefined, to: decl.inputs.hostPrivilege },
      ];
      if (decl.inputs.firmware) changes.push({ property: "firmware", from: known.firmware ?? undefined, to: decl.inputs.firmware });
      return changes.filter(differ);
    }
    case "DpuOs": {
      const os = live[`${decl.inputs.target.host}/${decl.inputs.target.smartnic}`]?.dpuOs;
      return [
        { property: "image", from: os?.image ?? undefined, to: decl.inputs.image },
        { property: "version", from: os?.version ?? undefined, to: decl.inputs.version },
      ].filter(differ);
    }
    case "HostOsInstall": {
      const os = live[`${decl.inputs.via.host}/${decl.inputs.via.smartnic}`]?.hostOs;
      return [
        { property: "image", from: os?.image, to: decl.inputs.image },
        { property: "version", from: os?.version, to: decl.inputs.version },
      ].filter(differ);
    }
    default:
      return [];
  }
}

/** What the port said (one snapshot read) for the properties of a resource that the live read covers. */
function liveValues(decl: ResourceDeclaration, live: Record<string, LiveDpu>): Record<string, unknown> {
  const at = (t: { host: string; smartnic: string }) => live[`${t.host}/${t.smartnic}`];
  const l = decl.kind === "HostOsInstall" ? at(decl.inputs.via) : "target" in decl.inputs ? at(decl.inputs.target as { host: string; smartnic: string }) : undefined;
  if (!l || l.source !== "port") return {};
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null) out[k] = v;
  };
  if (decl.kind === "SmartNic") {
    put("mode", l.mode);
    put("hostPrivilege", l.hostPrivilege);
    put("firmware", l.firmware);
  } else if (decl.kind === "DpuOs") {
    put("image", l.dpuOs?.image);
    put("version", l.dpuOs?.version);
  } else if (decl.kind === "HostOsInstall") {
    put("image", l.hostOs?.image);
    put("version", l.hostOs?.version);
  }
  return out;
}

/** One operation per changed property that matters (an OS's image/version/URI/checksum as one `os`). */
function operationsOf(decl: ResourceDeclaration, step: StepKind, changes: PropertyChange[]): PlanOperation[] {
  const base = { resource: decl.name, resourceKind: decl.kind, step };
  if (step === "delete") return [{ ...base, property: "(delete)", kind: classify(decl.kind, step, changes), from: decl.name, to: null }];
  if (step === "create" && !["SmartNic", "DpuOs", "HostOsInstall"].includes(decl.kind)) {
    return [{ ...base, property: "(create)", kind: classify(decl.kind, step, changes), from: null, to: summarize(decl) }];
  }
  const ops: PlanOperation[] = [];
  const isOs = decl.kind === "DpuOs" || decl.kind === "HostOsInstall";
  const osChanges = isOs ? changes.filter((c) => OS_PARTS.includes(c.property)) : [];
  if (osChanges.length > 0) {
    const get = (which: "from" | "to", p: string) => {
      const c = changes.find((x) => x.property === p);
      const inputs = decl.inputs as unknown as Record<string, unknown>;
      // A part that does not change is the same before and after.
      return c ? c[which] : inputs[p];
    };
    const text = (which: "from" | "to") => {
      const [image, version] = [get(which, "image"), get(which, "version")];
      return image || version ? `${image ?? "?"} ${version ?? "?"}` : null;
    };
    ops.push({ ...base, property: "os", kind: classify(decl.kind, step, osChanges), from: text("from"), to: text("to") });
  }
  for (const c of changes) {
    if (isOs && OS_PARTS.includes(c.property)) continue;
    ops.push({ ...base, property: c.property, kind: classify(decl.kind, step, [c]), from: display(c.from), to: display(c.to) });
  }
  if (ops.length === 0 && step === "replace") ops.push({ ...base, property: "(replace)", kind: classify(decl.kind, step, changes), from: decl.name, to: decl.name });
  return ops;
}

function summarize(decl: ResourceDeclaration): string {
  const inputs = decl.inputs as unknown as Record<string, unknown>;
  const service = inputs.service as { type?: string; version?: string } | undefined;
  if (service?.type) return `${service.type} ${service.version ?? ""}`.trim();
  if (typeof inputs.kind === "string") return `${inputs.kind} ${inputs.function ?? ""}`.trim();
  return decl.kind;
}

/** A value as text: a DPU target as `host/nic`, a service as `type version`, a list joined. */
export function display(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return value.map((v) => display(v) ?? "").join(", ");
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    if (typeof o.host === "string" && typeof o.smartnic === "string") return `${o.host}/${o.smartnic}`;
    if (typeof o.type === "string" && typeof o.version === "string") return `${o.type} ${o.version}`;
    return JSON.stringify(value);
  }
  return String(value);
}

/**
 * What a host's disruption does to the pairs with a side on it: the active side going
 * down is a planned switch-over to the other side; the standby side going down leaves the
 * pair unprotected meanwhile; both sides in the host take the pair's service down.
 */
function pairEffects(input: PlanInput, host: string, outcomes: PlanOutcome[]): string[] {
  const lines: string[] = [];
  for (const pair of input.stack.servicePairs) {
    const onHost = (id: string) => id.split("/")[0] === host;
    if (!onHost(pair.primary) && !onHost(pair.secondary)) continue;
    if (onHost(pair.primary) && onHost(pair.secondary)) {
      const line = `${pair.name}: both sides (${pair.primary}, ${pair.secondary}) go down with ${host}`;
      lines.push(line);
      outcomes.push({ kind: "workload-outage", message: `service pair ${line}` });
      outcomes.push({ kind: "pair-unprotected", message: `service pair ${pair.name} is down while ${host} is disrupted` });
      continue;
    }
    // The primary's port says which side serves now; after a refresh (no live read) the refreshed state does.
    const activeSide = input.live[pair.primary]?.pairs?.[pair.name] ?? input.steps.find((s) => s.name === `pair-${pair.name}`)?.olds?.activeSide;
    const active = activeSide === "secondary" ? "secondary" : "primary";
    const sides = { primary: pair.primary, secondary: pair.secondary };
    const here = onHost(pair.primary) ? "primary" : "secondary";
    const other = here === "primary" ? "secondary" : "primary";
    if (here === active) {
      lines.push(`planned switch-over of ${pair.name} to ${other} (${sides[other]})`);
    } else {
      lines.push(`${pair.name} runs unprotected on ${active} (${sides[active]}) while ${host} is down`);
    }
    outcomes.push({ kind: "pair-unprotected", message: `service pair ${pair.name} is unprotected while ${host} is disrupted (its ${here} side ${sides[here]})` });
  }
  return lines;
}
