/**
 * The `smartfleet` command: a thin dispatcher. Each sub-command lives in
 * `cli/commands/<name>.ts` and exports `run(args): Promise<number>` (the exit code),
 * so a command's dependencies load only when that command runs.
 */

/** A sub-command module. */
export interface Command {
  /** One line for `smartfleet help`. */
  summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

/** Every sub-command, by name, loaded on demand. */
const commands: Record<string, () => Command> = {
  emulator: () => require("./commands/emulator"),
  check: () => require("./commands/check"),
  render: () => require("./commands/render"),
  "generate-fleet": () => require("./commands/generate-fleet"),
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, load]) => {
    let summary: string;
    try {
      summary = load().summary;
    } catch {
      summary = "(unavailable in this build)";
    }
    return `  ${name.padEnd(16)} ${summary}`;
  });
  return ["usage: smartfleet <command> [options]", "", "commands:", ...lines].join("\n");
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`smartfleet: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return load().run(rest);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`smartfleet: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 2;
    },
  );
}
