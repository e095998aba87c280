/**
 * The fleet picture in each format `smartfleet graph` writes: one entry point for the
 * command and for anything else that shows a topology (the dashboard).
 */
import type { Topology } from "../../model/topology";
import { topologyToDot } from "./dot";
import { topologyToMermaid } from "./mermaid";
import { topologyToSvg } from "./svg";

/** The formats, the default first. */
export const GRAPH_FORMATS = ["svg", "dot", "mermaid"] as const;

/** One of `GRAPH_FORMATS`. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** The picture of `topology` in `format`: the same topology gives the same bytes. */
export async function renderTopology(topology: Topology, format: GraphFormat): Promise<string> {
  if (format === "dot") return topologyToDot(topology);
  if (format === "mermaid") return topologyToMermaid(topology);
  return topologyToSvg(topology);
}
