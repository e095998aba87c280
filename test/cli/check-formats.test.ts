import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parse, stringify } from "yaml";
import addFormats from "ajv-formats";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { run } from "../../cli/commands/check";
import { run as runRender } from "../../cli/commands/render";
import { loadStackSync } from "../../model/load";
import { stackText, tempDir } from "../support/stack-fixtures";

const examples = path.resolve(__dirname, "..", "..", "examples", "stacks");
const clean = path.join(examples, "lab-east.yaml");
const failing = path.join(examples, "needs-review.yaml");
const tmp = tempDir("sf-check-");
afterAll(() => tmp.cleanup());

let stdout = "";
let stderr = "";
beforeEach(() => {
  stdout = "";
  stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    stderr += args.join(" ") + "\n";
  });
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    stdout += args.join(" ") + "\n";
  });
});
afterEach(() => vi.restoreAllMocks());

function sarifValidator() {
  const schema = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "fixtures", "sarif-schema-2.1.0.json"), "utf8")) as object;
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  return ajv.compile(schema);
}

describe("smartfleet check", () => {
  it("exits 0 on a clean stack and says so", async () => {
    expect(await run([clean])).toBe(0);
    expect(stdout).toContain("1 stack checked: 0 errors, 0 warnings, 0 waived");
  });

  it("fails if a stack breaks a rule: exit 1, one line per finding at its position", async () => {
    expect(await run([failing])).toBe(1);
    expect(stdout).toContain(`${failing}:17:15  error    SF004 security-isolation  firewall service fw runs on esx-01/nic1, which is privileged`);
    expect(stdout).toMatch(/needs-review\.yaml:\d+:\d+  warning  SF003/);
    expect(stdout).toContain("disabled by the stack: lab-only stack");
  });

  it("exits 0 when there are only warnings", async () => {
    const file = tmp.write(
      "warn.yaml",
      stackText("hosts:\n  esx-01:\n    smartnics: { nic1: {}, nic2: {} }\nservicePairs:\n  w:\n    service: { type: vsan-witness, version: '1', cores: 1, memoryGiB: 1 }\n    primary: esx-01/nic1\n    secondary: esx-01/nic2\n"),
    );
    expect(await run([file])).toBe(0);
    expect(stdout).toContain("0 errors, 1 warning");
  });

  it("fails if a stack is invalid input: exit 2, even next to a stack with policy errors", async () => {
    const file = tmp.write("bad.yaml", stackText("hosts:\n  esx-01:\n    smartnics: { nic1: { mode: turbo } }\n"));
    expect(await run([failing, file])).toBe(2);
    expect(stdout).toContain(`${file}:7:32  /hosts/esx-01/smartnics/nic1/mode  must be equal to one of the allowed values`);
  });

  it("fails if a stack disables a rule that does not exist", async () => {
    const file = tmp.write("waiver.yaml", stackText("policy:\n  disable:\n    - { rule: SF999, reason: this rule is not wanted here }\n"));
    expect(await run([file])).toBe(2);
    expect(stdout).toContain(`${file}:7:15  /policy/disable/0/rule  no policy rule has this id`);
  });

  it("fails if a rule is disabled without a written reason", async () => {
    const file = tmp.write("noreason.yaml", stackText("policy:\n  disable:\n    - { rule: SF004, reason: meh }\n"));
    expect(await run([file])).toBe(2);
    expect(stdout).toContain("/policy/disable/0/reason  must NOT have fewer than 10 characters");
  });

  it("fails if the reason for disabling a rule is mostly blank", async () => {
    const file = tmp.write("blank.yaml", stackText('policy:\n  disable:\n    - { rule: SF004, reason: "          ok" }\n'));
    expect(await run([file])).toBe(2);
    expect(stdout).toContain(`${file}:7:30  /policy/disable/0/reason  must match pattern`);
  });

  it("fails if the usage is wrong: exit 2", async () => {
    expect(await run([])).toBe(2);
    expect(await run([clean, "--format", "xml"])).toBe(2);
    expect(stderr).toContain("unknown format 'xml'");
  });

  it("writes JSON with totals and every finding", async () => {
    expect(await run([failing, "--format", "json"])).toBe(1);
    const doc = JSON.parse(stdout) as { summary: Record<string, number>; stacks: { findings: { ruleId: string; location: { line: number } }[] }[] };
    expect(doc.summary).toEqual({ stacks: 1, invalid: 0, errors: 3, warnings: 1, waived: 1 });
    expect(doc.stacks[0].findings.map((f) => f.ruleId)).toEqual(["SF005", "SF004", "SF008", "SF003"]);
  });

  it("writes SARIF 2.1.0 that validates against the SARIF schema", async () => {
    expect(await run([failing, "--format=sarif"])).toBe(1);
    const log = JSON.parse(stdout) as { version: string; runs: { results: { ruleId: string; suppressions?: unknown[]; locations: { physicalLocation: { region: { startLine: number } } }[] }[] }[] };
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.version).toBe("2.1.0");
    const results = log.runs[0].results;
    expect(results.find((r) => r.ruleId === "SF004")?.locations[0].physicalLocation.region.startLine).toBe(17);
    expect(results.find((r) => r.ruleId === "SF006")?.suppressions).toEqual([{ kind: "inSource", justification: expect.stringContaining("lab-only") }]);
  });

  it("writes SARIF for invalid input and component output that also validates", async () => {
    const bad = tmp.write("bad2.yaml", stackText("hosts:\n  esx-01: { colour: blue }\n"));
    const fromComponent = tmp.write("comp.yaml", stackText("components:\n  - use: security-edge@1.0.0\n    with: { hosts: [esx-01] }\n  - use: vsan-cluster@1\n    with: { cluster: c, hosts: [esx-01, esx-02], witness: { primary: esx-01/nic1, secondary: esx-01/nic1 } }\n"));
    expect(await run([bad, fromComponent, "--format", "sarif"])).toBe(2);
    const log = JSON.parse(stdout) as { runs: { results: { ruleId: string; relatedLocations?: unknown[] }[] }[] };
    const validate = sarifValidator();
    expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    expect(log.runs[0].results[0].ruleId).toBe("SF000");
    expect(log.runs[0].results.find((r) => r.ruleId === "SF003")?.relatedLocations).toHaveLength(1);
  });

  it("fails if the SARIF schema check is given a broken log (the check can fail)", () => {
    const validate = sarifValidator();
    expect(validate({ version: "2.1.0", runs: [{ tool: { driver: {} }, results: [{ level: "fatal" }] }] })).toBe(false);
  });

  it("writes a Markdown pull-request comment from its template", async () => {
    expect(await run([failing, clean, "--format", "markdown"])).toBe(1);
    expect(stdout).toContain("## smartfleet check: failed");
    expect(stdout).toContain("| :x: error | `SF004` security-isolation |");
    expect(stdout).toContain("| :warning: warning | `SF003` service-pair-anti-affinity |");
    expect(stdout).toContain("finding(s) of disabled rules");
    expect(stdout).toContain("No findings.");
    expect(stdout).toContain("**SF008 mode-change-disruption**");
  });

  it("writes the report to --output", async () => {
    const out = path.join(tmp.dir, "report.md");
    expect(await run([clean, "--format", "markdown", "--output", out])).toBe(0);
    expect(fs.readFileSync(out, "utf8")).toContain("## smartfleet check: passed");
  });
});

