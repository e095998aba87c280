import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
/** The compiled module, as the preload loads it (`npm test` compiles first). */
const DEFER = path.join(ROOT, "dist", "providers", "common", "defer-sdk-modules.js");
/** An empty package for the SDK's dependency walk (arborist's one use) to read. */
const PACKAGE = fs.mkdtempSync(path.join(os.tmpdir(), "defer-sdk-"));
fs.writeFileSync(path.join(PACKAGE, "package.json"), JSON.stringify({ name: "probe", version: "1.0.0", dependencies: {} }));
afterAll(() => fs.rmSync(PACKAGE, { recursive: true, force: true }));

/**
 * Loads Pulumi's SDK in a fresh Node process (with or without the deferral) and reports
 * which of TypeScript and arborist it loaded; then uses each the way a program serializing
 * a dynamic provider does (parse a function, walk a package's dependencies) and reports
 * what that found and what is loaded now.
 */
const PROBE = `
if (process.argv[1] === "defer") require(${JSON.stringify(DEFER)}).deferUnusedSdkModules();
const path = require("node:path");
const loaded = (file) => Object.keys(require.cache).some((f) => f.endsWith(path.join(...file.split("/"))));
const typescript = () => loaded("typescript/lib/typescript.js"), arborist = () => loaded("@npmcli/arborist/lib/index.js");
require("@pulumi/pulumi");
const beforeUse = { typescript: typescript(), arborist: arborist() };
const { parseFunction } = require("@pulumi/pulumi/runtime/closure/parseFunction");
const [error, parsed] = parseFunction("function f(a) { return a + captured; }");
const { computeCodePaths } = require("@pulumi/pulumi/runtime/closure/codePaths");
process.chdir(process.argv[2]);
computeCodePaths().then((paths) => console.log(JSON.stringify({
  beforeUse, afterUse: { typescript: typescript(), arborist: arborist() },
  error, required: [...parsed.capturedVariables.required.keys()], codePaths: [...paths.keys()],
})));
`;

function probe(mode: "defer" | "plain") {
  return JSON.parse(execFileSync(process.execPath, ["-e", PROBE, mode, PACKAGE], { cwd: ROOT, encoding: "utf8" }));
}

describe("TypeScript and arborist loaded by the SDK only when used", () => {
  it("are not loaded with the SDK, and load and work at their first use", () => {
    const deferred = probe("defer");
    expect(deferred.beforeUse).toEqual({ typescript: false, arborist: false });
    expect(deferred.afterUse).toEqual({ typescript: true, arborist: true });
    expect(deferred).toMatchObject({ error: "", required: ["captured"], codePaths: [] });
  });

  it("without the deferral the SDK loads both at once, and parses and walks the same", () => {
    const plain = probe("plain");
    expect(plain.beforeUse).toEqual({ typescript: true, arborist: true });
    expect(plain).toMatchObject({ error: "", required: ["captured"], codePaths: [] });
  });
});
