import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GENERATED_HEADER, generateAll, runCodegen } from "../../schemas/codegen/generate";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-codegen-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
fs.copyFileSync(path.join(__dirname, "..", "fixtures", "pet.schema.json"), path.join(dir, "pet.schema.json"));

describe("codegen", () => {
  it("generates interfaces, string-literal unions and doc comments under the DO NOT EDIT header", () => {
    const [file] = generateAll(dir);
    expect(file.text.startsWith(GENERATED_HEADER)).toBe(true);
    expect(file.text).toContain("export interface Pet {");
    expect(file.text).toContain('export type PetKind = "cat" | "dog";');
    expect(file.text).toMatch(/\/\*\* Name\. \*\/\n  name: string;/);
    // a property with a default is always present after validation
    expect(file.text).toMatch(/age: number;/);
    expect(file.text).toMatch(/tags\?: string\[\];/);
  });

  it("produces identical output on every run", () => {
    expect(generateAll(dir)[0].text).toBe(generateAll(dir)[0].text);
  });

  it("fails if the committed output is stale, naming the file", () => {
    const lines: string[] = [];
    expect(runCodegen([], dir, (l) => lines.push(l))).toBe(0);
    expect(runCodegen(["--check"], dir, (l) => lines.push(l))).toBe(0);
    const generated = path.join(dir, "generated", "pet.ts");
    fs.appendFileSync(generated, "// edited by hand\n");
    lines.length = 0;
    expect(runCodegen(["--check"], dir, (l) => lines.push(l))).toBe(1);
    expect(lines.join("\n")).toContain("stale:");
    expect(lines.join("\n")).toContain("pet.ts");
  });

  it("fails if a generated file has no schema behind it", () => {
    runCodegen([], dir, () => undefined);
    fs.writeFileSync(path.join(dir, "generated", "gone.ts"), "export {};\n");
    const lines: string[] = [];
    expect(runCodegen(["--check"], dir, (l) => lines.push(l))).toBe(1);
    expect(lines.join("\n")).toMatch(/orphaned: .*gone\.ts/);
  });

  it("keeps the project's generated types in sync with its schemas", () => {
    const lines: string[] = [];
    expect(runCodegen(["--check"], undefined, (l) => lines.push(l)), lines.join("\n")).toBe(0);
  });
});
