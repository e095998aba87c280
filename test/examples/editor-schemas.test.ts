/**
 * Editor schema hints: every example stack and inventory names its schema in a
 * `# yaml-language-server: $schema=...` modeline, and `.vscode/settings.json` maps the
 * repository's stacks, inventories and component manifests to theirs (and Pulumi's stack
 * settings to none). Each hint must name a schema file that exists and whose title is the
 * document's kind, so a renamed schema or a new example without a hint fails here.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { expandGlob } from "../../cli/stack-files";

const repo = path.resolve(__dirname, "..", "..");
const MODELINE = /^# yaml-language-server: \$schema=(\S+)$/m;

/** The schema title each document kind is validated against. */
const TITLE_OF_KIND: Record<string, string> = { Stack: "Stack", Fleet: "Fleet", Component: "ComponentManifest" };

function kindOf(file: string): string | undefined {
  return (parse(fs.readFileSync(file, "utf8")) as { kind?: string } | null)?.kind;
}

function titleOf(schemaFile: string): string {
  return (JSON.parse(fs.readFileSync(schemaFile, "utf8")) as { title: string }).title;
}

/** JSON with // comments, as VS Code reads its settings. */
function readJsonc(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, "utf8").replace(/^\s*\/\/.*$/gm, ""));
}

describe("editor schema hints", () => {
  const examples = expandGlob(path.join(repo, "examples", "**", "*.yaml")).filter((f) => kindOf(f) !== undefined);

  it("every example stack and inventory has a modeline naming the schema of its kind", () => {
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const file of examples) {
      const match = MODELINE.exec(fs.readFileSync(file, "utf8"));
      expect(match, `${path.relative(repo, file)} has no yaml-language-server modeline`).not.toBeNull();
      const schema = path.resolve(path.dirname(file), match![1]);
      expect(fs.existsSync(schema), `${path.relative(repo, file)} names ${match![1]}, which does not exist`).toBe(true);
      expect(titleOf(schema)).toBe(TITLE_OF_KIND[kindOf(file)!]);
    }
  });

  it(".vscode/settings.json maps each repository document to the schema of its kind, and Pulumi's settings to none", () => {
    const settings = readJsonc(path.join(repo, ".vscode", "settings.json")) as { "yaml.schemas": Record<string, string[]> };
    const matched = new Map<string, string[]>();
    for (const [schema, patterns] of Object.entries(settings["yaml.schemas"])) {
      expect(fs.existsSync(path.join(repo, schema)), `${schema} does not exist`).toBe(true);
      const included = new Set(patterns.filter((p) => !p.startsWith("!")).flatMap((p) => expandGlob(path.join(repo, p))));
      for (const p of patterns.filter((p) => p.startsWith("!"))) for (const f of expandGlob(path.join(repo, p.slice(1)))) included.delete(f);
      for (const f of included) matched.set(f, [...(matched.get(f) ?? []), schema]);
    }
    const documents = ["stacks/lab.yaml", "examples/lab/fleet.yaml", "examples/stacks/fleet.yaml", "stacks/components/security-edge/1.1.0/component.yaml"];
    for (const doc of documents) {
      const schemas = matched.get(path.join(repo, doc)) ?? [];
      expect(schemas, doc).toHaveLength(1);
      expect(titleOf(path.join(repo, schemas[0])), doc).toBe(TITLE_OF_KIND[kindOf(path.join(repo, doc))!]);
    }
    expect(matched.get(path.join(repo, "stacks", "Pulumi.lab.yaml"))).toBeUndefined();
  });
});
