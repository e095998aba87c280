import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { declareResources } from "../../providers/declare";

const LAB = path.resolve(__dirname, "..", "..", "stacks", "lab.yaml");

/** Names the engine (Pulumi's mocks) was asked to register, in order. */
const registered: string[] = [];

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("declaring a fleet", () => {
  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push(args.name);
          return { id: `${args.name}-id`, state: args.inputs };
        },
        call: () => ({}),
      },
      "smartfleet",
      "declare",
      false,
    );
  });

  it("sends registrations while it is still declaring, so the engine can start on the first hosts", async () => {
    const declarations = resourceDeclarations(loadStackSync(LAB));
    let declaredAll = false;
    // A slice of 0 ms yields before every resource: the finest interleaving.
    const declaring = declareResources(declarations, "Managed-Pa55word!", undefined, 0).then((fleet) => {
      declaredAll = true;
      return fleet;
    });
    while (registered.length === 0 && !declaredAll) await nextTurn();
    expect(registered.length, "a registration reached the engine").toBeGreaterThan(0);
    expect(declaredAll, "the loop was still declaring when it did").toBe(false);

    const fleet = await declaring;
    expect(fleet.resources.map((r) => r.declaration.name)).toEqual(declarations.map((d) => d.name));
    // Every resource, and the component of each host, reaches the engine in the end.
    while (registered.length < declarations.length + 4) await nextTurn();
    expect(new Set(registered)).toEqual(new Set([...declarations.map((d) => d.name), "esx-01", "esx-02", "esx-03", "esx-04"]));
  });

  it("puts V8's stack trace limit back after declaring, also when a declaration fails", async () => {
    const limit = Error.stackTraceLimit;
    const [first, ...rest] = resourceDeclarations(loadStackSync(LAB));
    await declareResources([first, ...rest.slice(0, 3)], "Managed-Pa55word!");
    expect(Error.stackTraceLimit).toBe(limit);

    const orphan = { ...first, name: "orphan", dependsOn: ["not-declared"] };
    await expect(declareResources([orphan], "Managed-Pa55word!")).rejects.toThrow("internal: not-declared is used before it is declared");
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
