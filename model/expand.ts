/**
 * Expands the components a stack uses: resolves each `use:`, validates its parameters,
 * renders its template, validates the rendered fragment and merges it into the stack.
 * Two definitions of the same object (a service, a device, a pair, a share, a DPU OS, or a
 * setting with different values) are an error naming both places.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import type { ComponentManifest } from "../schemas/generated/component";
import type { ComponentUse } from "../schemas/generated/stack";
import { childPointer, SourceIndex, type SourceLocation } from "../schemas/source-index";
import { schemaPath, toStackErrors, validateValue } from "../schemas/validate";
import { loadValidatedYamlWithSources } from "../schemas/validated-yaml";
import { parseYamlText } from "../schemas/yaml-source";
import { defaultSearch, resolveComponent, type ComponentSearch } from "./component-registry";
import { describeValue, InputError, type StackError } from "../schemas/diagnostics";
import { compileTemplate, TemplateRenderError } from "./template";

/** A component that was expanded into the stack. */
export interface ExpandedComponent {
  /** The `use:` text, e.g. `security-edge@^1`. */
  use: string;
  /** Component name. */
  name: string;
  /** The version picked. */
  version: string;
  /** Where it was found: `project` or `npm:<package>`. */
  source: string;
  /** Its directory. */
  dir: string;
}

/** Largest rendered fragment accepted: a template looping over its params must not produce unbounded output. */
const MAX_RENDERED_CHARS = 8 * 1024 * 1024;

/** Maps whose entries are whole objects: defining one twice is a conflict. */
const LEAF_COLLECTIONS = new Set(["services", "devices", "servicePairs", "acceleratorShares"]);
/** Properties that are whole objects in their own right. */
const LEAF_OBJECTS = new Set(["os"]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describeLocation(location: SourceLocation): string {
  const where = `${location.file}:${location.line}:${location.column}`;
  return location.origin ? `${location.origin.component} (used at ${where})` : where;
}

/**
 * Merges `source` into `target` at `at` and returns the conflicts. `leafCollection` says
 * whether `at` is a map whose entries are whole objects. Positions: `targetSources` has the
 * stack's, `sourceSources` the fragment's, both by the same pointers.
 */
function mergeInto(
  target: Json,
  source: Json,
  at: string,
  targetSources: SourceIndex,
  sourceSources: SourceIndex,
  leafCollection: boolean,
): StackError[] {
  const errors: StackError[] = [];
  for (const [key, value] of Object.entries(source)) {
    const here = childPointer(at, key);
    if (!(key in target)) {
      target[key] = value;
      continue;
    }
    const existing = target[key];
    const conflict = (what: string): StackError => ({
      ...sourceSources.locateKey(here),
      path: here,
      message: `${what} is already defined at ${describeLocation(targetSources.locateKey(here))}; two definitions of one object are not allowed`,
      got: describeValue(value),
    });
    if (leafCollection || LEAF_OBJECTS.has(key)) {
      errors.push(conflict(`'${key}'`));
    } else if (isObject(existing) && isObject(value)) {
      errors.push(...mergeInto(existing, value, here, targetSources, sourceSources, LEAF_COLLECTIONS.has(key)));
    } else if (JSON.stringify(existing) !== JSON.stringify(value)) {
      errors.push({ ...conflict(`'${key}' (set to ${describeValue(existing)})`), allowed: [describeValue(existing)] });
    }
  }
  return errors;
}

/** A path relative to the working directory when it lies below it (shorter messages). */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith("..") || path.isAbsolute(relative) ? file : relative;
}

/** Compiled params schemas by component directory: a stack may use one component many times. */
const paramValidators = new Map<string, ValidateFunction>();

/** Validates component parameters against the manifest's params schema (own ajv: params schemas are component input). */
function validateParams(params: unknown, schema: object, componentDir: string, sources: SourceIndex, prefix: string): StackError[] {
  let validate = paramValidators.get(componentDir);
  if (!validate) {
    const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: false, useDefaults: true });
    addFormats(ajv);
    try {
      validate = ajv.compile(schema);
    } catch (err) {
      return [{ ...sources.locate(prefix), path: prefix, message: `the component's params schema is invalid: ${(err as Error).message}` }];
    }
    paramValidators.set(componentDir, validate);
  }
  return validate(params) ? [] : toStackErrors(validate.errors ?? [], sources, prefix);
}

