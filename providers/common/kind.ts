/**
 * The shape every resource kind shares: how inputs are checked against the kind's JSON
 * Schema, how a diff decides between update in place and replacement, and how failures
 * are reported. A kind file supplies only what is specific to its hardware (`KindSpec`);
 * `defineKind` turns that into the object the dynamic-provider host calls.
 */
import { isDeepStrictEqual } from "node:util";
import type * as pulumi from "@pulumi/pulumi";
import type { DpuTarget } from "../../schemas/generated/common";
import { kindRow, type ResourceKind } from "../../schemas/kinds";
import { schemaPath, validatorFor } from "../../schemas/validate";
import { pointerSegments } from "../../schemas/source-index";
import { ProviderError, UnfinishedOperationError, messageOf } from "./errors";
import { configureFromPulumi } from "./settings";
import { CREDENTIAL_KEYS } from "./dpu";
import { duringReadPass } from "../redfish";
import { attachToEngine } from "./engine-log";
import { onResource, useEngineLog, type ResourceScope } from "./progress";
import { urnOf } from "./request-urn";

/** An input property carrying a credential. */
export type CredentialKey = (typeof CREDENTIAL_KEYS)[number];

/** The name Pulumi's engine uses for the value of an input that is not known during preview. */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Set by `smartfleet plan` for its preview: providers then do not refuse changes at diff
 * time (`refuseChange`), because plan reports them itself next to the rest of the plan.
 */
export const PLANNING_ENV = "SMARTFLEET_PLANNING";

/** The property the dynamic-provider host reserves for the serialized provider. */
export const PROVIDER_KEY = "__provider";

/**
 * Inputs that are context for the provider, not desired state: the rollout a host's
 * disruptions are held to. Never compared, so changing a stack's rollout policy or its
 * maintenance window changes no resource.
 */
const CONTEXT_KEYS = ["rollout"];

/** One violation found by `check`. */
export interface CheckFailure {
  /** Dotted path of the offending input, e.g. `services.dfw.cores`; `""` for the whole resource. */
  property: string;
  /** What is wrong and what is allowed. */
  reason: string;
}

/** What a kind file provides. `I` are the inputs, `O` the outputs (inputs plus what the hardware reports). */
export interface KindSpec<I extends object, O extends I> {
  /** The kind, e.g. `SmartNic`; its row in the kind table names its input schema and module. */
  kind: ResourceKind;
  /** Output properties that are not inputs: never compared by `diff`. */
  outputOnly: readonly string[];
  /** Credential inputs this kind needs (validated here: the kind schemas describe the resource only). */
  credentials: readonly CredentialKey[];
  /** Of the changed input properties, those that need a new resource. */
  replaces(changed: string[], olds: O, news: I): string[];
  /** True when the old and the new resource cannot exist side by side on the hardware. */
  deleteBeforeReplace(olds: O, news: I): boolean;
  /** True when the live state in `olds` (after a refresh) differs from what the inputs imply beyond the inputs themselves (e.g. a failed-over pair). */
  drifted?(olds: O): boolean;
  /** Human name of the resource in messages, e.g. `esx-01/nic1`. */
  describe(inputs: I): string;
  /**
   * Why the change from `olds` (the live state after a refresh) to `news` must not be
   * applied, when it must not: `pulumi preview` then fails naming it, before any resource
   * of the run is touched, instead of the update failing mid-apply.
   */
  refuseChange?(olds: O, news: I): string | undefined;
  /** Checks beyond the schema (cross-field rules); every violation, never throws. */
  validate?(inputs: I): CheckFailure[];
  /** Takes the resource under management and converges it; returns its id and outputs. */
  create(inputs: I): Promise<{ id: string; outs: O }>;
  /** The live state as outputs, or undefined when the resource no longer exists. */
  read(id: string, olds: O): Promise<O | undefined>;
  /** Converges the resource from `olds` to `news`. */
  update(id: string, olds: O, news: I): Promise<O>;
  /** Releases the resource: undoes the configuration this project applied. */
  delete(id: string, olds: O): Promise<void>;
}

