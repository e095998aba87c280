import { afterAll, describe, expect, it } from "vitest";
import { checkStack } from "../../policies/check";
import { writeLargeStack } from "../../model/large-stack";
import { loadStackSync } from "../../model/load";
import { tempDir } from "./stack-fixtures";

const tmp = tempDir("sf-large-");
afterAll(() => tmp.cleanup());

describe("a generated 1,000-DPU stack", () => {
  it("loads with every DPU resolved, expands its component and passes every rule", () => {
    const { stackFile, dpus } = writeLargeStack(tmp.dir, 1000);
    expect(dpus).toBe(1000);
    const stack = loadStackSync(stackFile);
    expect(stack.smartnics).toHaveLength(1000);
    expect(stack.servicePairs).toHaveLength(250);
    expect(stack.components.map((c) => c.name)).toEqual(["security-edge"]);
    const report = checkStack(stack);
    expect(report.findings).toEqual([]);
    expect(report.inputErrors).toEqual([]);
  });
});
