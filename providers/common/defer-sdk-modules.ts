/**
 * Pulumi's SDK loads large libraries as soon as it is loaded: TypeScript (about 40 MiB of a
 * process's memory), npm's arborist (about 15 MiB) and normalize-package-data (about 11 MiB
 * loaded alone; the SDK's own reader of package.json files where arborist fails), for
 * turning functions into source text and finding the packages they use, and its Automation
 * API (0.05–0.1 s). Only a program serializing a dynamic provider uses TypeScript; nothing
 * the engine starts walks a package's dependencies (function serialization with code
 * paths) or uses the Automation API (that drives the engine from outside). With 8 shards
 * in flight that is 8 hosts × 60 MiB or more, and 0.3 s of each host's and 0.25 s of each
 * program's start, for nothing.
 */
import Module from "node:module";
import * as path from "node:path";

type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;

/** The module loader's internal entry point, which every `require` goes through. */
const loader = Module as unknown as { _load: Load };

/** A require the SDK makes at load time and the host never needs. */
interface Deferred {
  request: string;
  /** The SDK file that makes it: the same request from anywhere else loads as usual. */
  from: string;
  /**
   * The answer to `__esModule`, which the SDK's `__importStar` asks before anything else:
   * true makes it use the stand-in as the module (its only use is `arborist.Arborist`);
   * asking the real module would load it.
   */
  esModule?: true;
  /** The module is a function (`module.exports = fn`): the stand-in is callable and not an ES module. */
  callable?: true;
}

/** What can be deferred, by the name a caller gives. */
export const DEFERRABLE = {
  typescript: { request: "typescript", from: path.join("@pulumi", "pulumi", "typescript-shim.js") },
  arborist: { request: "@npmcli/arborist", from: path.join("@pulumi", "pulumi", "runtime", "closure", "codePaths.js"), esModule: true },
  automation: { request: "./automation", from: path.join("@pulumi", "pulumi", "index.js"), esModule: true },
  normalizePackageData: { request: "normalize-package-data", from: path.join("@pulumi", "pulumi", "runtime", "closure", "codePaths.js"), callable: true },
} as const satisfies Record<string, Deferred>;

/**
 * Makes the SDK's requires of the modules named (TypeScript from its `typescript-shim.js`,
 * arborist from `runtime/closure/codePaths.js`, the Automation API from its `index.js`)
 * return stand-ins that load the real module on first use. Only those requires are
 * affected, each only the first time; the hook removes itself once it has handed out all.
 */
export function deferUnusedSdkModules(names: ReadonlyArray<keyof typeof DEFERRABLE> = ["typescript", "arborist", "automation", "normalizePackageData"]): void {
  const load = loader._load;
  const pending: Deferred[] = names.map((name) => DEFERRABLE[name]);
  loader._load = function (this: unknown, request, parent, isMain) {
    const index = pending.findIndex((d) => d.request === request && parent?.filename?.endsWith(d.from));
    if (index < 0) return load.call(this, request, parent, isMain);
    const [deferred] = pending.splice(index, 1);
    if (!pending.length) loader._load = load;
    const loadReal = () => load.call(this, request, parent, isMain) as object;
    return deferred.callable ? callableStandIn(loadReal) : standIn(loadReal, deferred.esModule);
  };
}

/** A module object that loads the real one (once) when any of it is read. */
function standIn(loadReal: () => object, esModule?: true): object {
  let real: object | undefined;
  const module = (): object => (real ??= loadReal());
  return new Proxy({}, {
    get: (_target, key) => (key === "__esModule" && esModule ? true : Reflect.get(module(), key)),
    has: (_target, key) => Reflect.has(module(), key),
    ownKeys: () => Reflect.ownKeys(module()),
    // Reported configurable: the empty target holds none of them, and a proxy may not
    // report a non-configurable property its target lacks.
    getOwnPropertyDescriptor: (_target, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(module(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/**
 * A stand-in for a module that is a function, loaded (once) when called or read. It says it
 * is no ES module without loading anything, so the SDK's `__importDefault` wraps it as
 * `{ default: stand-in }` and calls it later. The target is an arrow function: it has no
 * `prototype`, whose non-configurable descriptor a proxy would have to report.
 */
export function callableStandIn(loadReal: () => object): object {
  let real: ((...args: unknown[]) => unknown) | undefined;
  const module = () => (real ??= loadReal() as (...args: unknown[]) => unknown);
  return new Proxy(() => undefined, {
    apply: (_target, thisArg, args) => Reflect.apply(module(), thisArg, args),
    get: (_target, key) => (key === "__esModule" ? undefined : Reflect.get(module(), key)),
  });
}

/**
 * Leaves the SDK's inspector session (`runtime/closure/v8Hooks.js`) to be opened when
 * closure serialization first asks for it, not before the program runs. Pulumi's program
 * runner (`runnerScript`) opens it first thing to hear V8's `scriptParsed` events, but the
 * debugger reports every script it knows when it is enabled, so opening it later loses
 * nothing. An enabled debugger costs every program: loading modules took a quarter more
 * CPU, and a promise reaction about five times as much (200,000 of them: 250 ms instead of
 * 55), and the SDK makes hundreds per resource. A program whose providers' texts are kept
 * (`serialized-provider.ts`) serializes nothing and never opens it. False (and nothing
 * changed) when the runner's SDK has no such hook.
 */
export function deferInspectorSession(runnerScript: string): boolean {
  const file = path.join(path.dirname(runnerScript), "..", "..", "runtime", "closure", "v8Hooks.js");
  let hooks: { isInitializedAsync?: () => Promise<void> };
  try {
    hooks = require(file) as typeof hooks;
  } catch {
    return false;
  }
  if (typeof hooks.isInitializedAsync !== "function") return false;
  hooks.isInitializedAsync = async () => undefined;
  return true;
}
