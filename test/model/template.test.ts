import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { compileTemplate, TemplateRenderError } from "../../model/template";

describe("component templates", () => {
  it("maps every rendered line to the template line that produced it, also inside loops", () => {
    const render = compileTemplate("a: 1\n{{#each hosts}}\n{{this}}:\n  x: 1\n{{/each}}\nb: 2\n");
    const out = render({ hosts: ["h1", "h2"] });
    expect(out.text).toBe("a: 1\nh1:\n  x: 1\nh2:\n  x: 1\nb: 2\n");
    expect([1, 2, 3, 4, 5, 6].map(out.templateLineOf)).toEqual([1, 3, 4, 3, 4, 6]);
  });

  it("quotes values so rendered YAML stays valid whatever they contain", () => {
    const tricky = 'a: "b" # c\n- d';
    const out = compileTemplate("k: {{quote v}}\n")({ v: tricky });
    expect(parse(out.text)).toEqual({ k: tricky });
  });

  it("indents a block rendered by the yaml helper under a key", () => {
    const out = compileTemplate("outer:\n  inner:\n    {{indent 4 (yaml v)}}\n")({ v: { list: [1, 2], map: { k: "v: w" } } });
    expect(parse(out.text)).toEqual({ outer: { inner: { list: [1, 2], map: { k: "v: w" } } } });
  });

  it("does not HTML-escape values", () => {
    expect(compileTemplate("k: {{v}}\n")({ v: "a&b<c>" }).text).toBe("k: a&b<c>\n");
  });

  it("fails if a template uses a parameter that was not given, naming the template line", () => {
    const render = compileTemplate("a: 1\nb:\n  c: {{missing}}\n");
    let error: unknown;
    try {
      render({});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TemplateRenderError);
    expect(error).toMatchObject({ line: 3, column: 8, message: expect.stringContaining('"missing" not defined') });
  });

  it("fails if the template itself is malformed, naming its line", () => {
    expect(() => compileTemplate("a: 1\n{{#each x}}\n")).toThrow(TemplateRenderError);
  });

  it("fails if indent is given a width that is not a small integer", () => {
    expect(() => compileTemplate("{{indent -1 v}}")({ v: "x" })).toThrow(/indent: width must be an integer/);
  });
});
