/**
 * The provider object Pulumi serializes into every resource's state.
 *
 * Pulumi stores the text of a dynamic provider (its closure) in each resource's state and
 * runs that stored text for refresh and delete. Serializing the real implementation would
 * bloat the state and freeze old code into it. This object instead finds the compiled
 * implementation at run time: its `configure` (which the dynamic-provider host calls once,
 * right after it deserializes the provider and before any other method) loads
 * `dist/providers/<file>.js` from the project and installs that module's methods on
 * itself. The stored text stays under 2 KB, holds no path of this machine, and does not
 * change when the implementation does.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Methods the loaded implementation contributes; `configure` is called by the shim itself. */
const FORWARDED_METHODS = ["check", "diff", "create", "read", "update", "delete"] as const;

/**
 * A serializable provider for the kind implemented in `dist/providers/<file>`.
 *
 * The implementation module must export `implementation` with `configure` and the
 * methods in {@link FORWARDED_METHODS}. The file is looked up from the working directory
 * (the project root when Pulumi runs the provider) upwards, so a program in a sub-folder
 * of the project (examples/typescript) finds the same build.
 */
export function lazyProvider(file: string): pulumi.dynamic.ResourceProvider {
  // Everything below is serialized as source text: it may use only `file`, `require`,
  // `process` and literals. No imports, no helpers from this module.
  const methods = FORWARDED_METHODS;
  return {
    async configure(request: pulumi.dynamic.ConfigureRequest): Promise<void> {
      const { dirname, join } = require("node:path");
      const { existsSync } = require("node:fs");
      for (let dir: string = process.cwd(), parent = ""; parent !== dir; parent = dir, dir = dirname(dir)) {
        const candidate: string = join(dir, "dist", "providers", file);
        if (!existsSync(candidate)) continue;
        const implementation = require(candidate).implementation;
        for (const name of methods) (this as unknown as Record<string, unknown>)[name] = implementation[name].bind(implementation);
        return implementation.configure(request);
      }
      throw new Error(`no dist/providers/${file} above ${process.cwd()}: npm run build`);
    },
    async create(): Promise<pulumi.dynamic.CreateResult> {
      throw new Error(`${file}: not configured`);
    },
  };
}
