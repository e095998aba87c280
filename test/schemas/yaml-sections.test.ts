import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { InputError } from "../../schemas/diagnostics";
import { keptSections, MIN_CACHED_BYTES } from "../../schemas/parse-cache";
import { parseYamlFile, parseYamlText } from "../../schemas/yaml-source";
import { cutIntoSections, parseBySections, type ParsedSection } from "../../schemas/yaml-sections";
import { seededRandom } from "../support/seeded-random";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-yaml-sections-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const saved = process.env.SMARTFLEET_CACHE_DIR;
beforeEach(() => {
  process.env.SMARTFLEET_CACHE_DIR = fs.mkdtempSync(path.join(root, "cache-"));
});
afterEach(() => {
  if (saved === undefined) delete process.env.SMARTFLEET_CACHE_DIR;
  else process.env.SMARTFLEET_CACHE_DIR = saved;
});

/** A stack-shaped document with what YAML lets a member hold: comments, block and flow values, quoted and numeric keys, a block scalar. */
function stackText(hosts: number, version = (i: number) => "4.2.1"): string {
  const lines = ["# a fleet", "apiVersion: smartfleet.dev/v1", "kind: Stack", "metadata:", "  name: big", "  labels: { site: east }", "", "hosts:  # every server"];
  for (let i = 0; i < hosts; i++) {
    lines.push(
      `  esx-${String(i).padStart(4, "0")}:`,
      "    smartnics:",
      "      nic1:",
      "        mode: dpu",
      `        os: { image: esxi-arm, version: "8.0.${i % 3}" }`,
      "        services:",
      "          dfw:",
      `            version: ${version(i)}`,
      "            ports: [80, 443]",
      "            notes: |",
      "              kept as written",
      "              over two lines",
      `            "quoted key": 'it''s ${i}'`,
      "            42: numeric key",
      "  # between hosts",
      "",
    );
  }
  lines.push("policy:", "  disable:", "    - rule: SF001", "      reason: lab");
  return lines.join("\n") + "\n";
}

/** Values, their key order, and every position, as comparable data. */
function comparable(parsed: { value: unknown; sources: { entries(): unknown } }) {
  return { json: JSON.stringify(parsed.value), value: parsed.value, sources: parsed.sources.entries() };
}

function keptOf(sections: ParsedSection[]): Map<string, ParsedSection> {
  return new Map(sections.map((s) => [s.hash, s]));
}

