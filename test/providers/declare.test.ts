import { createRequire } from "node:module";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { declareResources, sdkDebugLogOff, stackTracesOffForRegistrations } from "../../providers/declare";

const LAB = path.resolve(__dirname, "..", "..", "stacks", "lab.yaml");

/** Names the engine (Pulumi's mocks) was asked to register, in order. */
const registered: string[] = [];

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("declaring a fleet", () => {
  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push(args.name);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "smartfleet",
      "declare",
      false,
    );
  });

  it("sends registrations while it is still declaring, so the engine can start on the first hosts", async () => {
    const declarations = resourceDeclarations(loadStackSync(LAB));
    let declaredAll = false;
    // A slice of 0 ms yields before every resource: the finest interleaving.
    const declaring = declareResources(declarations, "Managed-Pa55word!", undefined, 0).then((fleet) => {
      declaredAll = true;
      return fleet;
    });
    while (registered.length === 0 && !declaredAll) await nextTurn();
    expect(registered.length, "a registration reached the engine").toBeGreaterThan(0);
    expect(declaredAll, "the loop was still declaring when it did").toBe(false);

    const fleet = await declaring;
    expect(fleet.resources.map((r) => r.declaration.name)).toEqual(declarations.map((d) => d.name));
    // Every resource, and the component of each host, reaches the engine in the end.
    while (registered.length < declarations.length + 4) await nextTurn();
    expect(new Set(registered)).toEqual(new Set([...declarations.map((d) => d.name), "esx-01", "esx-02", "esx-03", "esx-04"]));
  });

  it("constructs each resource with V8's stack traces off (the SDK's per-promise traces cost half the program's CPU)", async () => {
    // The SDK's own module object, as its Resource constructor calls it.
    const runtimeResource = createRequire(__filename)("@pulumi/pulumi/runtime/resource") as { registerResource: (...args: unknown[]) => unknown };
    const limits: number[] = [];
    const register = runtimeResource.registerResource;
    const spy = vi.spyOn(runtimeResource, "registerResource").mockImplementation((...args: unknown[]) => {
      limits.push(Error.stackTraceLimit);
      return register(...args);
    });
    try {
      await declareResources(resourceDeclarations(loadStackSync(LAB)).slice(0, 3), "Managed-Pa55word!");
    } finally {
      spy.mockRestore();
    }
    // The three resources and their host's component, each registered with no frames to format.
    expect(limits).toEqual([0, 0, 0, 0]);
    expect(Error.stackTraceLimit).toBeGreaterThan(0);
  });

  it("puts V8's stack trace limit back after declaring, also when a declaration fails", async () => {
    const limit = Error.stackTraceLimit;
    const [first, ...rest] = resourceDeclarations(loadStackSync(LAB));
    await declareResources([first, ...rest.slice(0, 3)], "Managed-Pa55word!");
    expect(Error.stackTraceLimit).toBe(limit);

    const orphan = { ...first, name: "orphan", dependsOn: ["not-declared"] };
    await expect(declareResources([orphan], "Managed-Pa55word!")).rejects.toThrow("internal: not-declared is used before it is declared");
    expect(Error.stackTraceLimit).toBe(limit);
  });

  it("leaves stack traces off for the SDK's registration work once the program has declared, unless SMARTFLEET_STACK_TRACES=1", async () => {
    // The SDK's own module object: its registration code calls debuggablePromise through it.
    const debuggable = createRequire(__filename)("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: (...args: unknown[]) => unknown };
    const wrap = debuggable.debuggablePromise;
    const limits: number[] = [];
    const spy = vi.spyOn(debuggable, "debuggablePromise").mockImplementation((...args: unknown[]) => {
      limits.push(Error.stackTraceLimit);
      return wrap(...args);
    });
    const limit = Error.stackTraceLimit;
    const declarations = resourceDeclarations(loadStackSync(LAB)).slice(0, 3);
    try {
      stackTracesOffForRegistrations({ SMARTFLEET_STACK_TRACES: "1" });
      expect(Error.stackTraceLimit, "kept on request").toBe(limit);

      await declareResources(declarations, "Managed-Pa55word!");
      stackTracesOffForRegistrations({});
      const declared = limits.length;
      // The SDK goes on with those registrations after the program's own code is done.
      for (let turn = 0; turn < 50 && limits.length === declared; turn++) await nextTurn();
      const later = limits.slice(declared);
      expect(later.length, "the SDK made promises after the declarations").toBeGreaterThan(0);
      expect(new Set(later)).toEqual(new Set([0]));
    } finally {
      spy.mockRestore();
      Error.stackTraceLimit = limit;
    }
  });
  it("keeps the SDK's debug lines from the engine, and nothing else, unless SMARTFLEET_SDK_DEBUG_LOG=1", async () => {
    // The SDK's own modules: its registration code logs through this module object, to the engine settings give.
    const sdk = createRequire(__filename);
    const log = sdk("@pulumi/pulumi/log") as { debug: (msg: string) => Promise<void>; warn: (msg: string) => Promise<void> };
    const settings = sdk("@pulumi/pulumi/runtime/settings") as { getEngine: () => unknown };
    const sent: string[] = [];
    const engine = { log: (req: { getMessage(): string }, done: () => void) => void (sent.push(req.getMessage()), done()) };
    const spy = vi.spyOn(settings, "getEngine").mockReturnValue(engine);
    const original = log.debug;
    try {
      sdkDebugLogOff({ SMARTFLEET_SDK_DEBUG_LOG: "1" });
      await log.debug("kept on request");
      sdkDebugLogOff({});
      await log.debug("Registering resource: t=smartfleet:SmartNic");
      await log.warn("a warning still reaches the engine");
      expect(sent).toEqual(["kept on request", "a warning still reaches the engine"]);
    } finally {
      spy.mockRestore();
      log.debug = original;
    }
  });
});
