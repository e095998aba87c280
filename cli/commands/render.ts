/**
 * `smartfleet render STACK [--format yaml|json]`: prints the stack after component
 * expansion, with schema defaults filled in — what `pulumi up` would declare. The output
 * is itself a valid stack (with no components left to expand) when placed beside the original.
 * Reads files only: runs on plain Node.js >= 20, no Pulumi.
 */
import { stringify } from "yaml";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync } from "../../model/load";
import { defineCommand, parseCommand } from "../args";
import { stackFileProblem } from "../file-content";
import { isPulumiSettings } from "../stack-files";

/** One line for `smartfleet help`. */
export const summary = "print a stack with its components expanded and defaults filled in";

const SPEC = defineCommand({
  name: "smartfleet render",
  summary,
  positionals: { name: "STACK", description: "the stack file to render", min: 1, max: 1 },
  options: {
    format: { type: "string", short: "f", choices: ["yaml", "json"], default: "yaml", description: "output format" },
  },
});

/** Runs the command; resolves to the exit code (2 on invalid input or usage). */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const format = parsed.values.format;
  const files = parsed.positionals;
  if (isPulumiSettings(files[0])) {
    console.error(`${files[0]}: Pulumi stack settings, not a smartfleet stack: render the file its smartfleet:stackFile names`);
    return 2;
  }
  const problem = stackFileProblem(files[0]);
  if (problem) {
    console.error(`${problem.file}: ${problem.message}`);
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
