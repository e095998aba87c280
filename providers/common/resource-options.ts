/**
 * Resource options every kind applies when it declares a Pulumi resource.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The Pulumi module of every kind: type tokens read `pulumi-nodejs:dynamic/smartfleet:<Kind>`. */
export const TYPE_MODULE = "smartfleet";

/**
 * Adds `additionalSecretOutputs` for `keys`: credentials travel as secret inputs, and
 * their copies in the outputs must be encrypted in state too.
 */
export function withSecrets(opts: pulumi.CustomResourceOptions | undefined, keys: readonly string[]): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...keys] };
}