describe("smartfleet render", () => {
  it("prints the expanded stack with components merged and defaults filled in", async () => {
    expect(await runRender([path.join(examples, "datacenter.yaml")])).toBe(0);
    expect(stdout).toContain("components: vsan-cluster@1.0.0");
    expect(stdout).toContain("edge-firewall:");
    expect(stdout).toContain("hostPrivilege: restricted");
  });

  it("prints a stack that loads again to the same model", async () => {
    const original = path.join(examples, "datacenter.yaml");
    expect(await runRender([original])).toBe(0);
    // Beside the original in meaning: the inventory path is made absolute, the file lives in a temp dir.
    const rendered = parse(stdout) as { inventory: string };
    rendered.inventory = path.join(examples, rendered.inventory);
    const copy = tmp.write("rendered.yaml", stringify(rendered));
    const again = loadStackSync(copy);
    const first = loadStackSync(original);
    expect(again.components).toEqual([]);
    expect(again.smartnics.map((s) => [s.id, s.spec])).toEqual(first.smartnics.map((s) => [s.id, s.spec]));
    expect(again.servicePairs.map((p) => p.spec)).toEqual(first.servicePairs.map((p) => p.spec));
  });

  it("fails if the stack is invalid: exit 2 with every error", async () => {
    const file = tmp.write("r.yaml", stackText("hosts:\n  nope: {}\n"));
    expect(await runRender([file])).toBe(2);
    expect(stderr).toContain(`${file}:6:3  /hosts/nope  host is not in the inventory`);
  });
});
