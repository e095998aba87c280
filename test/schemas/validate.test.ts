import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadValidatedYaml } from "../../schemas/validated-yaml";
import { inputErrorsOf } from "../support/stack-fixtures";

const schema = path.join(__dirname, "..", "fixtures", "pet.schema.json");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-validate-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}


describe("loadValidatedYaml", () => {
  it("returns the document with schema defaults filled in", () => {
    const file = write("ok.yaml", "name: tom\nkind: cat\n");
    expect(loadValidatedYaml(file, schema)).toEqual({ name: "tom", kind: "cat", age: 1 });
  });

  it("fails if a value is not one of the allowed values, at the value's line and column", () => {
    const file = write("enum.yaml", "name: tom\nkind:   bird\n");
    const [error] = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(error).toMatchObject({ file, line: 2, column: 9, path: "/kind", got: '"bird"', allowed: ['"cat"', '"dog"'] });
  });

  it("fails if a property is unknown, at the key", () => {
    const file = write("unknown.yaml", "name: tom\nkind: cat\nowner:\n  email: a@b.example\n  phone: 1\n");
    const [error] = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(error).toMatchObject({ line: 5, column: 3, path: "/owner/phone", message: "unknown property", allowed: ["email"] });
  });

  it("fails if a required property is missing, at the object", () => {
    const file = write("missing.yaml", "\nname: tom\n");
    const [error] = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(error).toMatchObject({ line: 2, column: 1, path: "/kind" });
    expect(error.message).toContain("missing required property 'kind'");
  });

  it("fails if a format does not match, and reports every error at once in source order", () => {
    const file = write("many.yaml", "name: Tom\nkind: cat\nage: -1\ntags: [a, 3]\nowner: { email: nope }\n");
    const errors = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(errors.map((e) => [e.path, e.line, e.column])).toEqual([
      ["/name", 1, 7],
      ["/age", 3, 6],
      ["/tags/1", 4, 11],
      ["/owner/email", 5, 17],
    ]);
    expect(errors[3].allowed).toEqual(["a email"]);
  });

  it("fails if a key is duplicated, at the second occurrence", () => {
    const file = write("dup.yaml", "name: tom\nkind: cat\nname: jerry\n");
    const [error] = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(error).toMatchObject({ line: 3, column: 1 });
    expect(error.message).toContain("duplicate key");
  });

  it("fails if aliases expand too much, at the first alias", () => {
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 8; i++) lines.push(`${"abcdefghij"[i]}: &${"abcdefghij"[i]} [${Array(10).fill("*" + "abcdefghij"[i - 1]).join(", ")}]`);
    const file = write("bomb.yaml", lines.join("\n") + "\n");
    const [error] = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(error).toMatchObject({ line: 2, column: 8 });
    expect(error.message).toContain("aliases expand too much");
  });

  it("fails if the YAML is malformed, at the syntax error", () => {
    const file = write("syntax.yaml", "name: tom\nkind: [cat\n");
    const errors = inputErrorsOf(() => loadValidatedYaml(file, schema));
    expect(errors[0].line).toBe(3);
    expect(errors[0].message).toMatch(/^YAML syntax/);
  });

  it("fails if the file is over the size limit", () => {
    const file = write("big.yaml", "name: tom\nkind: cat\n" + "#".repeat(200) + "\n");
    const [error] = inputErrorsOf(() => loadValidatedYaml(file, schema, { maxFileBytes: 100 }));
    expect(error).toMatchObject({ line: 1, column: 1, message: "file is too large", allowed: ["at most 100 bytes"] });
  });

  it("fails if the file does not exist", () => {
    const [error] = inputErrorsOf(() => loadValidatedYaml(path.join(dir, "absent.yaml"), schema));
    expect(error.message).toBe("file not found");
  });

  it("lists every error in the message as file:line:column  path  message  (got X; allowed: ...)", () => {
    const file = write("msg.yaml", "name: tom\nkind: bird\n");
    expect(() => loadValidatedYaml(file, schema)).toThrow(
      `${file}:2:7  /kind  must be equal to one of the allowed values  (got "bird"; allowed: "cat", "dog")`,
    );
  });
});
