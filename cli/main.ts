/**
 * The `smartfleet` command: a thin dispatcher. Each sub-command lives in
 * `cli/commands/<name>.ts` and exports `run(args): Promise<number>` (the exit code),
 * so a command's dependencies load only when that command runs. Arguments are parsed by
 * `cli/args.ts`; see cli/README.md.
 */
import { useCompileCache } from "../providers/common/compile-cache";
import { deferUnusedSdkModules } from "../providers/common/defer-sdk-modules";
import { withEngineWatchPreload } from "../providers/common/engine-watch-preload";
import { defineCommand, formatHelp, packageVersion, parseCommand, usageError } from "./args";

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
  graph: () => require("./commands/graph"),
  dashboard: () => require("./commands/dashboard"),
  plan: () => require("./commands/plan"),
  "generate-fleet": () => require("./commands/generate-fleet"),
  recover: () => require("./commands/recover"),
  db: () => require("./commands/db"),
  certs: () => require("./commands/certs"),
  up: () => require("./commands/up").commands.up,
  preview: () => require("./commands/up").commands.preview,
  refresh: () => require("./commands/up").commands.refresh,
  destroy: () => require("./commands/up").commands.destroy,
};

function spec() {
  const summaries = Object.fromEntries(
    Object.entries(commands).map(([name, load]) => {
      try {
        return [name, load().summary];
      } catch {
        return [name, "(unavailable in this build)"];
      }
    }),
  );
  return defineCommand({
    name: "smartfleet",
    summary: "declarative provisioning of SmartNIC/DPU server fleets with Pulumi",
    commands: { ...summaries, help: "show this help, or a command's: help <command>" },
    options: { version: { type: "boolean", short: "V", description: "print the version" } },
  });
}

let sdkModulesDeferred = false;

/**
 * The command line drives Pulumi from outside and never turns a function into source
 * text: the TypeScript compiler and npm's arborist, which the SDK loads with its
 * Automation API, would cost every `up`, `preview` or `plan` about 0.5 s of its start
 * (the Automation API alone loads in 0.3–0.4 s instead of 0.9 s). They still load if
 * anything asks for them.
 */
function deferSdkModulesOnce(): void {
  if (sdkModulesDeferred) return;
  sdkModulesDeferred = true;
  deferUnusedSdkModules(["typescript", "arborist", "normalizePackageData"]);
}

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  // The Pulumi runs this starts give their dynamic-provider processes the engine watch from
  // their first moment, not only from the engine's first call (`engine-watch-preload.ts`).
  const nodeOptions = withEngineWatchPreload(process.env.NODE_OPTIONS);
  if (nodeOptions) process.env.NODE_OPTIONS = nodeOptions;
  useCompileCache();
  deferSdkModulesOnce();
  // Options before the command name are smartfleet's own; the rest belong to the command.
  const at = argv.findIndex((a) => !a.startsWith("-"));
  const [own, name, rest] = at < 0 ? [argv, undefined, []] : [argv.slice(0, at), argv[at], argv.slice(at + 1)];
  // The full spec loads every command for its summary: only when smartfleet's own options are given.
  const parsed = own.length ? parseCommand(spec(), own) : { values: { version: false } };
  if (typeof parsed === "number") return parsed;
  if (parsed.values.version) {
    console.log(packageVersion());
    return 0;
  }
  if (name === "help") {
    if (rest[0] && !commands[rest[0]]) return usageError(spec(), `unknown command '${rest[0]}'`);
    if (rest[0]) return commands[rest[0]]().run(["--help"]);
    console.log(formatHelp(spec()));
    return 0;
  }
  if (!name) {
    console.error(formatHelp(spec()));
    return 2;
  }
  const load = commands[name];
  if (!load) return usageError(spec(), `unknown command '${name}'`);
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
