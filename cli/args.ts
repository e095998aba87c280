/**
 * The one argument parser of the `smartfleet` commands, on `node:util` parseArgs. A command
 * declares its options and positionals in a `CommandSpec`; `parseCommand` then answers
 * `--help`/`-h` with a generated usage on stdout (exit 0), reports a usage error on stderr
 * with the usage line and a pointer to `--help` (exit 2), or returns the typed values.
 */
import * as fs from "node:fs";
import { parseArgs } from "node:util";
import { sourcePath } from "../schemas/paths";

/** Exit codes of every command: 0 ok, 1 findings (or a failed operation), 2 usage or input error. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

/** One option, `--name`. */
export interface OptionSpec {
  /** A number option is a string converted with Number() and checked. */
  type: "string" | "number" | "boolean";
  /** One line for the help. */
  description: string;
  /** One-letter alias, e.g. "o" for `-o`. */
  short?: string;
  /** May be given more than once; the value is an array. */
  multiple?: boolean;
  /** Placeholder in the help, e.g. FILE (default VALUE, or N for numbers). */
  valueName?: string;
  default?: string | number | boolean | readonly string[] | readonly number[];
  required?: boolean;
  /** The allowed values of a string option. */
  choices?: readonly string[];
  /** A number option must be an integer. */
  integer?: boolean;
  /** The smallest value of a number option. */
  min?: number;
}

/** The positional arguments, e.g. `STACK...`. */
export interface PositionalSpec {
  name: string;
  description: string;
  /** How many at least (default 0) and at most (default unlimited). */
  min?: number;
  max?: number;
}

/** What a command accepts, and what its help says. */
export interface CommandSpec {
  /** The command as typed, e.g. "smartfleet check". */
  name: string;
  /** One line: what the command does. */
  summary: string;
  options?: Record<string, OptionSpec>;
  positionals?: PositionalSpec;
  /** Sub-commands (name -> summary) of a command that dispatches, for its help. */
  commands?: Record<string, string>;
}

/** Declares a command, keeping its literal types so the parsed values are typed. */
export function defineCommand<const S extends CommandSpec>(spec: S): S {
  return spec;
}

type Scalar<O extends OptionSpec> = O["type"] extends "boolean"
  ? boolean
  : O["type"] extends "number"
    ? number
    : O extends { choices: readonly (infer C)[] }
      ? C
      : string;
type Value<O extends OptionSpec> = O extends { multiple: true }
  ? Scalar<O>[]
  : O["type"] extends "boolean"
    ? boolean
    : O extends { default: unknown } | { required: true }
      ? Scalar<O>
      : Scalar<O> | undefined;
/** The parsed values of a command's options, by option name. */
export type Values<S extends CommandSpec> = S["options"] extends Record<string, OptionSpec> ? { -readonly [K in keyof S["options"]]: Value<S["options"][K]> } : Record<string, never>;

/** A parsed command line. */
export interface Parsed<S extends CommandSpec> {
  values: Values<S>;
  positionals: string[];
}

/** A command line that does not fit the command's spec. */
export class UsageError extends Error {}

const HELP: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

function optionsOf(spec: CommandSpec): Record<string, OptionSpec> {
  return { ...spec.options, help: HELP };
}

function label(name: string, o: OptionSpec): string {
  return o.short ? `-${o.short}, --${name}` : `--${name}`;
}

function valueName(o: OptionSpec): string {
  return o.valueName ?? (o.choices ? o.choices.join("|") : o.type === "number" ? "N" : "VALUE");
}

function convert(name: string, o: OptionSpec, raw: string): string | number {
  if (o.choices && !o.choices.includes(raw)) throw new UsageError(`unknown ${name} '${raw}' (--${name} takes ${o.choices.join(", ")})`);
  if (o.type !== "number") return raw;
  const n = raw.trim() === "" ? NaN : Number(raw);
  const kind = o.integer ? "an integer" : "a number";
  const bound = o.min !== undefined ? ` >= ${o.min}` : "";
  if (!Number.isFinite(n) || (o.integer && !Number.isInteger(n)) || (o.min !== undefined && n < o.min)) {
    throw new UsageError(`option --${name} needs ${kind}${bound}, got '${raw}'`);
  }
  return n;
}

/**
 * Parses `args` against `spec`: the values, or "help" when `--help`/`-h` is among the
 * options. Throws a UsageError naming the option on an unknown option, a missing or
 * misplaced value (a string option never takes the next `--flag` as its value), a value
 * of the wrong type, a missing required option, or too few or too many positionals.
 */
