/**
 * Loaded with `node --require` into the Node processes a Pulumi engine starts from
 * `smartfleet` or `npm run pulumi` (both put it in `NODE_OPTIONS`). In Pulumi's
 * dynamic-provider host it starts the engine watch at once
 * (`watchUntilConfigured`, `engine-watch.ts`). In both the host and the program runner it
 * defers the SDK's load of TypeScript, arborist, normalize-package-data and the Automation
 * API (`defer-sdk-modules.ts`): the host never uses them, and a program uses TypeScript only
 * to serialize a provider whose text is not kept yet (`serialized-provider.ts`), which is
 * also when the program runner now opens its inspector session. In both it
 * gives the SDK's google-protobuf the faster codec of resource properties (`struct-codec.ts`).
 * Anywhere else (a policy pack, the host's own `node -e` lookup) it does nothing.
 */
import * as fs from "node:fs";

/** True for the script of Pulumi's Node dynamic-provider host. */
export function isDynamicProviderHost(script: string | undefined): boolean {
  return /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]dynamic-provider[\\/]index\.js$/.test(script ?? "");
}

/** True for the script of Pulumi's Node program runner. */
export function isProgramRunner(script: string | undefined): boolean {
  return /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]run[\\/]index\.js$/.test(script ?? "");
}

/**
 * `nodeOptions` with this preload added (once). Unchanged when the compiled preload is
 * missing: a `--require` of a missing file would stop every Node process Pulumi starts.
 */
export function withEngineWatchPreload(nodeOptions: string | undefined, preload = __filename): string | undefined {
  if (!preload.endsWith(".js") || !fs.existsSync(preload) || nodeOptions?.includes(preload)) return nodeOptions;
  return [nodeOptions, `--require ${JSON.stringify(preload)}`].filter(Boolean).join(" ");
}

if (isDynamicProviderHost(process.argv[1])) {
  // Required only here: the CLI loads this module for the function above.
  (require("./defer-sdk-modules") as typeof import("./defer-sdk-modules")).deferUnusedSdkModules();
  (require("./engine-watch") as typeof import("./engine-watch")).watchUntilConfigured();
  (require("./struct-codec") as typeof import("./struct-codec")).installStructCodecForSdk(process.argv[1]);
} else if (isProgramRunner(process.argv[1])) {
  const defer = require("./defer-sdk-modules") as typeof import("./defer-sdk-modules");
  defer.deferUnusedSdkModules();
  defer.deferInspectorSession(process.argv[1] as string);
  (require("./struct-codec") as typeof import("./struct-codec")).installStructCodecForSdk(process.argv[1]);
}
