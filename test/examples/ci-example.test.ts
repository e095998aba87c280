import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

describe("the CI workflow example", () => {
  it("is valid YAML that checks freshness, uploads SARIF, comments Markdown and fails on a non-zero exit", () => {
    const text = fs.readFileSync(path.resolve(__dirname, "..", "..", "examples", "ci", "smartfleet-check.yml"), "utf8");
    const workflow = parse(text) as { jobs: { check: { steps: { run?: string; uses?: string; if?: string }[] } } };
    const steps = workflow.jobs.check.steps;
    const runs = steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("npm run codegen -- --check");
    expect(runs).toContain("smartfleet check stacks/*.yaml --format sarif --output smartfleet.sarif");
    expect(runs).toContain("--format markdown");
    expect(steps.some((s) => s.uses?.startsWith("github/codeql-action/upload-sarif"))).toBe(true);
    expect(steps.at(-1)?.if).toBe("steps.sarif.outputs.exit != '0'");
  });
});
