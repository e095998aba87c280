import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { writeFleetFiles } from "../../model/fleet-generator";
import { loadStackSync } from "../../model/load";
import { stackTopology } from "../../model/topology";
import { topologyToDot } from "../../cli/graph/dot";
import { layoutTopology, pack } from "../../cli/graph/layout";
import { topologyToMermaid } from "../../cli/graph/mermaid";
import { num, topologyToSvg, xml } from "../../cli/graph/svg";
import type { Topology, TopologyNode } from "../../model/topology";

/** The renderers on hand-made topologies: the cases a stack file rarely shows. */
const node = (id: string, parent?: string, extra: Partial<TopologyNode> = {}): TopologyNode => ({
  id,
  kind: (id.slice(0, id.indexOf(":")) as TopologyNode["kind"]) || "host",
  label: id.slice(id.lastIndexOf("/") + 1).replace(/^\w+:/, ""),
  details: [],
  ...(parent ? { parent } : {}),
  state: "declared",
  resources: [],
  ...extra,
});

/** Two hosts whose names differ only in punctuation; an edge from a leaf to a DPU box, one between boxes. */
const tricky: Topology = {
  stack: 'odd "name"',
  nodes: [
    node("host:a-b", undefined, { details: ['model "X" & <Y> \\ z'] }),
    node("dpu:a-b/nic1", "host:a-b"),
    node("service:a-b/nic1/s", "dpu:a-b/nic1"),
    node("accelerator:a-b/fpga0", "host:a-b"),
    node("host:a_b"),
    node("dpu:a_b/nic1", "host:a_b"),
    node("device:a_b/nic1/d", "dpu:a_b/nic1"),
    node("dpu:a_b/nic2", "host:a_b", { state: "unmanaged" }),
  ],
  edges: [
    { id: "share:1", kind: "share", from: "accelerator:a-b/fpga0", to: "dpu:a_b/nic1", label: "sh" },
    { id: "pair:1", kind: "pair", from: "dpu:a-b/nic1", to: "dpu:a_b/nic1", label: "p" },
  ],
};

describe("DOT", () => {
  const dot = topologyToDot(tricky);

  it("draws an edge to or from a box to the first node inside it, clipped at the box", () => {
    expect(dot).toContain('"accelerator:a-b/fpga0" -> "device:a_b/nic1/d" [label="sh", color="#8250df", style=bold, lhead="cluster_dpu:a_b/nic1"];');
    expect(dot).toContain('"service:a-b/nic1/s" -> "device:a_b/nic1/d" [label="p", color="#cf222e", style=dashed, ltail="cluster_dpu:a-b/nic1", lhead="cluster_dpu:a_b/nic1"];');
  });

  it("escapes quotes and backslashes, draws unmanaged DPUs dashed and empty", () => {
    expect(dot).toContain('digraph "odd \\"name\\"" {');
    expect(dot).toContain('label="a-b\\nmodel \\"X\\" & <Y> \\\\ z";');
    expect(dot).toMatch(/"dpu:a_b\/nic2" \[label="nic2", style="rounded,filled,dashed", fillcolor="#ffffff", color="#8c959f"\];/);
  });
});

describe("Mermaid", () => {
  const mermaid = topologyToMermaid(tricky);

  it("gives ids that differ only in punctuation distinct Mermaid ids", () => {
    expect(mermaid).toContain('subgraph host_a_b["a-b<br/>model #quot;X#quot; #amp; #lt;Y#gt; \\ z"]');
    expect(mermaid).toContain('subgraph host_a_b_2["a_b"]');
    expect(mermaid).toContain('  accelerator_a_b_fpga0 ==>|"sh"| dpu_a_b_nic1_2');
    expect(mermaid).toContain("  class dpu_a_b_nic2 unmanaged");
  });

  it("styles each link by its index, in edge order", () => {
    expect(mermaid).toContain("linkStyle 0 stroke:#8250df");
    expect(mermaid).toContain("linkStyle 1 stroke:#cf222e");
    expect(mermaid).not.toContain("linkStyle 2");
  });
});

