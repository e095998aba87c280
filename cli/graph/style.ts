/**
 * The colours and line styles of the fleet picture, shared by every renderer (SVG, DOT,
 * Mermaid) so the three formats read the same. Fills say what a box is; the outline says
 * its state once one is observed.
 */
import type { TopologyEdgeKind, TopologyNodeKind, TopologyState } from "../../model/topology";

/** Fill and outline of a box by what it stands for. */
export const NODE_STYLE: Record<TopologyNodeKind, { fill: string; stroke: string; title: string }> = {
  cluster: { fill: "#f6f8fa", stroke: "#8c959f", title: "cluster" },
  host: { fill: "#ffffff", stroke: "#57606a", title: "host" },
  dpu: { fill: "#ddf4ff", stroke: "#0969da", title: "DPU" },
  service: { fill: "#dafbe1", stroke: "#1a7f37", title: "service" },
  device: { fill: "#fff8c5", stroke: "#9a6700", title: "host device" },
  accelerator: { fill: "#fbefff", stroke: "#8250df", title: "accelerator" },
};

/** The outline of a box in a state other than `declared` (declared keeps its kind's outline). */
export const STATE_STROKE: Partial<Record<TopologyState, string>> = {
  unmanaged: "#8c959f",
  converged: "#1a7f37",
  drifted: "#bc4c00",
  changing: "#0969da",
  failed: "#cf222e",
  unprotected: "#9a6700",
  unreachable: "#cf222e",
};

/** How each kind of edge is drawn: colour, SVG dash pattern and width, Graphviz style, Mermaid link. */
export const EDGE_STYLE: Record<TopologyEdgeKind, { stroke: string; dash?: string; width: number; dot: string; mermaid: string; title: string }> = {
  pair: { stroke: "#cf222e", dash: "6 4", width: 2, dot: "dashed", mermaid: "-.->", title: "FT pair, primary → secondary" },
  share: { stroke: "#8250df", width: 2.5, dot: "bold", mermaid: "==>", title: "accelerator share" },
  backs: { stroke: "#57606a", width: 1, dot: "solid", mermaid: "-->", title: "service backs device" },
};
