/**
 * Schema validation with exact source positions: every JSON Schema violation becomes a
 * `StackError` naming the file, line and column of the offending value, the JSON pointer,
 * the bad value and what is allowed. All errors are reported at once.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type Ajv2020 from "ajv/dist/2020";
import type { ErrorObject, ValidateFunction } from "ajv";
import { cachedValidators, type SchemaText, type Validators } from "./compiled-validators";
import { describeValue, InputError, type StackError } from "./diagnostics";
import { sourcePath } from "./paths";
import { childPointer, type SourceIndex } from "./source-index";

/** The directory holding the project's schemas. */
export const SCHEMA_DIR = sourcePath("schemas");

/** Absolute path of a schema in `schemas/` by its base name, e.g. `schemaPath("stack")`. */
export function schemaPath(name: string): string {
  return path.join(SCHEMA_DIR, `${name}.schema.json`);
}

/**
 * How every schema is compiled. The schema files are checked against the 2020-12
 * meta-schema by the tests (test/schemas/schemas.test.ts), not on every start.
 */
const AJV_OPTIONS = { allErrors: true, verbose: true, strict: false, useDefaults: true, validateSchema: false } as const;

const validators = new Map<string, ValidateFunction>();
const validatorsByDir = new Map<string, Validators | undefined>();
const ajvByDir = new Map<string, Ajv2020>();

/** The compiled validator for a schema file (cached per absolute path). */
export function validatorFor(schemaFile: string): ValidateFunction {
  const absolute = path.resolve(schemaFile);
  let validate = validators.get(absolute);
  if (validate) return validate;
  validate = keptValidatorsOf(path.dirname(absolute))?.get(path.basename(absolute)) ?? compile(absolute);
  validators.set(absolute, validate);
  return validate;
}

/**
 * Every schema of `dir` as kept code (`compiled-validators.ts`); undefined when the cache is
 * off, or a schema of the folder does not compile: each schema is then compiled alone, so
 * only that one fails, with ajv's own error.
 */
function keptValidatorsOf(dir: string): Validators | undefined {
  if (!validatorsByDir.has(dir)) {
    const schemas = schemaTextsOf(dir);
    let kept: Validators | undefined;
    try {
      kept = schemas.length ? cachedValidators(schemas, compilerFingerprint(), () => standaloneCode(schemas)) : undefined;
    } catch {
      kept = undefined;
    }
    validatorsByDir.set(dir, kept);
  }
  return validatorsByDir.get(dir);
}

function schemaTextsOf(dir: string): SchemaText[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".schema.json"))
      .sort()
      .map((name) => ({ name, text: fs.readFileSync(path.join(dir, name), "utf8") }));
  } catch {
    return [];
  }
}

/** What else the kept code is made from: this module (as run: the compiled one in a build), which makes it, and the compiler's versions. */
function compilerFingerprint(): string {
  const version = (name: string) => (require(`${name}/package.json`) as { version: string }).version;
  const maker = createHash("sha256").update(fs.readFileSync(__filename)).digest("hex");
  return JSON.stringify({ maker, ajv: version("ajv"), formats: version("ajv-formats") });
}

/**
 * Standalone code for every schema of `dir`, exported by file name. Its formats come from
 * ajv-formats' own module, as `addFormats` gives them to the compiler.
 */
