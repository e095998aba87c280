/**
 * The program-side half of every kind: a Pulumi dynamic resource class built from the
 * kind's implementation. Every kind file ends with one line instead of a hand-written
 * class: the provider in state is the kind's lazy provider, outputs that are not inputs
 * start unknown, and the credentials are secret in the outputs too.
 *
 * The class is what Pulumi's `dynamic.Resource` is (a custom resource of type
 * `pulumi-nodejs:dynamic/<module>:<kind>` whose `__provider` input is the serialized
 * provider, which Pulumi's dynamic-provider host runs), but takes the provider's text from
 * `serialized-provider.ts`, which keeps it between runs: `dynamic.Resource` serializes it
 * again in every program.
 */
import * as pulumi from "@pulumi/pulumi";
import { kindRow, TYPE_MODULE, type ResourceKind } from "../../schemas/kinds";
import { PROVIDER_KEY, type KindImplementation } from "./kind";
import { lazyProvider } from "./lazy-provider";
import { serializedProvider } from "./serialized-provider";

/** The Pulumi inputs of a kind: any input may be an Output. */
export type ResourceArgs<I> = { [K in keyof I]: pulumi.Input<I[K]> };

/** The outputs a kind's resource exposes: every output property of its implementation. */
export type ResourceOutputs<O> = { readonly [K in keyof O]-?: pulumi.Output<O[K]> };

/** The class of a kind's resources. */
export type KindResourceClass<I, O> = new (name: string, args: ResourceArgs<I>, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource & ResourceOutputs<O>;

/** Credentials that must be encrypted wherever they land in state. */
const SECRET_CREDENTIALS = new Set(["password", "factoryPassword"]);

/** The resource class of the kind `implementation` implements; one per kind, made at module load. */
export function kindResource<I extends object, O extends I>(implementation: KindImplementation<I, O>): KindResourceClass<I, O> {
  const kind = implementation.kind as ResourceKind;
  const file = `${kindRow(kind)?.providerFile}.js`;
  const provider = lazyProvider(file);
  const type = `pulumi-nodejs:dynamic/${TYPE_MODULE}:${kind}`;
  const unknownOutputs = Object.fromEntries(implementation.outputOnly.map((key) => [key, undefined]));
  const secrets = implementation.credentials.filter((key) => SECRET_CREDENTIALS.has(key));
  class KindResource extends pulumi.CustomResource {
    constructor(name: string, args: ResourceArgs<I>, opts?: pulumi.CustomResourceOptions) {
      const additionalSecretOutputs = [...(opts?.additionalSecretOutputs ?? []), ...secrets];
      const props = { ...args, ...unknownOutputs, [PROVIDER_KEY]: serializedProvider(file, provider) };
      super(type, name, props, { ...opts, additionalSecretOutputs });
    }
  }
  return KindResource as unknown as KindResourceClass<I, O>;
}
