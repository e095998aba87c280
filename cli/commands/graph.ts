/**
 * `smartfleet graph STACK [--format svg|dot|mermaid] [--out FILE] [--live --stack NAME]`:
 * the fleet a stack declares as a picture — hosts containing their DPUs (with DPU OS), DPUs
 * containing their services and host devices, pairs and accelerator shares as edges across
 * hosts, unmanaged DPUs dashed, hosts grouped by cluster. It reads files only: no Pulumi,
 * no network. With `--live`, each managed DPU's port is read once and every box shows
 * what it found (converged, drifted and how, changing, failed, unprotected, unreachable);
 * the ports, their CA and the management password come from Pulumi stack NAME's config.
 */
import * as fs from "node:fs";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync } from "../../model/load";
import type { LoadedStack } from "../../model/load";
import { observeTopology, stackTopology } from "../../model/topology";
import { defineCommand, parseCommand, usageError } from "../args";
import { GRAPH_FORMATS, renderTopology } from "../graph";

/** One line for `smartfleet help`. */
export const summary = "draw the fleet a stack declares (hosts, DPUs, services, pairs, shares) as SVG, DOT or Mermaid";

const SPEC = defineCommand({
  name: "smartfleet graph",
  summary,
  positionals: { name: "STACK", description: "the stack file to draw", min: 1, max: 1 },
  options: {
    format: { type: "string", short: "f", choices: GRAPH_FORMATS, default: "svg", description: "svg (laid out, standalone), dot (Graphviz) or mermaid (Markdown)" },
    out: { type: "string", short: "o", valueName: "FILE", description: "write the picture to FILE instead of stdout" },
    live: { type: "boolean", description: "read each managed DPU's port once and show the state found (needs --stack and the Pulumi toolchain)" },
    stack: { type: "string", valueName: "NAME", description: "with --live: the Pulumi stack whose endpoints, CA and management password reach the ports" },
  },
});

/** Runs the command; resolves to the exit code (2 on invalid input or usage). */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const { format, out, live, stack } = parsed.values;
  if (live && !stack) return usageError(SPEC, "--live needs --stack NAME: the Pulumi stack whose configuration reaches the ports");
  if (stack && !live) return usageError(SPEC, "--stack is only read with --live");
  let loaded: LoadedStack;
  try {
    loaded = loadStackSync(parsed.positionals[0]);
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
    console.error(err.message);
    return 2;
  }
  let topology = stackTopology(loaded);
  if (live && stack) {
    // Loaded on demand: the static picture needs neither the Redfish client nor Pulumi.
    const { liveTargets, observeDpus, LiveConfigError } = await import("../graph/live");
    try {
      const { targets, caPem } = await liveTargets(stack, loaded);
      const { observed, requests } = await observeDpus(targets, caPem);
      topology = observeTopology(loaded, topology, observed);
      const down = Object.entries(observed).filter(([, o]) => !o.reachable).map(([id, o]) => `${id} (${o.reachable ? "" : o.reason})`);
      const sent = Object.values(requests).reduce((a, b) => a + b, 0);
      console.error(`smartfleet graph: read ${targets.length} DPUs with ${sent} requests${down.length ? `; not read: ${down.join(", ")}` : ""}`);
    } catch (err) {
      if (!(err instanceof LiveConfigError)) throw err;
      console.error(`smartfleet graph: ${err.message}`);
      return 2;
    }
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
