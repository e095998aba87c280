/**
 * `smartfleet graph STACK [--format svg|dot|mermaid] [--out FILE]`: the fleet a stack
 * declares as a picture — hosts containing their DPUs (with DPU OS), DPUs containing their
 * services and host devices, pairs and accelerator shares as edges across hosts, unmanaged
 * DPUs dashed, hosts grouped by cluster. It reads files only: no Pulumi, no network.
 */
import * as fs from "node:fs";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync } from "../../model/load";
import { stackTopology, type Topology } from "../../model/topology";
import { defineCommand, parseCommand } from "../args";
import { topologyToDot } from "../graph/dot";
import { topologyToMermaid } from "../graph/mermaid";
import { topologyToSvg } from "../graph/svg";

/** One line for `smartfleet help`. */
export const summary = "draw the fleet a stack declares (hosts, DPUs, services, pairs, shares) as SVG, DOT or Mermaid";

const FORMATS = ["svg", "dot", "mermaid"] as const;

const SPEC = defineCommand({
  name: "smartfleet graph",
  summary,
  positionals: { name: "STACK", description: "the stack file to draw", min: 1, max: 1 },
  options: {
    format: { type: "string", short: "f", choices: FORMATS, default: "svg", description: "svg (laid out, standalone), dot (Graphviz) or mermaid (Markdown)" },
    out: { type: "string", short: "o", valueName: "FILE", description: "write the picture to FILE instead of stdout" },
  },
});

/** The picture of `topology` in `format`. */
export async function renderTopology(topology: Topology, format: (typeof FORMATS)[number]): Promise<string> {
  if (format === "dot") return topologyToDot(topology);
  if (format === "mermaid") return topologyToMermaid(topology);
  return topologyToSvg(topology);
}

/** Runs the command; resolves to the exit code (2 on invalid input or usage). */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const { format, out } = parsed.values;
  let topology: Topology;
  try {
    topology = stackTopology(loadStackSync(parsed.positionals[0]));
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    console.error(err.message);
    return 2;
  }
  const picture = await renderTopology(topology, format);
  if (out === undefined) {
    process.stdout.write(picture);
    return 0;
  }
  try {
    fs.writeFileSync(out, picture);
  } catch (err) {
    console.error(`smartfleet graph: cannot write ${out}: ${(err as Error).message}`);
    return 2;
  }
  return 0;
}
