/**
 * Turns resource declarations (`model/declarations.ts`) into Pulumi resources: each kind's
 * resource class, the stack's management password on every resource, the factory password
 * as a secret, `dependsOn` and output-fed inputs resolved by name. Per-host resources are
 * children of one `smartfleet:fleet:ManagedHost` component per host, as they have always
 * been: their URNs in existing state depend on it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ResourceDeclaration } from "../model/declarations";
import type { ResourceKind } from "../schemas/kinds";
import { AcceleratorShare } from "./accelerator-share";
import type { KindResourceClass } from "./common/kind-resource";
import { DpuOs } from "./dpu-os";
import { DpuService } from "./dpu-service";
import { Host } from "./host";
import { HostDevice } from "./host-device";
import { HostOsInstall } from "./host-os-install";
import { ServicePair } from "./service-pair";
import { SmartNic } from "./smart-nic";

const CLASSES: Record<ResourceKind, KindResourceClass<object, object>> = {
  SmartNic,
  Host,
  DpuOs,
  DpuService,
  HostDevice,
  ServicePair,
  HostOsInstall,
  AcceleratorShare,
} as unknown as Record<ResourceKind, KindResourceClass<object, object>>;

/** One declared resource with its declaration. */
export interface DeclaredResource {
  /** What was declared. */
  declaration: ResourceDeclaration;
  /** The Pulumi resource; read outputs through `output`. */
  resource: pulumi.CustomResource;
}

/** The declared fleet. */
export interface DeclaredFleet {
  /** Every resource, in declaration order. */
  resources: DeclaredResource[];
  /** The output `name` of the resource declared as `resource`. */
  output<T>(resource: string, name: string): pulumi.Output<T>;
}

/** A server's resources grouped under one component. */
class ManagedHost extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("smartfleet:fleet:ManagedHost", name, {}, opts);
    this.registerOutputs({});
  }
}

/**
 * How long the declaring loop runs before it lets the event loop turn. A resource's
 * RegisterResource call only leaves the program when the loop yields: declaring a large
 * fleet in one synchronous stretch (seconds: each registration costs the SDK milliseconds)
 * kept the engine and the provider idle until the last resource was declared. Yielding lets
 * them start on the first hosts while the rest are declared.
 */
const DECLARE_SLICE_MS = 20;

/**
 * Declares every resource; `password` is the management password each claimed DPU gets.
 * Resolves once all are declared (their registrations may still be in flight); yields to
 * the event loop after each `sliceMs` of declaring.
 */
export async function declareResources(
  declarations: readonly ResourceDeclaration[],
  password: pulumi.Input<string>,
  opts?: pulumi.ComponentResourceOptions,
  sliceMs = DECLARE_SLICE_MS,
): Promise<DeclaredFleet> {
  const secretPassword = pulumi.secret(password);
  const byName = new Map<string, pulumi.CustomResource>();
  const components = new Map<string, ManagedHost>();
  const resources: DeclaredResource[] = [];
  const find = (name: string): pulumi.CustomResource => {
    const found = byName.get(name);
    if (!found) throw new Error(`internal: ${name} is used before it is declared`);
    return found;
  };
  let sliceStart = Date.now();
  for (const declaration of declarations) {
    if (Date.now() - sliceStart >= sliceMs) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = Date.now();
    }
    const resource = withoutStackTraces(() => declareOne(declaration, find, secretPassword, components, opts));
    byName.set(declaration.name, resource);
    resources.push({ declaration, resource });
  }
  return {
    resources,
    output: <T>(resource: string, name: string) => (find(resource) as unknown as Record<string, pulumi.Output<T>>)[name],
  };
}

/** Makes the Pulumi resource of one declaration; `find` gives those declared before it. */
function declareOne(
  declaration: ResourceDeclaration,
  find: (name: string) => pulumi.CustomResource,
  secretPassword: pulumi.Output<string>,
  components: Map<string, ManagedHost>,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.CustomResource {
  const parent = declaration.host ? componentOf(components, declaration.host, opts) : undefined;
  const fromOutputs = Object.fromEntries(
    Object.entries(declaration.inputsFrom ?? {}).map(([input, from]) => [input, (find(from.resource) as unknown as Record<string, pulumi.Output<unknown>>)[from.output]]),
  );
  const { username, factoryPassword, peerUsername } = declaration.account;
  const args = {
    ...declaration.inputs,
    ...fromOutputs,
    username,
    password: secretPassword,
    ...(factoryPassword === undefined ? {} : { factoryPassword: pulumi.secret(factoryPassword) }),
    ...(peerUsername === undefined ? {} : { peerUsername }),
  };
  return new CLASSES[declaration.kind](declaration.name, args, { ...(parent ? { parent } : opts), dependsOn: declaration.dependsOn.map(find) });
}

/**
 * Runs `make` with V8's stack traces off. Pulumi's SDK gives every promise it makes while
 * a resource is constructed (one per input property, and more) a formatted stack trace,
 * kept only to print if the promise is still pending when the program exits. Formatting
 * runs each frame through `source-map-support`, which the SDK's program runner installs,
 * and was about half of the program's CPU. The resource's own source position is not lost:
 * the SDK lifts the limit itself while it reads it.
 */
function withoutStackTraces<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Turns V8's stack traces off for the rest of the program, once it has declared its
 * resources. What then runs in the program is the SDK's registration work (serializing
 * inputs, keeping the engine's connection alive for each log line, waiting on outputs),
 * and it still gives every promise it makes a formatted stack trace: about a fifth of the
 * program's CPU during a 500-DPU `up`. Errors after this point lose their frames, not
 * their messages; `SMARTFLEET_STACK_TRACES=1` keeps the traces, to debug the program.
 */
export function stackTracesOffForRegistrations(env: NodeJS.ProcessEnv = process.env): void {
  if (env.SMARTFLEET_STACK_TRACES === "1") return;
  Error.stackTraceLimit = 0;
}

/**
 * Stops the SDK's debug-level log lines from reaching the engine. For every resource the SDK
 * sends three or four ("Registering resource", "RegisterResource RPC prepared", "... finished"),
 * each its own gRPC call, one after another (the SDK keeps log lines in order), and each
 * an event the engine writes to its event log: at 250 DPUs 6,000 calls that cost the
 * program a quarter and the engine a fifth of their CPU, and a preview seconds at its end,
 * while the program waited for the last of them. Pulumi shows them only with `--debug`,
 * and does not tell the program whether it was given; `SMARTFLEET_SDK_DEBUG_LOG=1` keeps
 * them. Warnings, errors and info lines (the program's own and the SDK's) are untouched.
 */
export function sdkDebugLogOff(env: NodeJS.ProcessEnv = process.env): void {
  if (env.SMARTFLEET_SDK_DEBUG_LOG === "1") return;
  // The SDK's modules call `debug` through this module object (`log.debug(...)`).
  Object.defineProperty(pulumi.log, "debug", { value: async () => undefined, writable: true, configurable: true });
}

function componentOf(components: Map<string, ManagedHost>, host: string, opts: pulumi.ComponentResourceOptions | undefined): ManagedHost {
  let component = components.get(host);
  if (!component) components.set(host, (component = new ManagedHost(host, opts)));
  return component;
}
