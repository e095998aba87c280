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
 * Loads Pulumi's SDK in a fresh Node process (deferring the modules named, or none) and
 * reports which of TypeScript, arborist, normalize-package-data and the Automation API it loaded; then uses each
 * the way its users do (parse a function and walk a package's dependencies, as a program
 * serializing a dynamic provider does; make a workspace through `pulumi.automation`) and
 * reports what that found and what is loaded now.
 */
const PROBE = `
const names = JSON.parse(process.argv[1]);
if (names.length) require(${JSON.stringify(DEFER)}).deferUnusedSdkModules(names);
const path = require("node:path");
const loaded = (file) => Object.keys(require.cache).some((f) => f.endsWith(path.join(...file.split("/"))));
const state = () => ({ typescript: loaded("typescript/lib/typescript.js"), arborist: loaded("@npmcli/arborist/lib/index.js"), automation: loaded("@pulumi/pulumi/automation/index.js"), normalize: loaded("normalize-package-data/lib/normalize.js") });
const pulumi = require("@pulumi/pulumi");
const beforeUse = state();
const { parseFunction } = require("@pulumi/pulumi/runtime/closure/parseFunction");
const [error, parsed] = parseFunction("function f(a) { return a + captured; }");
const { computeCodePaths } = require("@pulumi/pulumi/runtime/closure/codePaths");
process.chdir(process.argv[2]);
const workspace = typeof pulumi.automation.LocalWorkspace.create;
computeCodePaths().then((paths) => console.log(JSON.stringify({
  beforeUse, afterUse: state(),
  error, required: [...parsed.capturedVariables.required.keys()], codePaths: [...paths.keys()], workspace,
})));
`;

function probe(names: string[]) {
  return JSON.parse(execFileSync(process.execPath, ["-e", PROBE, JSON.stringify(names), PACKAGE], { cwd: ROOT, encoding: "utf8" }));
}

const ALL_LOADED = { typescript: true, arborist: true, automation: true, normalize: true };
const WORKING = { error: "", required: ["captured"], codePaths: [], workspace: "function" };

describe("TypeScript, arborist, normalize-package-data and the Automation API loaded by the SDK only when used", () => {
  it("are not loaded with the SDK, and load and work at their first use (the deferral of the provider host and of the program)", () => {
    const deferred = probe(["typescript", "arborist", "automation", "normalizePackageData"]);
    expect(deferred.beforeUse).toEqual({ typescript: false, arborist: false, automation: false, normalize: false });
    expect(deferred.afterUse).toEqual(ALL_LOADED);
    expect(deferred).toMatchObject(WORKING);
  });

  it("without the deferral the SDK loads all three at once, and parses, walks and drives the same", () => {
    const plain = probe([]);
    expect(plain.beforeUse).toEqual(ALL_LOADED);
    expect(plain).toMatchObject(WORKING);
  });

  it("the command line's deferral: \`smartfleet\` loads the Automation API without TypeScript or arborist, and both still work", () => {
    const cli = path.join(ROOT, "dist", "cli", "main.js");
    const probeCli = PROBE.replace(/^if \(names\.length\).*$/m, `require(${JSON.stringify(cli)}).main(["--version"]);`).replace('const pulumi = require("@pulumi/pulumi");', 'const pulumi = require("@pulumi/pulumi"); require("@pulumi/pulumi/automation");');
    const found = JSON.parse(execFileSync(process.execPath, ["-e", probeCli, "[]", PACKAGE], { cwd: ROOT, encoding: "utf8" }).split("\n").filter(Boolean).pop() as string);
    expect(found.beforeUse).toEqual({ typescript: false, arborist: false, automation: true, normalize: false });
    expect(found.afterUse).toEqual(ALL_LOADED);
    expect(found).toMatchObject(WORKING);
  });
});

describe("the stand-in of a module that is a function (normalize-package-data)", () => {
  it("loads nothing until called, then is the module: the SDK's __importDefault wraps it and its call normalizes", async () => {
    const { callableStandIn } = await import("../../providers/common/defer-sdk-modules");
    let loads = 0;
    const standIn = callableStandIn(() => {
      loads += 1;
      return require("normalize-package-data");
    }) as { __esModule?: boolean };
    // What `__importDefault(require(...))` in the SDK's codePaths.js does with it.
    const imported = standIn && standIn.__esModule ? standIn : { default: standIn as unknown as (data: object) => void };
    expect(loads).toBe(0);
    const data = { name: "probe", version: "1.0.0", repository: "github:owner/probe" };
    (imported.default as (data: object) => void)(data);
    (imported.default as (data: object) => void)({ name: "again", version: "2.0.0" });
    expect(loads).toBe(1);
    expect(data).toMatchObject({ repository: { type: "git", url: "git+https://github.com/owner/probe.git" }, _id: "probe@1.0.0" });
  });
});

describe("the program runner's inspector session, opened when serialization first needs it", () => {
  /**
   * In a fresh process: makes the runner's hook wait (deferred or not), as Pulumi's program
   * runner does before the program, then serializes a kind's lazy provider as a program does
   * when its text is not kept. Reports the inspector sessions connected before and after,
   * and the text.
   */
  const SESSION_PROBE = `
const path = require("node:path");
const inspector = require("node:inspector");
let connects = 0;
const connect = inspector.Session.prototype.connect;
inspector.Session.prototype.connect = function () { connects++; return connect.call(this); };
const runner = require.resolve("@pulumi/pulumi/cmd/run/index.js");
if (process.argv[1] === "deferred") require(${JSON.stringify(DEFER)}).deferInspectorSession(runner);
const hooks = require(path.join(path.dirname(runner), "..", "..", "runtime", "closure", "v8Hooks.js"));
hooks.isInitializedAsync().then(async () => {
  const before = connects;
  const pulumi = require("@pulumi/pulumi");
  const { lazyProvider } = require(${JSON.stringify(path.join(ROOT, "dist", "providers", "common", "lazy-provider.js"))});
  const provider = lazyProvider("smart-nic.js");
  const { text } = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
  console.log(JSON.stringify({ before, after: connects, text }));
});
`;
  const run = (mode: string) => JSON.parse(execFileSync(process.execPath, ["-e", SESSION_PROBE, mode], { cwd: ROOT, encoding: "utf8" }));

  it("is not opened before the program runs; serializing opens it and makes the same text as when it was opened first", () => {
    const eager = run("eager");
    const deferred = run("deferred");
    expect(eager).toMatchObject({ before: 1, after: 1 });
    expect(deferred).toMatchObject({ before: 0, after: 1 });
    expect(deferred.text).toBe(eager.text);
    expect(deferred.text).toContain("smart-nic.js");
  });

  it("changes nothing when the runner's SDK has no such hook", async () => {
    const { deferInspectorSession } = await import("../../providers/common/defer-sdk-modules");
    expect(deferInspectorSession(path.join(PACKAGE, "cmd", "run", "index.js"))).toBe(false);
  });
});