/** Expands one `use:`; merges into `stack` and returns the errors (empty when it went well). */
function expandOne(
  stack: Json,
  use: ComponentUse,
  index: number,
  sources: SourceIndex,
  search: ComponentSearch,
): { errors: StackError[]; expanded?: ExpandedComponent } {
  const usePath = childPointer("/components", index);
  const useAt = sources.locate(childPointer(usePath, "use"));
  const resolution = resolveComponent(use.use, search);
  if (!resolution.ok) {
    return { errors: [{ ...useAt, path: childPointer(usePath, "use"), message: resolution.message, got: describeValue(use.use), allowed: resolution.allowed }] };
  }
  const { candidate } = resolution;
  const label = `${candidate.name}@${candidate.version}`;
  const manifest = loadValidatedYamlWithSources<ComponentManifest>(path.join(candidate.dir, "component.yaml"), schemaPath("component"));
  if (manifest.value.metadata.name !== candidate.name || manifest.value.metadata.version !== candidate.version) {
    return {
      errors: [{
        ...manifest.sources.locate("/metadata"),
        path: "/metadata",
        message: `component.yaml says ${manifest.value.metadata.name}@${manifest.value.metadata.version} but lives in ${candidate.name}/${candidate.version}`,
      }],
    };
  }
  const paramsPath = childPointer(usePath, "with");
  const params = use.with ?? {};
  const paramErrors = validateParams(params, manifest.value.params, candidate.dir, sources, paramsPath);
  if (paramErrors.length > 0) return { errors: paramErrors.map((e) => ({ ...e, message: `${label}: ${e.message}` })) };

  const templateFile = displayPath(path.join(candidate.dir, "template.yaml.hbs"));
  let rendered;
  try {
    rendered = compileTemplate(fs.readFileSync(templateFile, "utf8"))({ ...params, stack: { name: (stack.metadata as Json | undefined)?.name } });
  } catch (err) {
    const origin = err instanceof TemplateRenderError ? { line: err.line, column: err.column } : { line: 1, column: 1 };
    return {
      errors: [{ ...useAt, path: usePath, message: `${label}: ${(err as Error).message}`, origin: { component: label, file: templateFile, ...origin } }],
    };
  }
  if (rendered.text.length > MAX_RENDERED_CHARS) {
    return {
      errors: [{ ...useAt, path: usePath, message: `${label}: the template renders ${rendered.text.length} characters`, allowed: [`at most ${MAX_RENDERED_CHARS}`] }],
    };
  }
  const originOf = (line: number, column: number) => ({ component: label, file: templateFile, line: rendered.templateLineOf(line), column });
  let fragment;
  try {
    fragment = parseYamlText(rendered.text, `${templateFile} (rendered)`, { originOf, reportAt: useAt });
  } catch (err) {
    if (err instanceof InputError) return { errors: err.errors.map((e) => ({ ...e, path: usePath, message: `${label}: ${e.message}` })) };
    throw err;
  }
  const fragmentValue = fragment.value ?? {};
  const shapeErrors = validateValue(structuredClone(fragmentValue), schemaPath("stack-fragment"), fragment.sources);
  if (shapeErrors.length > 0) return { errors: shapeErrors.map((e) => ({ ...e, message: `${label}: ${e.message}` })) };
  const errors = mergeInto(stack, fragmentValue as Json, "", sources, fragment.sources, false);
  // New values take their rendered positions; values the stack already had keep the stack's.
  sources.adoptMissing(fragment.sources);
  return {
    errors: errors.map((e) => ({ ...e, message: `${label}: ${e.message}` })),
    expanded: { use: use.use, name: candidate.name, version: candidate.version, source: candidate.source, dir: candidate.dir },
  };
}

/**
 * Expands every component of a (schema-valid, defaults not yet applied) stack document in
 * place. Positions of rendered values are recorded in `sources` with their template origin.
 * Throws `InputError` with every problem of every component.
 */
export function expandComponents(
  stack: Json,
  stackFile: string,
  sources: SourceIndex,
  search?: ComponentSearch,
): ExpandedComponent[] {
  const uses = (stack.components ?? []) as ComponentUse[];
  if (uses.length === 0) return [];
  // Looking through node_modules costs a read per package: only when a component is used.
  const where = search ?? defaultSearch(stackFile);
  const errors: StackError[] = [];
  const expanded: ExpandedComponent[] = [];
  uses.forEach((use, index) => {
    try {
      const result = expandOne(stack, use, index, sources, where);
      errors.push(...result.errors);
      if (result.expanded) expanded.push(result.expanded);
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      errors.push(...err.errors);
    }
  });
  if (errors.length > 0) throw new InputError(errors, { summary: `${stackFile}: ${errors.length} error${errors.length === 1 ? "" : "s"} expanding components` });
  return expanded;
}
