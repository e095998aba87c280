/**
 * A YAML file read and validated in one step, every problem reported with its position.
 * Apart from `validate.ts` so that what only validates values (a provider's `check`) does
 * not load the YAML parser: 9 MiB of memory in every provider process of a shard.
 */
import { InputError } from "./diagnostics";
import type { SourceIndex } from "./source-index";
import { guardUnexpected, validateValue } from "./validate";
import { parseYamlFile, type YamlLimits } from "./yaml-source";

/**
 * Reads a YAML file (size-limited), parses it keeping positions (duplicate keys and alias
 * explosions rejected), validates it against a JSON Schema (draft 2020-12, all errors,
 * formats, defaults filled in) and returns it typed. Throws `InputError` listing every
 * problem as `file:line:column  path  message  (got X; allowed: ...)`.
 */
export function loadValidatedYaml<T>(file: string, schemaFile: string, limits: YamlLimits = {}): T {
  return loadValidatedYamlWithSources<T>(file, schemaFile, limits).value;
}

/** Like `loadValidatedYaml`, and also returns the positions of every value. */
export function loadValidatedYamlWithSources<T>(
  file: string,
  schemaFile: string,
  limits: YamlLimits = {},
): { value: T; sources: SourceIndex } {
  const parsed = guardUnexpected(file, () => parseYamlFile(file, limits));
  const errors = guardUnexpected(file, () => validateValue(parsed.value, schemaFile, parsed.sources));
  if (errors.length > 0) throw new InputError(errors, { summary: `${file}: ${errors.length} error${errors.length === 1 ? "" : "s"}` });
  return { value: parsed.value as T, sources: parsed.sources };
}