/** The provider implementation of one kind, as the lazy provider in state loads it. */
export interface KindImplementation<I extends object, O extends I> {
  /** The kind this implements. */
  readonly kind: ResourceKind;
  /** Output properties that are not inputs (unknown until the provider reports them). */
  readonly outputOnly: readonly string[];
  /** Credential inputs the kind takes. */
  readonly credentials: readonly CredentialKey[];
  /** Reads the stack configuration (CA, time budgets). */
  configure(request: pulumi.dynamic.ConfigureRequest): Promise<void>;
  /** Validates inputs against the kind's schema and rules; reports every violation. */
  check(olds: Record<string, unknown>, news: Record<string, unknown>): Promise<pulumi.dynamic.CheckResult<I>>;
  /** Decides update in place or replacement. */
  diff(id: string, olds: O, news: I): Promise<pulumi.dynamic.DiffResult>;
  /** Takes under management and converges. */
  create(inputs: I): Promise<pulumi.dynamic.CreateResult<O>>;
  /** Reads the live state. */
  read(id: string, props: O): Promise<pulumi.dynamic.ReadResult<O>>;
  /** Converges to new inputs. */
  update(id: string, olds: O, news: I): Promise<pulumi.dynamic.UpdateResult<O>>;
  /** Releases. */
  delete(id: string, props: O): Promise<void>;
}

/** Builds the implementation the dynamic-provider host calls from a kind's spec. */
export function defineKind<I extends object, O extends I>(spec: KindSpec<I, O>): KindImplementation<I, O> {
  const fail = (operation: string, inputs: I, error: unknown): never => {
    if (error instanceof UnfinishedOperationError) throw error;
    throw new ProviderError(spec.kind, safeDescribe(spec, inputs), operation, messageOf(error), error);
  };
  return {
    kind: spec.kind,
    outputOnly: spec.outputOnly,
    credentials: spec.credentials,
    async configure(request) {
      connectProgress();
      await configureFromPulumi(request);
    },
    async check(_olds, news) {
      const inputs = withoutProvider(news) as I;
      return { inputs, failures: checkInputs(spec, inputs) };
    },
    async diff(_id, olds, news) {
      const wanted = withoutProvider(news) as I;
      const refused = process.env[PLANNING_ENV] === "1" ? undefined : spec.refuseChange?.(olds, wanted);
      if (refused) throw new ProviderError(spec.kind, safeDescribe(spec, wanted), "diff", refused);
      return diffInputs(spec, olds, wanted);
    },
    async create(inputs) {
      try {
        return await onResource(scopeOf(spec, inputs), () => spec.create(withoutProvider(inputs) as I));
      } catch (error) {
        return fail("create", inputs, error);
      }
    },
    async read(id, props) {
      try {
        // A read pass: every read of a port in this process can come from one snapshot of it.
        const live = await onResource(scopeOf(spec, props), () => duringReadPass(() => spec.read(id, withoutProvider(props) as O)));
        return live === undefined ? { id: "" } : { id, props: live };
      } catch (error) {
        return fail("read", props, error);
      }
    },
    async update(id, olds, news) {
      try {
        return { outs: await onResource(scopeOf(spec, news), () => spec.update(id, withoutProvider(olds) as O, withoutProvider(news) as I)) };
      } catch (error) {
        return fail("update", news, error);
      }
    },
    async delete(id, props) {
      try {
        await onResource(scopeOf(spec, props), () => spec.delete(id, withoutProvider(props) as O));
      } catch (error) {
        fail("delete", props, error);
      }
    },
  };
}

/** Every schema violation and rule violation of `inputs`; never throws. */
export function checkInputs<I extends object, O extends I>(spec: KindSpec<I, O>, inputs: I): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const { described, credentials } = splitCredentials(inputs);
  for (const key of spec.credentials) {
    const value = credentials[key];
    if (value === UNKNOWN_VALUE) continue;
    if (typeof value !== "string" || value === "") failures.push({ property: key, reason: `${key} must be a non-empty string` });
  }
  try {
    const validate = validatorFor(schemaPath(inputSchemaOf(spec.kind)));
    if (!validate(described)) {
      for (const error of validate.errors ?? []) {
        const at = propertyPointer(error);
        if (isUnknownAt(described, error.instancePath)) continue;
        failures.push({ property: dotted(at), reason: reasonOf(error) });
      }
    }
    // Cross-field rules assume a schema-valid shape.
    if (failures.length === 0 && spec.validate) failures.push(...spec.validate({ ...described, ...credentials } as I));
  } catch (error) {
    failures.push({ property: "", reason: `cannot check ${spec.kind} inputs: ${messageOf(error)}` });
  }
  // The schema filled in its defaults on `described`; hand them back with the credentials.
  Object.assign(inputs, described);
  return dedupe(failures);
}

function inputSchemaOf(kind: ResourceKind): string {
  const row = kindRow(kind);
  if (!row) throw new Error(`${kind} is not in the kind table`);
  return row.inputSchema;
}

