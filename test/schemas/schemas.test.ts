import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { SCHEMA_DIR, validatorFor } from "../../schemas/validate";

type Node = Record<string, unknown>;

/** Every property schema in a schema, with its JSON path. */
function properties(node: unknown, at: string, out: [string, Node][]): void {
  if (typeof node !== "object" || node === null) return;
  const n = node as Node;
  for (const [name, child] of Object.entries((n.properties as Record<string, Node> | undefined) ?? {})) {
    out.push([`${at}/properties/${name}`, child]);
    properties(child, `${at}/properties/${name}`, out);
  }
  for (const [name, child] of Object.entries((n.$defs as Record<string, Node> | undefined) ?? {})) properties(child, `${at}/$defs/${name}`, out);
  for (const key of ["items", "additionalProperties"]) if (typeof n[key] === "object") properties(n[key], `${at}/${key}`, out);
}

const own = fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json") && f !== "fleet.schema.json");

describe("the project's schemas", () => {
  // The loader and the providers do not check their schemas on every start; this does.
  it.each(fs.readdirSync(SCHEMA_DIR).filter((f) => f.endsWith(".schema.json")))("%s is a valid JSON Schema 2020-12", (name) => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const valid = ajv.validateSchema(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, name), "utf8")) as object);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it.each(own)("%s compiles and describes every property", (name) => {
    expect(() => validatorFor(path.join(SCHEMA_DIR, name))).not.toThrow();
    const schema = JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, name), "utf8")) as Node;
    const found: [string, Node][] = [];
    properties(schema, "", found);
    const undescribed = found.filter(([, p]) => typeof p.description !== "string" && typeof p.$ref !== "string").map(([at]) => at);
    expect(undescribed).toEqual([]);
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });
});