export function parse<S extends CommandSpec>(spec: S, args: string[]): Parsed<S> | "help" {
  const options = optionsOf(spec);
  const config = Object.fromEntries(
    Object.entries(options).map(([name, o]) => [name, { type: o.type === "boolean" ? ("boolean" as const) : ("string" as const), multiple: !!o.multiple, ...(o.short ? { short: o.short } : {}) }]),
  );
  const { tokens } = parseArgs({ args, options: config, strict: false, allowPositionals: true, tokens: true });
  if (tokens.some((t) => t.kind === "option" && t.name === "help")) return "help";
  const given: Record<string, unknown[]> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === "positional") positionals.push(t.value);
    if (t.kind !== "option") continue;
    const o = options[t.name];
    const shown = t.rawName === `--${t.name}` || !o ? t.rawName : `${t.rawName} (--${t.name})`;
    if (!o) throw new UsageError(`unknown option '${t.rawName}'`);
    let value: unknown = true;
    if (o.type === "boolean") {
      if (t.value !== undefined) throw new UsageError(`option ${shown} takes no value`);
    } else {
      if (t.value === undefined || (!t.inlineValue && t.value.length > 1 && t.value.startsWith("-"))) {
        throw new UsageError(`option ${shown} needs a value (${valueName(o)})`);
      }
      value = convert(t.name, o, t.value);
    }
    (given[t.name] ??= []).push(value);
  }
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options ?? {})) {
    const list = given[name];
    if (!list && o.required) throw new UsageError(`missing option --${name} ${valueName(o)}`);
    if (o.multiple) values[name] = list ?? (o.default !== undefined ? [o.default].flat() : []);
    else values[name] = list ? list[list.length - 1] : (o.default ?? (o.type === "boolean" ? false : undefined));
  }
  const p = spec.positionals;
  const [min, max] = [p?.min ?? 0, p ? (p.max ?? Infinity) : 0];
  if (positionals.length < min) throw new UsageError(`missing ${p?.name}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument '${positionals[max]}'`);
  return { values: values as Values<S>, positionals };
}

/** The usage line, e.g. `usage: smartfleet check [options] STACK...`. */
export function usageLine(spec: CommandSpec): string {
  const parts = [spec.name];
  if (spec.commands) parts.push("<command>");
  const options = Object.entries(spec.options ?? {});
  for (const [name, o] of options) if (o.required) parts.push(`--${name} ${valueName(o)}`);
  parts.push("[options]");
  const p = spec.positionals;
  if (p) {
    const many = (p.max ?? Infinity) > 1 ? "..." : "";
    parts.push((p.min ?? 0) > 0 ? `${p.name}${many}` : `[${p.name}${many}]`);
  }
  return `usage: ${parts.join(" ")}`;
}

/** The help: summary, usage line, sub-commands, positionals and an options table. */
export function formatHelp(spec: CommandSpec): string {
  const rows = (entries: [string, string][]): string[] => {
    const width = Math.max(...entries.map(([left]) => left.length));
    return entries.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
  };
  const lines = [`${spec.name}: ${spec.summary}`, "", usageLine(spec)];
  if (spec.commands) lines.push("", "commands:", ...rows(Object.entries(spec.commands)));
  if (spec.positionals) lines.push("", "arguments:", ...rows([[spec.positionals.name, spec.positionals.description]]));
  const options = Object.entries(optionsOf(spec)).map(([name, o]): [string, string] => {
    const notes = [o.required ? "required" : "", o.default !== undefined && o.type !== "boolean" ? `default: ${[o.default].flat().join(",")}` : "", o.multiple ? "repeatable" : ""].filter(Boolean);
    return [`${label(name, o)}${o.type === "boolean" ? "" : ` ${valueName(o)}`}`, `${o.description}${notes.length ? ` (${notes.join("; ")})` : ""}`];
  });
  lines.push("", "options:", ...rows(options));
  if (spec.commands) lines.push("", `run '${spec.name} <command> --help' for the options of a command`);
  return lines.join("\n");
}

/** Reports a usage error on stderr (message, usage line, pointer to --help); returns exit code 2. */
export function usageError(spec: CommandSpec, message: string): number {
  console.error(`${spec.name}: ${message}\n${usageLine(spec)}\nrun '${spec.name} --help' for more`);
  return EXIT.usage;
}

/**
 * The sub-command a group command's line names (`smartfleet emulator start ...`) with the
 * arguments after it, or the exit code when there is none to run: 0 after the group's help
 * for `--help`, 2 after a usage error for no sub-command or an unknown one.
 */
export function subCommand<K extends string>(group: CommandSpec, names: readonly K[], args: string[]): { name: K; rest: string[] } | number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub.startsWith("-")) {
    const parsed = parseCommand(group, args);
    if (typeof parsed === "number") return parsed;
    console.error(formatHelp(group));
    return EXIT.usage;
  }
  if (!(names as readonly string[]).includes(sub)) return usageError(group, `unknown command '${sub}'`);
  return { name: sub as K, rest };
}

/**
 * Parses a command line for a command: the values, or the exit code when the command is
 * done already (0 after printing the help on stdout, 2 after a usage error on stderr).
 */
export function parseCommand<S extends CommandSpec>(spec: S, args: string[]): Parsed<S> | number {
  try {
    const parsed = parse(spec, args);
    if (parsed !== "help") return parsed;
    console.log(formatHelp(spec));
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return usageError(spec, err.message);
  }
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  return (JSON.parse(fs.readFileSync(sourcePath("package.json"), "utf8")) as { version: string }).version;
}
