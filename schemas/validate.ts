/**
 * Schema validation with exact source positions: every JSON Schema violation becomes a
 * `StackError` naming the file, line and column of the offending value, the JSON pointer,
 * the bad value and what is allowed. All errors are reported at once.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { type ErrorObject, type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { describeValue, InputError, type StackError } from "./diagnostics";
import { sourcePath } from "./paths";
import { childPointer, type SourceIndex } from "./source-index";

/** The directory holding the project's schemas. */
export const SCHEMA_DIR = sourcePath("schemas");

/** Absolute path of a schema in `schemas/` by its base name, e.g. `schemaPath("stack")`. */
export function schemaPath(name: string): string {
  return path.join(SCHEMA_DIR, `${name}.schema.json`);
}

const validators = new Map<string, ValidateFunction>();
const ajvByDir = new Map<string, Ajv2020>();

/**
 * One ajv instance per schema directory, holding every `*.schema.json` of that directory so
 * schemas may `$ref` each other by file name or `$id`.
 */
function ajvFor(dir: string): Ajv2020 {
  let ajv = ajvByDir.get(dir);
  if (ajv) return ajv;
  // The schema files are checked against the 2020-12 meta-schema by the tests
  // (test/schemas/schemas.test.ts), not on every start of the program and the providers.
  ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, useDefaults: true, validateSchema: false });
  addFormats(ajv);
  for (const name of fs.readdirSync(dir).filter((f) => f.endsWith(".schema.json")).sort()) {
    const schema = JSON.parse(fs.readFileSync(path.join(dir, name), "utf8")) as { $id?: string };
    ajv.addSchema(schema, schema.$id ? undefined : name);
  }
  ajvByDir.set(dir, ajv);
  return ajv;
}

/** The compiled validator for a schema file (cached per absolute path). */
export function validatorFor(schemaFile: string): ValidateFunction {
  const absolute = path.resolve(schemaFile);
  let validate = validators.get(absolute);
  if (validate) return validate;
  const schema = JSON.parse(fs.readFileSync(absolute, "utf8")) as { $id?: string };
  const ajv = ajvFor(path.dirname(absolute));
  validate = (schema.$id ? ajv.getSchema(schema.$id) : ajv.getSchema(path.basename(absolute))) ?? ajv.compile(schema);
  validators.set(absolute, validate);
  return validate;
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