describe("YAML parsed in sections", () => {
  it("gives the whole parse's values, key order and positions, fresh and with the sections of an earlier version", () => {
    const file = path.join(root, "stack.yaml");
    const text = stackText(300);
    const whole = parseYamlText(text, file);
    const fresh = parseBySections(text, file, 1000, new Map());
    expect(fresh?.sections).toHaveLength(3 + 300 + 1 + 1);
    expect(comparable(fresh!)).toEqual(comparable(whole));

    const edited = stackText(300, (i) => (i === 123 ? "4.2.2" : "4.2.1"));
    const again = parseBySections(edited, file, 1000, keptOf(fresh!.sections));
    expect(again!.sections.filter((s) => !fresh!.sections.some((f) => f.hash === s.hash))).toHaveLength(1);
    expect(comparable(again!)).toEqual(comparable(parseYamlText(edited, file)));
    expect(again!.sources.locate("/hosts/esx-0123/smartnics/nic1/services/dfw/version")).toEqual({ file, line: 8 + 123 * 16 + 8, column: 22 });

    // Lines inserted above shift every kept section: positions follow the new text.
    const shifted = "# one more comment\n# and another\n" + edited;
    expect(comparable(parseBySections(shifted, file, 1000, keptOf(again!.sections))!)).toEqual(comparable(parseYamlText(shifted, file)));
  });

  it("does not cut what could tie one part of the text to another or read differently alone", () => {
    for (const text of [
      "base: &b { a: 1 }\nother: *b\n",
      "hosts: !!map\n  a: 1\n",
      "%YAML 1.2\n---\na: 1\n",
      "- a\n- b\n",
      "a: 1\r\nb: 2\r\n",
      '"quoted": 1\n',
      "a: [1,\n2]\n",
    ])
      expect(cutIntoSections(text)).toBeUndefined();
    // A member value that is no mapping of plain keys stays one section.
    expect(cutIntoSections("hosts:\n  - a\n  - b\nother: 1\n")?.sections.map((s) => s.parent)).toEqual(["", ""]);
  });

  it("gives up, for the whole parse to report, when a section does not parse alone or a member repeats", () => {
    const file = path.join(root, "broken.yaml");
    expect(parseBySections("hosts:\n  a: {x: 1,\n  y: 2}\n", file, 1000, new Map())).toBeUndefined();
    expect(parseBySections('hosts:\n  a: "open\n  b: close"\n', file, 1000, new Map())).toBeUndefined();
    expect(parseBySections("hosts:\n  a: 1\n  b: 2\n  a: 3\n", file, 1000, new Map())).toBeUndefined();
    expect(parseBySections("a: 1\nhosts:\n  x: 1\na: 2\n", file, 1000, new Map())).toBeUndefined();
  });

  it("keeps a large file's sections, reuses them after an edit, and reports a duplicate added by the edit as the whole parse does", () => {
    const file = path.join(root, "kept.yaml");
    fs.writeFileSync(file, stackText(300));
    expect(fs.statSync(file).size).toBeGreaterThan(MIN_CACHED_BYTES);
    parseYamlFile(file);
    expect(keptSections(file, { maxAliasCount: 1000 }).size).toBe(305);

    const edited = stackText(300, (i) => (i === 7 ? "5.0.0" : "4.2.1"));
    fs.writeFileSync(file, edited);
    expect(comparable(parseYamlFile(file))).toEqual(comparable({ ...parseYamlText(edited, file) }));

    fs.writeFileSync(file, edited.replace("  esx-0009:", "  esx-0008:"));
    const error = (() => {
      try {
        parseYamlFile(file);
      } catch (e) {
        return e as InputError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(error!.errors).toEqual([expect.objectContaining({ path: "/hosts/esx-0008", line: 8 + 9 * 16 + 1, column: 3, message: expect.stringContaining("duplicate key") })]);
  });
});

/** A value for a member, drawn from what YAML lets a block hold, including what must not be cut through. */
function memberValue(next: () => number, indent: string): string[] {
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)];
  return pick([
    () => [` ${pick(["1", "true", "null", "~", "'quoted: yes'", '"a # b"', "plain text", "4.2.1", "0x1F", "-3"])}`],
    () => ["", `${indent}  x: 1`, `${indent}  # a comment`, `${indent}  y: [1, 2]`],
    () => [" |", `${indent}  line one`, "", `${indent}  line: two`],
    () => [" >-", `${indent}  folded`, `${indent}  text`],
    () => ["", `${indent}  - a`, `${indent}  - { b: 1 }`],
    () => [" {a: 1,", `${indent}  b: 2}`],
    () => [' "open', `${indent}  close"`],
    () => [""],
    () => [" plain", `${indent}  continued`],
  ])();
}

describe("YAML parsed in sections, against the whole parse on generated documents", () => {
  it("agrees on values, key order and positions, or gives up, for 1,000 documents", () => {
    const next = seededRandom(20261204);
    let cutAndAgreed = 0;
    for (let doc = 0; doc < 1000; doc++) {
      const lines: string[] = [];
      const entries = 1 + Math.floor(next() * 5);
      for (let e = 0; e < entries; e++) {
        if (next() < 0.2) lines.push("# top comment");
        const key = next() < 0.05 ? "dup" : `key${e}`;
        if (next() < 0.5) {
          lines.push(`${key}:`);
          const members = Math.floor(next() * 4);
          for (let m = 0; m < members; m++) {
            if (next() < 0.2) lines.push(next() < 0.5 ? "  # member comment" : "# column-0 comment");
            const [first, ...rest] = memberValue(next, "  ");
            lines.push(`  ${next() < 0.05 ? "m0" : `m${m}`}:${first}`, ...rest);
          }
        } else {
          const [first, ...rest] = memberValue(next, "");
          lines.push(`${key}:${first}`, ...rest);
        }
      }
      const text = lines.join("\n") + "\n";
      const file = `/generated/${doc}.yaml`;
      let whole: ReturnType<typeof parseYamlText> | undefined;
      try {
        whole = parseYamlText(text, file);
      } catch {
        whole = undefined;
      }
      const sections = parseBySections(text, file, 1000, new Map());
      if (!whole) {
        expect(sections, text).toBeUndefined();
        continue;
      }
      if (!sections) continue;
      expect(comparable(sections), text).toEqual(comparable(whole));
      cutAndAgreed++;
    }
    // Most documents are cut (the rest give up and parse whole): the comparison is not empty.
    expect(cutAndAgreed).toBeGreaterThan(400);
  });
});
