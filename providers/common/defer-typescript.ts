/**
 * Pulumi's SDK requires TypeScript (about 40 MiB of a process's memory) as soon as it is
 * loaded, for turning functions into source text: only a program serializing a dynamic
 * provider does that, never the dynamic-provider host that runs one. With 8 shards in
 * flight that is 8 × 40 MiB for nothing.
 */
import Module from "node:module";

type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;

/** The module loader's internal entry point, which every `require` goes through. */
const loader = Module as unknown as { _load: Load };

/**
 * Makes the SDK's `require("typescript")` (from its `typescript-shim.js`) return a stand-in
 * that loads TypeScript on first use. Only that one require is affected, and only the
 * first time: the hook removes itself when it has handed out the stand-in.
 */
export function deferTypeScriptLoad(): void {
  const load = loader._load;
  loader._load = function (this: unknown, request, parent, isMain) {
    if (request !== "typescript" || !parent?.filename?.endsWith("typescript-shim.js")) return load.call(this, request, parent, isMain);
    loader._load = load;
    let real: object | undefined;
    const typescript = (): object => (real ??= load.call(this, request, parent, isMain) as object);
    return new Proxy({}, {
      get: (_target, key) => Reflect.get(typescript(), key),
      has: (_target, key) => Reflect.has(typescript(), key),
      ownKeys: () => Reflect.ownKeys(typescript()),
      // Reported configurable: the empty target holds none of them, and a proxy may not
      // report a non-configurable property its target lacks.
      getOwnPropertyDescriptor: (_target, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(typescript(), key);
        return descriptor && { ...descriptor, configurable: true };
      },
    });
  };
}
