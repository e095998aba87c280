import { describe, expect, it } from "vitest";
import { defineCommand, formatHelp, parse, parseCommand, usageLine, UsageError } from "../../cli/args";
import { capture } from "./capture";

const spec = defineCommand({
  name: "tool cmd",
  summary: "does a thing",
  positionals: { name: "FILE", description: "input files", min: 1 },
  options: {
    out: { type: "string", short: "o", valueName: "PATH", description: "where to write" },
    format: { type: "string", choices: ["a", "b"], default: "a", description: "output format" },
    count: { type: "number", integer: true, min: 1, default: 1, description: "how many" },
    scale: { type: "number", description: "a factor" },
    tag: { type: "string", multiple: true, description: "a tag" },
    name: { type: "string", required: true, description: "a name" },
    dry: { type: "boolean", short: "n", description: "change nothing" },
  },
});

const ok = (args: string[]) => {
  const parsed = parse(spec, args);
  if (parsed === "help") throw new Error("unexpected help");
  return parsed;
};
const error = (args: string[]): string => {
  try {
    parse(spec, args);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`no usage error for ${args.join(" ")}`);
};

describe("cli/args parse", () => {
  it("returns typed values with defaults, converted numbers and positionals", () => {
    const { values, positionals } = ok(["x.yaml", "--name", "n", "--count=3", "-o", "out.txt", "--tag", "t1", "--tag=t2", "-n", "--scale", "0.5", "y.yaml"]);
    expect(values).toEqual({ out: "out.txt", format: "a", count: 3, scale: 0.5, tag: ["t1", "t2"], name: "n", dry: true });
    expect(positionals).toEqual(["x.yaml", "y.yaml"]);
  });

  it("fills in defaults: booleans false, repeatable options an empty list, others undefined", () => {
    expect(ok(["x", "--name", "n"]).values).toEqual({ out: undefined, format: "a", count: 1, scale: undefined, tag: [], name: "n", dry: false });
  });

  it("takes a value starting with a dash when it is written inline, and '-' alone", () => {
    expect(ok(["x", "--name=-weird", "--out", "-"]).values).toMatchObject({ name: "-weird", out: "-" });
  });

  it("treats everything after -- as positionals", () => {
    expect(ok(["--name", "n", "--", "--out"]).positionals).toEqual(["--out"]);
  });

  it("answers help for --help or -h, even next to other errors", () => {
    expect(parse(spec, ["--help"])).toBe("help");
    expect(parse(spec, ["-h", "--bogus"])).toBe("help");
  });

  it("fails if an option is unknown, naming it", () => {
    expect(error(["x", "--name", "n", "--bogus"])).toBe("unknown option '--bogus'");
    expect(error(["x", "--name", "n", "-z"])).toBe("unknown option '-z'");
  });

  it("fails if a string option is the last argument, naming it", () => {
    expect(error(["x", "--name", "n", "--out"])).toBe("option --out needs a value (PATH)");
    expect(error(["x", "--name", "n", "-o"])).toBe("option -o (--out) needs a value (PATH)");
  });

  it("fails if a string option would swallow the next --flag as its value", () => {
    expect(error(["x", "--name", "n", "--out", "--format", "b"])).toBe("option --out needs a value (PATH)");
    expect(error(["x", "--out", "-n", "--name", "n"])).toBe("option --out needs a value (PATH)");
  });

  it("fails if a boolean option is given a value", () => {
    expect(error(["x", "--name", "n", "--dry=yes"])).toBe("option --dry takes no value");
  });

  it("fails if a number option is not a number, naming the option", () => {
    expect(error(["x", "--name", "n", "--scale", "abc"])).toBe("option --scale needs a number, got 'abc'");
    expect(error(["x", "--name", "n", "--scale="])).toBe("option --scale needs a number, got ''");
    expect(error(["x", "--name", "n", "--count", "1.5"])).toBe("option --count needs an integer >= 1, got '1.5'");
    expect(error(["x", "--name", "n", "--count", "0"])).toBe("option --count needs an integer >= 1, got '0'");
  });

  it("fails if a value is not among the choices", () => {
    expect(error(["x", "--name", "n", "--format", "c"])).toBe("unknown format 'c' (--format takes a, b)");
  });

  it("fails if a required option is missing", () => {
    expect(error(["x"])).toBe("missing option --name VALUE");
  });

  it("fails if there are too few or too many positionals", () => {
    expect(error(["--name", "n"])).toBe("missing FILE");
    const single = defineCommand({ name: "t", summary: "s", positionals: { name: "F", description: "d", min: 1, max: 1 } });
    expect(() => parse(single, ["a", "b"])).toThrow("unexpected argument 'b'");
    expect(() => parse(defineCommand({ name: "t", summary: "s" }), ["a"])).toThrow("unexpected argument 'a'");
  });
});

describe("cli/args help", () => {
  it("builds a usage line with the required options and the positionals", () => {
    expect(usageLine(spec)).toBe("usage: tool cmd --name VALUE [options] FILE...");
    expect(usageLine(defineCommand({ name: "t", summary: "s", commands: { a: "x" } }))).toBe("usage: t <command> [options]");
  });

  it("lists summary, arguments and every option with its alias, value name, default and the help option", () => {
    const help = formatHelp(spec);
    expect(help).toContain("tool cmd: does a thing");
    expect(help).toContain("FILE  input files");
    expect(help).toMatch(/-o, --out PATH +where to write/);
    expect(help).toMatch(/--format a\|b +output format \(default: a\)/);
    expect(help).toMatch(/--name VALUE +a name \(required\)/);
    expect(help).toMatch(/-h, --help +show this help/);
  });

  it("prints the help on stdout and returns 0 for --help", async () => {
    const out = await capture(async (args) => {
      const r = parseCommand(spec, args);
      return typeof r === "number" ? r : -1;
    }, ["--help"]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage: tool cmd");
  });

  it("fails if the command line is wrong: message, usage line and a pointer to --help on stderr, exit 2", async () => {
    const out = await capture(async (args) => {
      const r = parseCommand(spec, args);
      return typeof r === "number" ? r : -1;
    }, ["x", "--out"]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toBe("tool cmd: option --out needs a value (PATH)\nusage: tool cmd --name VALUE [options] FILE...\nrun 'tool cmd --help' for more\n");
  });
});
