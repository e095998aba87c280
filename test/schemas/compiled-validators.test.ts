import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type { ErrorObject } from "ajv";
import { loadStackSync } from "../../model/load";
import { resourceDeclarations } from "../../model/declarations";
import { kindRow } from "../../schemas/kinds";
import { parseYamlFile } from "../../schemas/yaml-source";
import { seededRandom } from "../support/seeded-random";

const ROOT = path.resolve(__dirname, "..", "..");
const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-validators-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

afterEach(() => vi.unstubAllEnvs());

type ValidateModule = typeof import("../../schemas/validate");

/** A fresh copy of the validate module (no validator in memory) with `cacheDir` as the cache ("" for none). */
async function freshValidate(cacheDir: string): Promise<ValidateModule> {
  vi.resetModules();
  vi.stubEnv("SMARTFLEET_CACHE_DIR", cacheDir);
  return import("../../schemas/validate");
}

function entriesIn(cacheDir: string): string[] {
  const dir = path.join(cacheDir, "validators");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith(".js")) : [];
}

/** Every object and array in `value` with the way to reach it. */
function containers(value: unknown, out: Array<Record<string, unknown> | unknown[]> = []): Array<Record<string, unknown> | unknown[]> {
  if (value && typeof value === "object") {
    out.push(value as Record<string, unknown>);
    for (const child of Object.values(value)) containers(child, out);
  }
  return out;
}

const WRONG_VALUES: unknown[] = [null, 0, -1, 1e9, 2.5, "", "x".repeat(300), "not-an-address", true, [], {}, ["a"], { unexpected: 1 }];

/** `document` with one to three random changes: values replaced, keys dropped or added, items dropped. */
function mutant(document: unknown, random: () => number): unknown {
  const copy = structuredClone(document);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  for (let changes = 1 + Math.floor(random() * 3); changes > 0; changes--) {
    const target = pick(containers(copy));
    const keys = Object.keys(target);
    const action = random();
    if (Array.isArray(target)) {
      if (target.length && action < 0.3) target.splice(Math.floor(random() * target.length), 1);
      else if (target.length) target[Math.floor(random() * target.length)] = pick(WRONG_VALUES);
    } else if (action < 0.25 && keys.length) delete target[pick(keys)];
    else if (action < 0.35) target[`extra${Math.floor(random() * 10)}`] = pick(WRONG_VALUES);
    else if (keys.length) target[pick(keys)] = structuredClone(pick(WRONG_VALUES));
  }
  return copy;
}

/** What a validation says: its verdict, its errors as ajv gives them, and the document after defaults were filled in. */
function outcome(validate: ReturnType<ValidateModule["validatorFor"]>, document: unknown) {
  const copy = structuredClone(document);
  const valid = validate(copy);
  const errors = (validate.errors ?? []).map((e: ErrorObject) => ({ ...e, schema: e.schema, parentSchema: e.parentSchema, data: e.data }));
  return { valid, errors: valid ? [] : errors, document: copy };
}

/** Documents of every schema the product validates: the example stacks, an inventory and each kind's resource inputs. */
function samples(): Array<{ schema: string; document: unknown }> {
  const out: Array<{ schema: string; document: unknown }> = [];
  for (const name of ["datacenter", "lab-east", "needs-review"]) {
    const file = path.join(ROOT, "examples", "stacks", `${name}.yaml`);
    out.push({ schema: "stack", document: parseYamlFile(file).value });
    for (const declaration of resourceDeclarations(loadStackSync(file))) out.push({ schema: kindRow(declaration.kind).inputSchema, document: declaration.inputs });
  }
  for (const inventory of ["stacks/fleet.yaml", "lab/fleet.yaml"]) out.push({ schema: "fleet", document: parseYamlFile(path.join(ROOT, "examples", inventory)).value });
  return out;
}