function standaloneCode(schemas: readonly SchemaText[]): string {
  const { _ } = require("ajv/dist/compile/codegen") as typeof import("ajv/dist/compile/codegen");
  const standalone = (require("ajv/dist/standalone") as typeof import("ajv/dist/standalone")).default;
  const ajv = newAjv(schemas, { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` });
  return standalone(ajv, Object.fromEntries(schemas.map(({ name, text }) => [name, (JSON.parse(text) as { $id?: string }).$id ?? name])));
}

/** Compiles one schema with ajv, when the folder's validators are not kept. */
function compile(absolute: string): ValidateFunction {
  const schema = JSON.parse(fs.readFileSync(absolute, "utf8")) as { $id?: string };
  const dir = path.dirname(absolute);
  let ajv = ajvByDir.get(dir);
  if (!ajv) ajvByDir.set(dir, (ajv = newAjv(schemaTextsOf(dir))));
  return (schema.$id ? ajv.getSchema(schema.$id) : ajv.getSchema(path.basename(absolute))) ?? ajv.compile(schema);
}

/**
 * An ajv instance holding every schema of a folder, so schemas may `$ref` each other by
 * file name or `$id`. Loaded only here: a process whose validators are kept never loads
 * the compiler.
 */
function newAjv(schemas: readonly SchemaText[], code?: object): Ajv2020 {
  const Ajv = (require("ajv/dist/2020") as typeof import("ajv/dist/2020")).default;
  const addFormats = (require("ajv-formats") as typeof import("ajv-formats")).default;
  const ajv = new Ajv({ ...AJV_OPTIONS, ...(code ? { code } : {}) });
  addFormats(ajv);
  for (const { name, text } of schemas) {
    const schema = JSON.parse(text) as { $id?: string };
    ajv.addSchema(schema, schema.$id ? undefined : name);
  }
  return ajv;
}

/**
 * Validates `value` (in place: defaults from the schema are filled in) and returns every
 * violation positioned through `sources`. `prefix` is prepended to ajv's instance paths
 * when `value` is a part of the document `sources` describes.
 */
export function validateValue(value: unknown, schemaFile: string, sources: SourceIndex, prefix = ""): StackError[] {
  const validate = validatorFor(schemaFile);
  if (validate(value)) return [];
  return toStackErrors(validate.errors ?? [], sources, prefix);
}

/** Keywords whose errors only summarise errors already reported for the branches. */
const SUMMARY_KEYWORDS = new Set(["if", "anyOf", "oneOf", "propertyNames"]);

/** Converts ajv errors into positioned `StackError`s, dropping duplicates and summaries. */
export function toStackErrors(errors: ErrorObject[], sources: SourceIndex, prefix = ""): StackError[] {
  const seen = new Set<string>();
  const out: StackError[] = [];
  const hasDetail = errors.some((e) => !SUMMARY_KEYWORDS.has(e.keyword));
  for (const error of errors) {
    if (hasDetail && SUMMARY_KEYWORDS.has(error.keyword)) continue;
    const converted = convertError(error, sources, prefix);
    const key = `${converted.path}\u0000${converted.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(converted);
  }
  return out;
}

function convertError(error: ErrorObject, sources: SourceIndex, prefix: string): StackError {
  const params = error.params as Record<string, unknown>;
  const base = prefix + error.instancePath;
  const parentSchema = error.parentSchema as { properties?: Record<string, unknown> } | undefined;
  // Errors about a property *name* point at the key, not at the object holding it.
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    const at = childPointer(base, propertyName);
    return {
      ...sources.locateKey(at),
      path: at,
      message: `property name ${error.message ?? "is not allowed"}`,
      got: describeValue(propertyName),
      allowed: typeof params.pattern === "string" ? [`names matching ${params.pattern}`] : undefined,
    };
  }
  switch (error.keyword) {
    case "additionalProperties":
    case "unevaluatedProperties": {
      const name = String(params.additionalProperty ?? params.unevaluatedProperty);
      const at = childPointer(base, name);
      const known = Object.keys(parentSchema?.properties ?? {});
      return { ...sources.locateKey(at), path: at, message: "unknown property", got: describeValue(name), allowed: known };
    }
    case "required": {
      const name = String(params.missingProperty);
      return { ...sources.locate(base), path: childPointer(base, name), message: `missing required property '${name}'` };
    }
    default:
      return {
        ...sources.locate(base),
        path: base,
        message: error.message ?? `fails ${error.keyword}`,
        // The whole document is never a useful "got", and it may be a file that is not ours to print.
        ...(base === "" ? {} : { got: describeValue(error.data) }),
        allowed: allowedFor(error.keyword, params),
      };
  }
}

function allowedFor(keyword: string, params: Record<string, unknown>): string[] | undefined {
  switch (keyword) {
    case "enum":
      return (params.allowedValues as unknown[]).map((v) => describeValue(v));
    case "const":
      return [describeValue(params.allowedValue)];
    case "type":
      return [String(params.type)];
    case "pattern":
      return [`strings matching ${String(params.pattern)}`];
    case "format":
      return [`a ${String(params.format)}`];
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum":
      return [`${String(params.comparison)} ${String(params.limit)}`];
    case "minLength":
    case "maxLength":
    case "minItems":
    case "maxItems":
    case "minProperties":
    case "maxProperties":
      return [`${keyword.startsWith("min") ? "at least" : "at most"} ${String(params.limit)}`];
    default:
      return undefined;
  }
}

/** Runs `work`, turning anything but an `InputError` (e.g. a stack overflow on absurd nesting) into one. */
export function guardUnexpected<R>(file: string, work: () => R): R {
  try {
    return work();
  } catch (err) {
    if (err instanceof InputError) throw err;
    const message = err instanceof Error ? err.message : String(err);
    throw new InputError([{ file, line: 1, column: 1, path: "", message: `cannot process file: ${message}` }], {
      cause: err,
    });
  }
}
