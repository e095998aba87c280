/**
 * The program-side half of every kind: a Pulumi dynamic resource class built from the
 * kind's implementation, as Pulumi's own `dynamic.Resource` is fed a provider. Every kind
 * file ends with one line instead of a hand-written class: the provider in state is the
 * kind's lazy provider, outputs that are not inputs start unknown, and the credentials are
 * secret in the outputs too.
 */
import * as pulumi from "@pulumi/pulumi";
import { kindRow, TYPE_MODULE, type ResourceKind } from "../../schemas/kinds";
import type { KindImplementation } from "./kind";
import { lazyProvider } from "./lazy-provider";

/** The Pulumi inputs of a kind: any input may be an Output. */
export type ResourceArgs<I> = { [K in keyof I]: pulumi.Input<I[K]> };

/** The outputs a kind's resource exposes: every output property of its implementation. */
export type ResourceOutputs<O> = { readonly [K in keyof O]-?: pulumi.Output<O[K]> };

/** The class of a kind's resources. */
export type KindResourceClass<I, O> = new (name: string, args: ResourceArgs<I>, opts?: pulumi.CustomResourceOptions) => pulumi.dynamic.Resource & ResourceOutputs<O>;

/** Credentials that must be encrypted wherever they land in state. */
const SECRET_CREDENTIALS = new Set(["password", "factoryPassword"]);

/** The resource class of the kind `implementation` implements; one per kind, made at module load. */
export function kindResource<I extends object, O extends I>(implementation: KindImplementation<I, O>): KindResourceClass<I, O> {
  const kind = implementation.kind as ResourceKind;
  const provider = lazyProvider(`${kindRow(kind)?.providerFile}.js`);
  const unknownOutputs = Object.fromEntries(implementation.outputOnly.map((key) => [key, undefined]));
  const secrets = implementation.credentials.filter((key) => SECRET_CREDENTIALS.has(key));
  class KindResource extends pulumi.dynamic.Resource {
    constructor(name: string, args: ResourceArgs<I>, opts?: pulumi.CustomResourceOptions) {
      const additionalSecretOutputs = [...(opts?.additionalSecretOutputs ?? []), ...secrets];
      super(provider, name, { ...args, ...unknownOutputs }, { ...opts, additionalSecretOutputs }, TYPE_MODULE, kind);
    }
  }
  return KindResource as unknown as KindResourceClass<I, O>;
}
