import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { run } from "../../cli/commands/graph";
import { LiveConfigError, liveTargets } from "../../cli/graph/live";
import { loadStackSync } from "../../model/load";
import { capture } from "./capture";

/**
 * `smartfleet graph`: the three formats against golden files of a small stack
 * (test/fixtures/graph/; UPDATE_GOLDEN=1 rewrites them), the SVG parsed as XML with every
 * host and DPU of the inventory in it and every box inside its parent, the committed lab
 * picture equal to what the command draws now, and the error paths.
 */
const root = path.resolve(__dirname, "..", "..");
const fixtures = path.join(root, "test", "fixtures", "graph");
const stack = path.join(fixtures, "stack.yaml");
const GOLDEN = { svg: "stack.svg", dot: "stack.dot", mermaid: "stack.mmd" } as const;

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sf-graph-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** An element of a parsed XML document. */
interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = "[A-Za-z_:][-A-Za-z0-9_:.]*";
const ENTITY = /&(?!(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/;

/**
 * A strict parser for the XML the renderer writes (declaration, elements, attributes, text,
 * entity references): throws at the first thing that is not well-formed — an unclosed or
 * mismatched tag, a bad attribute, a bare `&` or `<`, a second root.
 */
function parseXml(source: string): XmlElement {
  let rest = source.replace(/^<\?xml [^?]*\?>\s*/, "");
  const top: XmlElement = { name: "#document", attributes: {}, children: [], text: "" };
  const stack = [top];
  const tag = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}="[^"<]*")*)\\s*(/?)>`);
  while (rest.length > 0) {
    const current = stack[stack.length - 1];
    if (rest.startsWith("<")) {
      const m = tag.exec(rest);
      if (!m) throw new Error(`not well-formed at: ${rest.slice(0, 60)}`);
      const [whole, closing, name, attrs, selfClosing] = m;
      rest = rest.slice(whole.length);
      if (closing) {
        if (current.name !== name) throw new Error(`</${name}> closes <${current.name}>`);
        stack.pop();
        continue;
      }
      const attributes: Record<string, string> = {};
      for (const a of attrs.matchAll(new RegExp(`(${NAME})="([^"]*)"`, "g"))) {
        if (a[1] in attributes) throw new Error(`attribute ${a[1]} twice on <${name}>`);
        if (ENTITY.test(a[2])) throw new Error(`bare & in attribute ${a[1]} of <${name}>`);
        attributes[a[1]] = a[2];
      }
      const element: XmlElement = { name, attributes, children: [], text: "" };
      if (current === top && top.children.length > 0) throw new Error("more than one root element");
      current.children.push(element);
      if (!selfClosing) stack.push(element);
    } else {
      const end = rest.indexOf("<");
      const text = end < 0 ? rest : rest.slice(0, end);
      if (ENTITY.test(text) || text.includes("]]>")) throw new Error(`bad character data: ${text.slice(0, 60)}`);
      if (current === top && text.trim()) throw new Error("text outside the root element");
      current.text += text;
      rest = end < 0 ? "" : rest.slice(end);
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  if (top.children.length !== 1) throw new Error("no root element");
  return top.children[0];
}

function allElements(element: XmlElement): XmlElement[] {
  return [element, ...element.children.flatMap(allElements)];
}

describe("smartfleet graph: golden files of test/fixtures/graph/stack.yaml", () => {
  for (const [format, file] of Object.entries(GOLDEN)) {
    it(`draws ${format} as test/fixtures/graph/${file}`, async () => {
      const out = await capture(run, [stack, "--format", format]);
      expect(out).toMatchObject({ code: 0, stderr: "" });
      const golden = path.join(fixtures, file);
      if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(golden, out.stdout);
      expect(out.stdout).toBe(fs.readFileSync(golden, "utf8"));
    });
  }

  it("draws SVG by default, and --out writes the same bytes to a file", async () => {
    const byDefault = await capture(run, [stack]);
    expect(byDefault.stdout).toBe(fs.readFileSync(path.join(fixtures, GOLDEN.svg), "utf8"));
    const file = path.join(scratch, "out.dot");
    const out = await capture(run, [stack, "--format", "dot", "--out", file]);
    expect(out).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(fs.readFileSync(file, "utf8")).toBe(fs.readFileSync(path.join(fixtures, GOLDEN.dot), "utf8"));
  });
});

describe("smartfleet graph: the SVG", () => {
  it("is well-formed XML with every host and DPU of the stack's hosts, unmanaged ones marked", async () => {
    const svg = parseXml((await capture(run, [stack])).stdout);
    expect(svg.name).toBe("svg");
    expect(svg.attributes.xmlns).toBe("http://www.w3.org/2000/svg");
    const groups = new Map(allElements(svg).filter((e) => e.attributes["data-id"]).map((e) => [e.attributes["data-id"], e]));
    // The expected boxes come from the inventory and the stack file, not from the code under test.
    const inventory = parse(fs.readFileSync(path.join(fixtures, "fleet.yaml"), "utf8"));
    const declared = parse(fs.readFileSync(stack, "utf8"));
    const hosts = inventory.hosts.filter((h: { name: string }) => h.name in declared.hosts);
    expect(hosts).toHaveLength(3);
    for (const host of hosts) {
      const box = groups.get(`host:${host.name}`);
      expect(box?.children.map((c) => c.text)).toContain(host.name);
      for (const nic of host.smartnics) {
        const dpu = groups.get(`dpu:${host.name}/${nic.name}`);
        expect(dpu, `${host.name}/${nic.name}`).toBeDefined();
        const managed = nic.name in declared.hosts[host.name].smartnics;
        expect(dpu?.attributes.class.split(" ")).toContain(managed ? "declared" : "unmanaged");
      }
    }
    expect([...groups.keys()].filter((id) => id.startsWith("pair:") || id.startsWith("share:"))).toHaveLength(2);
  });

  it("places every box inside its parent and keeps siblings apart", async () => {
    const svg = parseXml((await capture(run, [stack])).stdout);
    const boxes = new Map(
      allElements(svg)
        .filter((e) => e.attributes["data-id"] && e.attributes.class.startsWith("node "))
        .map((e) => {
          const r = e.children.find((c) => c.name === "rect")?.attributes ?? {};
          return [e.attributes["data-id"], { x: +r.x, y: +r.y, w: +r.width, h: +r.height }];
        }),
    );
    // Parents from the ids: host:a ⊃ dpu:a/n ⊃ service:a/n/s, device:a/n/d; accelerator:a/x in host:a.
    const parentOf = (id: string) => {
      const [kind, at] = [id.slice(0, id.indexOf(":")), id.slice(id.indexOf(":") + 1)];
      const parts = at.split("/");
      if (kind === "dpu" || kind === "accelerator") return `host:${parts[0]}`;
      if (kind === "service" || kind === "device") return `dpu:${parts[0]}/${parts[1]}`;
      return undefined;
    };
    let checked = 0;
    for (const [id, b] of boxes) {
      const parent = parentOf(id);
      if (!parent) continue;
      const p = boxes.get(parent);
      expect(p, parent).toBeDefined();
      if (!p) continue;
      expect(b.x >= p.x && b.y >= p.y && b.x + b.w <= p.x + p.w && b.y + b.h <= p.y + p.h, `${id} inside ${parent}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(8);
    const hosts = [...boxes].filter(([id]) => id.startsWith("host:")).map(([, b]) => b);
    for (const [i, a] of hosts.entries()) {
      for (const b of hosts.slice(i + 1)) expect(a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y).toBe(true);
    }
  });

  it("the XML checker itself refuses broken XML", () => {
    expect(() => parseXml("<svg><g></svg>")).toThrow(/closes/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/character data/);
    expect(() => parseXml('<svg a="1" a="2"/>')).toThrow(/twice/);
    expect(() => parseXml("<svg/><svg/>")).toThrow(/root/);
  });
});

describe("smartfleet graph: the lab picture in the README", () => {
  it("docs/lab-topology.svg is what `smartfleet graph stacks/lab.yaml` draws now", async () => {
    const out = await capture(run, [path.join(root, "stacks", "lab.yaml"), "--format", "svg"]);
    expect(out.code).toBe(0);
    const committed = path.join(root, "docs", "lab-topology.svg");
    if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(committed, out.stdout);
    // Stale? Run: npx smartfleet graph stacks/lab.yaml --out docs/lab-topology.svg
    expect(out.stdout).toBe(fs.readFileSync(committed, "utf8"));
    expect(fs.readFileSync(path.join(root, "README.md"), "utf8")).toContain("](docs/lab-topology.svg)");
  });
});

describe("smartfleet graph: errors", () => {
  it("exits 2 for a missing stack file, naming it", async () => {
    const missing = path.join(scratch, "missing.yaml");
    const out = await capture(run, [missing]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`${missing}:1:1`);
    expect(out.stderr).toContain("file not found");
  });

  it("exits 2 for an invalid stack with the loader's file:line:column and pointer", async () => {
    const bad = path.join(scratch, "bad.yaml");
    const text = fs.readFileSync(stack, "utf8").replace("inventory: fleet.yaml", `inventory: ${path.join(fixtures, "fleet.yaml")}`);
    fs.writeFileSync(bad, text.replace("      nic1:\n        mode: dpu\n        services:", "      nic1:\n        mode: turbo\n        services:"));
    const line = fs.readFileSync(bad, "utf8").split("\n").findIndex((l) => l.includes("mode: turbo")) + 1;
    const out = await capture(run, [bad]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain(`${bad}:${line}:15  /hosts/gamma/smartnics/nic1/mode`);
    expect(out.stderr).toContain('got "turbo"');
  });

  it("exits 2 for a YAML syntax error with its position", async () => {
    const broken = path.join(scratch, "broken.yaml");
    fs.writeFileSync(broken, "apiVersion: smartfleet.dev/v1\nhosts: [unclosed\n");
    const out = await capture(run, [broken]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toMatch(new RegExp(`${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\d+:\\d+`));
  });

  it("exits 2 for an unknown --format, naming the choices", async () => {
    const out = await capture(run, [stack, "--format", "png"]);
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toContain("unknown format 'png' (--format takes svg, dot, mermaid)");
  });

  it("exits 2 when --out cannot be written", async () => {
    const out = await capture(run, [stack, "--out", path.join(scratch, "no", "such", "dir", "x.svg")]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("cannot write");
  });

  it("exits 2 for --live without --stack, and --stack without --live", async () => {
    const live = await capture(run, [stack, "--live"]);
    expect(live).toMatchObject({ code: 2, stdout: "" });
    expect(live.stderr).toContain("--live needs --stack NAME");
    const named = await capture(run, [stack, "--stack", "lab"]);
    expect(named.code).toBe(2);
    expect(named.stderr).toContain("--stack is only read with --live");
  });

  it("--live outside a Pulumi project: a clear error before anything is read", async () => {
    await expect(liveTargets("lab", loadStackSync(stack), scratch)).rejects.toThrow(new LiveConfigError(`no Pulumi.yaml in ${scratch} or above: --live reads the stack's configuration from the project`));
  });

  it("prints its usage for --help", async () => {
    const out = await capture(run, ["--help"]);
    expect(out).toMatchObject({ code: 0, stderr: "" });
    expect(out.stdout).toContain("usage: smartfleet graph [options] STACK");
    expect(out.stdout).toContain("--format svg|dot|mermaid");
  });
});

describe("smartfleet graph without the Pulumi toolchain", () => {
  it("runs from dist/ under plain Node with nothing else on PATH", () => {
    const main = path.join(root, "dist", "cli", "main.js");
    const result = spawnSync(process.execPath, [main, "graph", stack, "--format", "mermaid"], {
      cwd: scratch,
      encoding: "utf8",
      env: { PATH: path.dirname(process.execPath), HOME: scratch, SMARTFLEET_INVENTORY_PATH: fixtures },
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(fs.readFileSync(path.join(fixtures, GOLDEN.mermaid), "utf8"));
  });
});
