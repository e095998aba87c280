/**
 * What `smartfleet check` makes of its arguments and of files that are not stacks:
 * directories and globs, Pulumi's settings files, empty, non-text and wrong-kind files, the
 * `--max-errors` cap and colour on a terminal.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../cli/commands/check";
import { firstNonTextByte } from "../../cli/file-content";
import { expandGlob, expandStackArgs } from "../../cli/stack-files";
import { colourFor } from "../../cli/terminal";
import { capture } from "./capture";

const repo = path.resolve(__dirname, "..", "..");
const examples = path.join(repo, "examples", "stacks");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sf-check-inputs-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const file = path.join(tmp, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** A stack repeating one mistake on `hosts` hosts (an unknown property on each DPU). */
function repeatedMistake(hosts: number): string {
  const lines = ["apiVersion: smartfleet.dev/v1", "kind: Stack", "metadata: { name: many, owner: t }", `inventory: ${path.join(examples, "fleet.yaml")}`, "hosts:"];
  for (let i = 0; i < hosts; i++) lines.push(`  h${i}:`, "    smartnics: { nic1: { mode: dpu, bogus: 1 } }");
  return write(`many-${hosts}.yaml`, lines.join("\n") + "\n");
}

describe("smartfleet check: directories, globs and Pulumi settings", () => {
  it("checks a directory's stacks, skipping Pulumi.<stack>.yaml and Pulumi.yaml with a note", async () => {
    const out = await capture(run, [path.join(repo, "stacks")]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("1 stack checked: 0 errors");
    expect(out.stderr).toMatch(/skipped .*stacks\/Pulumi\.lab\.yaml: Pulumi stack settings, not a smartfleet stack/);
  });

  it("skips Pulumi.<stack>.yaml also when the shell expanded stacks/*.yaml into file names", async () => {
    const files = fs.readdirSync(path.join(repo, "stacks")).filter((f) => f.endsWith(".yaml")).map((f) => path.join(repo, "stacks", f));
    expect(files.some((f) => path.basename(f) === "Pulumi.lab.yaml")).toBe(true);
    const out = await capture(run, files);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("1 stack checked: 0 errors");
  });

  it("expands a quoted glob itself, including ** for any depth", async () => {
    write("g/a.yaml", "x: 1\n");
    write("g/sub/b.yml", "x: 1\n");
    write("g/sub/notes.txt", "x\n");
    write("g/.hidden.yaml", "x: 1\n");
    write("g/node_modules/dep/c.yaml", "x: 1\n");
    expect(expandGlob(path.join(tmp, "g", "*.yaml"))).toEqual([path.join(tmp, "g", "a.yaml")]);
    expect(expandGlob(path.join(tmp, "g", "**", "*.y*ml"))).toEqual([path.join(tmp, "g", "a.yaml"), path.join(tmp, "g", "sub", "b.yml")]);
    const out = await capture(run, [path.join(repo, "stacks", "*.yaml")]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("1 stack checked");
  });

  it("leaves Fleet inventories and Components found in a directory out (they are checked through their stacks)", () => {
    const { files, skipped } = expandStackArgs([examples]);
    expect(files.map((f) => path.basename(f)).sort()).toEqual(["datacenter.yaml", "lab-east.yaml", "needs-review.yaml"]);
    expect(skipped).toEqual([{ file: path.join(examples, "fleet.yaml"), reason: "a Fleet inventory, checked through the stacks that use it" }]);
  });

  it("fails with a usage error when a directory or glob names no stack file", async () => {
    fs.mkdirSync(path.join(tmp, "none"), { recursive: true });
    const out = await capture(run, [path.join(tmp, "none"), path.join(tmp, "nowhere", "*.yaml")]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("no stack files in");
    expect(out.stderr).toContain("nowhere/*.yaml");
  });

  it("fails with a usage error when every file given is a Pulumi settings file", async () => {
    const out = await capture(run, [path.join(repo, "stacks", "Pulumi.lab.yaml")]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain("no stack files left to check");
  });
});

describe("smartfleet check: files that are not stacks", () => {
  it.each([
    ["an empty file", ""],
    ["a file of comments and blank lines", "# nothing yet\n\n"],
  ])("says %s is empty and what it expected", async (_what, content) => {
    const out = await capture(run, [write(`empty-${content.length}.yaml`, content)]);
    expect(out.code).toBe(2);
    expect(out.stdout).toContain("empty file, expected a Stack document (apiVersion: smartfleet.dev/v1, kind: Stack)");
    expect(out.stdout).not.toContain("must be object");
  });

  it("names binary content by its offset and never echoes the bytes (text and SARIF)", async () => {
    const garbage = Buffer.concat([Buffer.from("apiVersion: smartfleet.dev/v1\n"), Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0x07])]);
    const file = write("garbage.yaml", garbage);
    for (const format of ["text", "sarif"]) {
      const out = await capture(run, [file, "--format", format]);
      expect(out.code).toBe(2);
      expect(out.stdout).toContain("not a text file: byte 0x1b at offset 30");
      expect(out.stdout).not.toMatch(/[\x00-\x08\x0e-\x1f\x7f\xff]/);
    }
  });

  it("finds the first byte of invalid UTF-8, and accepts a literal replacement character", () => {
    expect(firstNonTextByte(Buffer.from("kind: Stack\n"))).toBeUndefined();
    expect(firstNonTextByte(Buffer.from("name: \ufffd ok\n"))).toBeUndefined();
    expect(firstNonTextByte(Buffer.concat([Buffer.from("h\u00e9llo "), Buffer.from([0xc3, 0x28])]))).toBe(7);
    expect(firstNonTextByte(Buffer.from([0x61, 0xed, 0xa0, 0x80]))).toBe(1); // a UTF-16 surrogate
  });

  it("says an inventory passed as a stack is a Fleet inventory and how it is used", async () => {
    const out = await capture(run, [path.join(examples, "fleet.yaml")]);
    expect(out.code).toBe(2);
    expect(out.stdout).toContain("this is a Fleet inventory, not a Stack: a stack names it in `inventory:`");
    expect(out.stdout).toContain("smartfleet emulator start --inventory FILE");
    expect(out.stdout).not.toContain("missing required property");
  });

  it("says a Component passed as a stack is one", async () => {
    const component = path.join(repo, "stacks", "components", "security-edge", "1.0.0", "component.yaml");
    const out = await capture(run, [component]);
    expect(out.code).toBe(2);
    expect(out.stdout).toContain("this is a Component, not a Stack");
  });

  it("says a Pulumi settings file under another name is one", async () => {
    const out = await capture(run, [write("settings.yaml", "config:\n  smartfleet:stackFile: stacks/lab.yaml\n")]);
    expect(out.code).toBe(2);
    expect(out.stdout).toContain("this is Pulumi stack settings (Pulumi.<stack>.yaml), not a smartfleet Stack");
  });
});

describe("smartfleet check --max-errors", () => {
  it("lists 50 problems by default, then '… and N more', with the totals exact", async () => {
    const out = await capture(run, [repeatedMistake(80)]);
    expect(out.code).toBe(2);
    expect(out.stdout.split("\n").filter((l) => l.includes("[invalid input]"))).toHaveLength(50);
    expect(out.stdout).toContain("… and 30 more (--max-errors 0 lists every one)");
    expect(out.stdout).toContain("1 stack checked: 0 errors, 0 warnings, 0 waived, 1 invalid");
  });

  it("takes another cap, 0 for none, and caps Markdown too; JSON lists every problem", async () => {
    const file = repeatedMistake(12);
    const five = await capture(run, [file, "--max-errors", "5"]);
    expect(five.stdout.split("\n").filter((l) => l.includes("[invalid input]"))).toHaveLength(5);
    expect(five.stdout).toContain("… and 7 more");
    const all = await capture(run, [file, "--max-errors", "0"]);
    expect(all.stdout.split("\n").filter((l) => l.includes("[invalid input]"))).toHaveLength(12);
    expect(all.stdout).not.toContain("more (--max-errors");
    const markdown = await capture(run, [file, "--format", "markdown", "--max-errors", "3"]);
    expect(markdown.stdout.split("\n").filter((l) => l.includes("unknown property"))).toHaveLength(3);
    expect(markdown.stdout).toContain("… and 9 more");
    const json = await capture(run, [file, "--format", "json", "--max-errors", "3"]);
    expect(JSON.stringify(JSON.parse(json.stdout)).match(/unknown property/g)).toHaveLength(12);
  });

  it("refuses a negative or fractional cap", async () => {
    for (const value of ["--max-errors=-1", "--max-errors=1.5"]) {
      const out = await capture(run, [repeatedMistake(1), value]);
      expect(out.code).toBe(2);
      expect(out.stderr).toContain("option --max-errors needs an integer >= 0");
    }
  });
});

describe("colour", () => {
  it("is on for a terminal only, and off whenever NO_COLOR is set or TERM is dumb", () => {
    expect(colourFor({ isTTY: true }, {})).toBe(true);
    expect(colourFor({ isTTY: false }, {})).toBe(false);
    expect(colourFor({}, {})).toBe(false);
    expect(colourFor({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colourFor({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(colourFor({ isTTY: true }, { TERM: "dumb" })).toBe(false);
  });

  it("paints severities on a terminal and writes plain text to a pipe or with NO_COLOR", async () => {
    const stack = path.join(examples, "needs-review.yaml");
    const stdout = process.stdout as { isTTY?: boolean };
    const was = stdout.isTTY;
    const noColor = process.env.NO_COLOR;
    try {
      delete process.env.NO_COLOR;
      stdout.isTTY = true;
      const tty = await capture(run, [stack]);
      expect(tty.stdout).toContain("\x1b[31merror  \x1b[0m");
      expect(tty.stdout).toContain("\x1b[33mwarning\x1b[0m");
      process.env.NO_COLOR = "1";
      expect((await capture(run, [stack])).stdout).not.toContain("\x1b[");
      delete process.env.NO_COLOR;
      stdout.isTTY = false;
      expect((await capture(run, [stack])).stdout).not.toContain("\x1b[");
    } finally {
      stdout.isTTY = was;
      if (noColor === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = noColor;
    }
  });
});

describe("plain factory passwords", () => {
  it("are noted once per inventory on stderr, pointing at passwordFrom; the exit code and report are unchanged", async () => {
    const out = await capture(run, [path.join(examples, "lab-east.yaml"), path.join(examples, "datacenter.yaml")]);
    expect(out.code).toBe(0);
    const notes = out.stderr.split("\n").filter((l) => l.includes("in plain text"));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/note: .*examples\/stacks\/fleet\.yaml holds \d+ factory passwords? in plain text; passwordFrom: env:NAME or file:PATH/);
    expect(out.stdout).not.toContain("plain text");
  });

  it("are not noted when every DPU's password is a reference", async () => {
    const inventory = fs.readFileSync(path.join(examples, "fleet.yaml"), "utf8").replace(/password: "?[^,}\n"]+"?/g, "passwordFrom: env:SOME_VAR");
    write("refs/fleet.yaml", inventory);
    const stack = fs.readFileSync(path.join(examples, "lab-east.yaml"), "utf8");
    const out = await capture(run, [write("refs/lab-east.yaml", stack)]);
    expect(out.code, out.stdout).toBe(0);
    expect(out.stderr).not.toContain("plain text");
  });
});
