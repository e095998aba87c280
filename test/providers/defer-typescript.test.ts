import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
/** The compiled module, as the preload loads it (`npm test` compiles first). */
const DEFER = path.join(ROOT, "dist", "providers", "common", "defer-typescript.js");

/**
 * Loads Pulumi's SDK in a fresh Node process (with or without the deferral), reports
 * whether TypeScript was loaded, then parses a function the way the SDK does when it
 * serializes one, and reports what that found and whether TypeScript is loaded now.
 */
const PROBE = `
if (process.argv[1] === "defer") require(${JSON.stringify(DEFER)}).deferTypeScriptLoad();
const loaded = () => Object.keys(require.cache).some((file) => file.endsWith(require("node:path").join("typescript", "lib", "typescript.js")));
require("@pulumi/pulumi");
const beforeUse = loaded();
const { parseFunction } = require("@pulumi/pulumi/runtime/closure/parseFunction");
const [error, parsed] = parseFunction("function f(a) { return a + captured; }");
console.log(JSON.stringify({ beforeUse, afterUse: loaded(), error, required: [...parsed.capturedVariables.required.keys()] }));
`;

function probe(mode: "defer" | "plain"): { beforeUse: boolean; afterUse: boolean; error: string; required: string[] } {
  return JSON.parse(execFileSync(process.execPath, ["-e", PROBE, mode], { cwd: ROOT, encoding: "utf8" }));
}

describe("TypeScript loaded by the SDK only when used", () => {
  it("is not loaded with the SDK, and loads and works at its first use", () => {
    const deferred = probe("defer");
    expect(deferred.beforeUse).toBe(false);
    expect(deferred.afterUse).toBe(true);
    expect(deferred).toMatchObject({ error: "", required: ["captured"] });
  });

  it("without the deferral the SDK loads it at once, and parses the same", () => {
    const plain = probe("plain");
    expect(plain.beforeUse).toBe(true);
    expect(plain).toMatchObject({ error: "", required: ["captured"] });
  });
});
