/**
 * `smartfleet render STACK [--format yaml|json]`: prints the stack after component
 * expansion, with schema defaults filled in — what `pulumi up` would declare. The output
 * is itself a valid stack (with no components left to expand) when placed beside the original.
 */
import { stringify } from "yaml";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync } from "../../model/load";

/** One line for `smartfleet help`. */
export const summary = "print a stack with its components expanded and defaults filled in";

const USAGE = "usage: smartfleet render STACK [--format yaml|json]";

/** Runs the command; resolves to the exit code (2 on invalid input or usage). */
export async function run(args: string[]): Promise<number> {
  let format = "yaml";
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--format") format = args[++i] ?? "";
    else if (args[i].startsWith("--format=")) format = args[i].slice("--format=".length);
    else if (args[i] === "--help" || args[i] === "-h") {
      console.log(USAGE);
      return 0;
    } else if (args[i].startsWith("-")) {
      console.error(`smartfleet render: unknown option '${args[i]}'\n${USAGE}`);
      return 2;
    } else files.push(args[i]);
  }
  if (files.length !== 1 || (format !== "yaml" && format !== "json")) {
    console.error(USAGE);
    return 2;
  }
  try {
    const loaded = loadStackSync(files[0]);
    // The components are expanded already; leaving them in would expand them twice when
    // the rendered stack is loaded again.
    const { components: _expanded, ...expanded } = loaded.stack;
    const header = `# ${files[0]} expanded${loaded.components.length ? ` (components: ${loaded.components.map((c) => `${c.name}@${c.version}`).join(", ")})` : ""}\n`;
    process.stdout.write(format === "json" ? JSON.stringify(expanded, null, 2) + "\n" : header + stringify(expanded, { lineWidth: 0 }));
    return 0;
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    console.error(err.message);
    return 2;
  }
}