describe("validators kept as code", () => {
  it("judge valid and mutated documents exactly as the compiled schemas do: verdict, every error and the defaults filled in", async () => {
    const random = seededRandom(15);
    const all = samples();
    expect(new Set(all.map((s) => s.schema)).size).toBeGreaterThanOrEqual(8);
    const cases = all.flatMap(({ schema, document }) => [document, ...Array.from({ length: 12 }, () => mutant(document, random))].map((candidate) => ({ schema, candidate })));
    // The cache setting is read when a validator is first asked for: each side runs whole under its own.
    const compiled = await freshValidate("");
    const expected = cases.map(({ schema, candidate }) => outcome(compiled.validatorFor(compiled.schemaPath(schema)), candidate));
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    await freshValidate(cacheDir).then((m) => m.validatorFor(m.schemaPath("stack")));
    expect(entriesIn(cacheDir)).toHaveLength(1);
    // A second start reads the entry: these are the validators a warm process runs.
    const kept = await freshValidate(cacheDir);
    cases.forEach(({ schema, candidate }, i) => {
      expect(outcome(kept.validatorFor(kept.schemaPath(schema)), candidate), `${schema}: ${JSON.stringify(candidate).slice(0, 200)}`).toEqual(expected[i]);
    });
    // The mutants must exercise the error paths, several errors at once among them.
    expect(expected.filter((e) => !e.valid).length).toBeGreaterThan(all.length * 6);
    expect(expected.filter((e) => e.errors.length > 1).length).toBeGreaterThan(all.length * 3);
  });

  it("spare a warm process ajv's compiler, and stay in one entry per set of schemas", () => {
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    const script = `
      const v = require(${JSON.stringify(path.join(ROOT, "dist", "schemas", "validate.js"))});
      const ok = v.validatorFor(v.schemaPath("smartnic-inputs"))({});
      const compiler = Object.keys(require.cache).some((f) => /ajv[\\\\/]dist[\\\\/](core|2020|compile)/.test(f));
      process.stdout.write(JSON.stringify({ ok, compiler }));`;
    const run = () => JSON.parse(execFileSync(process.execPath, ["-e", script], { env: { ...process.env, SMARTFLEET_CACHE_DIR: cacheDir } }).toString());
    expect(run()).toEqual({ ok: false, compiler: true });
    expect(run()).toEqual({ ok: false, compiler: false });
    expect(entriesIn(cacheDir)).toHaveLength(1);
  });

  it("are made again when a schema changes, and never taken from a damaged entry", async () => {
    const schemas = fs.mkdtempSync(path.join(root, "schemas-"));
    const schemaFile = path.join(schemas, "pet.schema.json");
    const pet = (kinds: string[]) => JSON.stringify({ type: "object", properties: { kind: { enum: kinds } }, required: ["kind"] });
    fs.writeFileSync(schemaFile, pet(["cat", "dog"]));
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    expect((await freshValidate(cacheDir)).validatorFor(schemaFile)({ kind: "bird" })).toBe(false);

    fs.writeFileSync(schemaFile, pet(["cat", "dog", "bird"]));
    expect((await freshValidate(cacheDir)).validatorFor(schemaFile)({ kind: "bird" })).toBe(true);
    expect(entriesIn(cacheDir)).toHaveLength(2);

    // The entry for the current schemas, changed after it was written: its checksum fails.
    const entries = path.join(cacheDir, "validators");
    const newest = entriesIn(cacheDir)
      .map((name) => path.join(entries, name))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
    const damaged = fs.readFileSync(newest, "utf8").replace(/"bird"/g, '"fish"');
    fs.writeFileSync(newest, damaged);
    expect((await freshValidate(cacheDir)).validatorFor(schemaFile)({ kind: "bird" })).toBe(true);
    expect(fs.readFileSync(newest, "utf8")).not.toBe(damaged);
  });

  it("leave a folder with a schema that does not compile to ajv: only that schema fails, with ajv's error", async () => {
    const schemas = fs.mkdtempSync(path.join(root, "schemas-"));
    fs.writeFileSync(path.join(schemas, "good.schema.json"), JSON.stringify({ type: "object", required: ["kind"] }));
    fs.writeFileSync(path.join(schemas, "broken.schema.json"), JSON.stringify({ $ref: "missing.schema.json" }));
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    const validate = await freshValidate(cacheDir);
    expect(validate.validatorFor(path.join(schemas, "good.schema.json"))({})).toBe(false);
    expect(() => validate.validatorFor(path.join(schemas, "broken.schema.json"))).toThrow(/missing\.schema\.json/);
    expect(entriesIn(cacheDir)).toEqual([]);
  });

  it("are not kept when the cache is off", async () => {
    // Where the cache would be if the empty setting were ignored.
    const home = fs.mkdtempSync(path.join(root, "home-"));
    vi.stubEnv("XDG_CACHE_HOME", home);
    const validate = await freshValidate("");
    expect(validate.validatorFor(validate.schemaPath("smartnic-inputs"))({})).toBe(false);
    expect(fs.readdirSync(home)).toEqual([]);
  });
});