describe("SVG", () => {
  it("writes numbers with at most one decimal and escapes markup", () => {
    expect([num(1), num(1.04), num(1.05), num(-0.01), num(123.456)]).toEqual(["1", "1", "1.1", "0", "123.5"]);
    expect(xml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;");
  });

  it("gives the same bytes on every run and escapes the stack's text", async () => {
    const [a, b] = [await topologyToSvg(tricky), await topologyToSvg(tricky)];
    expect(a).toBe(b);
    expect(a).toContain("<title id=\"sf-title\">Fleet topology of stack odd &quot;name&quot;</title>");
    expect(a).toContain("model &quot;X&quot; &amp; &lt;Y&gt; \\ z");
    expect(a).not.toMatch(/<script|href=|@import/);
  });

  it("routes every edge and sizes every box", async () => {
    const layout = await layoutTopology(tricky);
    for (const p of layout.nodes) expect(p.width > 0 && p.height > 0, p.node.id).toBe(true);
    for (const e of layout.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
    expect(layout.nodes.filter((p) => p.container).map((p) => p.node.id)).toEqual(["host:a-b", "dpu:a-b/nic1", "host:a_b", "dpu:a_b/nic1"]);
  });
});

describe("packing laid-out groups", () => {
  const overlaps = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

  it("places pieces without overlap, wider than tall, stacking small ones beside a tall one", () => {
    const pieces = [{ width: 400, height: 300 }, ...Array.from({ length: 9 }, (_, i) => ({ width: 100 + 10 * i, height: 80 + 5 * i }))];
    const at = pack(pieces);
    const placed = pieces.map((p, i) => ({ ...p, ...at[i] }));
    for (const [i, a] of placed.entries()) for (const b of placed.slice(i + 1)) expect(overlaps(a, b), JSON.stringify([a, b])).toBe(false);
    const width = Math.max(...placed.map((p) => p.x + p.width));
    const height = Math.max(...placed.map((p) => p.y + p.height));
    expect(width).toBeGreaterThan(height);
    expect(at[1]).toEqual({ x: 400, y: 0 });
    expect(at[2]).toEqual({ x: 400, y: 80 });
  });

  it("uses the minimum width before starting a new row", () => {
    const pieces = Array.from({ length: 4 }, () => ({ width: 100, height: 100 }));
    expect(pack(pieces, 400).map((p) => p.y)).toEqual([0, 0, 0, 0]);
    expect(new Set(pack(pieces).map((p) => p.y)).size).toBeGreaterThan(1);
  });
});

describe("layout of a generated fleet", () => {
  it("packs a cluster's unconnected hosts in rows, every box inside its parent, siblings apart", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-graph-fleet-"));
    try {
      const { stackFile } = writeFleetFiles(dir, { name: "packed", dpus: 24, clusterHosts: 12, pairEvery: 4 });
      const layout = await layoutTopology(stackTopology(loadStackSync(stackFile, { inventoryRoots: [dir] })));
      const box = new Map(layout.nodes.map((p) => [p.node.id, p]));
      const inside = (a: { x: number; y: number; width: number; height: number }, b: typeof a) =>
        a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width && a.y + a.height <= b.y + b.height;
      for (const p of layout.nodes) {
        if (p.node.parent) expect(inside(p, box.get(p.node.parent) as typeof p), `${p.node.id} in ${p.node.parent}`).toBe(true);
        expect(inside(p, { x: 0, y: 0, width: layout.width, height: layout.height })).toBe(true);
      }
      const siblings = new Map<string | undefined, typeof layout.nodes>();
      for (const p of layout.nodes) siblings.set(p.node.parent, [...(siblings.get(p.node.parent) ?? []), p]);
      for (const group of siblings.values()) {
        for (const [i, a] of group.entries()) {
          for (const b of group.slice(i + 1)) expect(a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.node.id} / ${b.node.id}`).toBe(true);
        }
      }
      // 12 hosts per cluster, pairs between hosts 0-1, 4-5, 8-9: not one column of hosts.
      const hosts = layout.nodes.filter((p) => p.node.kind === "host" && p.node.parent === layout.nodes.find((n) => n.node.kind === "cluster")?.node.id);
      expect(hosts).toHaveLength(12);
      expect(new Set(hosts.map((h) => Math.round(h.x))).size).toBeGreaterThan(2);
      expect(layout.width).toBeGreaterThan(layout.height / 2);
      for (const e of layout.edges) expect(e.points.length, e.edge.id).toBeGreaterThanOrEqual(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