/** Splits inputs into what the kind schema describes and the credential properties. */
function splitCredentials(inputs: object): { described: Record<string, unknown>; credentials: Record<string, unknown> } {
  const described: Record<string, unknown> = {};
  const credentials: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if ((CREDENTIAL_KEYS as readonly string[]).includes(key)) credentials[key] = value;
    else described[key] = value;
  }
  return { described, credentials };
}

/** Compares new inputs with the old outputs (which carry the live values after a refresh). */
export function diffInputs<I extends object, O extends I>(spec: KindSpec<I, O>, olds: O, news: I): pulumi.dynamic.DiffResult {
  const skip = new Set<string>([PROVIDER_KEY, ...CONTEXT_KEYS, ...spec.outputOnly]);
  const keys = new Set([...Object.keys(news), ...Object.keys(olds)].filter((k) => !skip.has(k)));
  const changed = [...keys].filter(
    (k) => !isDeepStrictEqual((news as Record<string, unknown>)[k], (olds as Record<string, unknown>)[k]),
  );
  const replaces = changed.length > 0 ? spec.replaces(changed, olds, news) : [];
  return {
    changes: changed.length > 0 || (spec.drifted?.(olds) ?? false),
    replaces,
    deleteBeforeReplace: replaces.length > 0 && spec.deleteBeforeReplace(olds, news),
  };
}

/** True when two targets name the same DPU (its place and serial; the address may move). */
export function sameDpu(a: DpuTarget | undefined, b: DpuTarget | undefined): boolean {
  return a?.serial === b?.serial && a?.host === b?.host && a?.smartnic === b?.smartnic;
}

/** The changed properties among `keys` that are DPU targets naming a different DPU. */
export function movedTargets(changed: string[], olds: object, news: object, keys: readonly string[]): string[] {
  const o = olds as Record<string, DpuTarget | undefined>;
  const n = news as Record<string, DpuTarget | undefined>;
  return changed.filter((k) => keys.includes(k) && !sameDpu(o[k], n[k]));
}

function withoutProvider<T extends object>(props: T): T {
  const { [PROVIDER_KEY]: _ignored, ...rest } = props as Record<string, unknown>;
  return rest as T;
}

let progressConnected = false;

/** Once per process: provider messages go to the engine on their resource where the host allows it. */
function connectProgress(): void {
  if (progressConnected) return;
  progressConnected = true;
  const { log, reason, inHost } = attachToEngine();
  useEngineLog(log);
  // Said once, under the stack: why the resources' progress shows there too.
  if (inHost && !log) console.error(`smartfleet: progress messages go to the stack, not their resources: ${reason}`);
}

/**
 * The resource a call's properties belong to: the URN the host's request carried (the
 * exact object it handed over, before `withoutProvider` copies it) and its name.
 */
function scopeOf<I extends object, O extends I>(spec: KindSpec<I, O>, props: I): ResourceScope {
  return { urn: urnOf(props), label: `${spec.kind} ${safeDescribe(spec, props)}` };
}

function safeDescribe<I extends object, O extends I>(spec: KindSpec<I, O>, inputs: I): string {
  try {
    return spec.describe(inputs);
  } catch {
    return "(unnamed)";
  }
}

function isUnknownAt(value: unknown, pointer: string): boolean {
  let current = value;
  for (const part of pointerSegments(pointer)) {
    if (current === UNKNOWN_VALUE) return true;
    if (typeof current !== "object" || current === null) return false;
    current = (current as Record<string, unknown>)[part];
  }
  return current === UNKNOWN_VALUE;
}

/** Where an ajv error points: the missing or unknown property itself, else the offending value. */
function propertyPointer(error: { keyword: string; instancePath: string; params: Record<string, unknown> }): string {
  if (error.keyword === "required") return `${error.instancePath}/${String(error.params.missingProperty)}`;
  if (error.keyword === "additionalProperties") return `${error.instancePath}/${String(error.params.additionalProperty)}`;
  return error.instancePath;
}

function dotted(pointer: string): string {
  return pointerSegments(pointer).join(".");
}

function reasonOf(error: { keyword: string; message?: string; params: Record<string, unknown> }): string {
  const params = error.params;
  switch (error.keyword) {
    case "enum":
      return `${error.message}: ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "additionalProperties":
      return `unknown property '${String(params.additionalProperty)}'`;
    case "required":
      return `missing required property '${String(params.missingProperty)}'`;
    default:
      return error.message ?? `fails ${error.keyword}`;
  }
}

function dedupe(failures: CheckFailure[]): CheckFailure[] {
  const seen = new Set<string>();
  return failures.filter((f) => {
    const key = `${f.property}\u0000${f.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
