import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadStackSync } from "../../model/load";
import { FLEET, inputErrorsOf, tempDir } from "../support/stack-fixtures";

const repo = tempDir("smartfleet-inventory-path-");
fs.writeFileSync(path.join(repo.dir, "package.json"), "{}\n");
afterAll(() => repo.cleanup());

/** A stack in the temporary repository naming `inventory`; no extra inventory roots. */
function stackNaming(inventory: string, name = "stack.yaml"): string {
  return repo.write(name, `apiVersion: smartfleet.dev/v1\nkind: Stack\nmetadata: { name: test }\ninventory: ${JSON.stringify(inventory)}\nhosts: {}\n`);
}

const loadConfined = (file: string) => loadStackSync(file, { inventoryRoots: [] });

describe("where a stack's inventory may be read from", () => {
  it("fails if the inventory is outside the stack's repository, naming the stack's inventory line and never reading the file", () => {
    const errors = inputErrorsOf(() => loadConfined(stackNaming("/proc/self/environ")));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 4, column: 12, path: "/inventory", message: expect.stringContaining("outside the stack's repository") });
    expect(JSON.stringify(errors)).not.toMatch(/PATH=|HOME=/);
  });

  it("fails if a link inside the repository points outside it", () => {
    fs.symlinkSync(FLEET, path.join(repo.dir, "linked-fleet.yaml"));
    const errors = inputErrorsOf(() => loadConfined(stackNaming("linked-fleet.yaml", "linked.yaml")));
    expect(errors[0].message).toContain("outside the stack's repository");
  });

  it("reads an inventory outside the repository from a folder allowed explicitly", () => {
    const stack = loadStackSync(stackNaming(FLEET, "allowed.yaml"), { inventoryRoots: [path.dirname(FLEET)] });
    expect(stack.inventory.metadata.name).toBe("example");
  });

  it("fails if the inventory is not a text file, without echoing its bytes", () => {
    repo.write("blob.yaml", "");
    fs.writeFileSync(path.join(repo.dir, "blob.yaml"), Buffer.from([0x1b, 0x5b, 0x33, 0x31, 0x6d, 0x00, 0xff, 0xfe, 0x53, 0x45, 0x43, 0x52, 0x45, 0x54]));
    const errors = inputErrorsOf(() => loadConfined(stackNaming("blob.yaml", "blob-stack.yaml")));
    expect(errors[0]).toMatchObject({ message: expect.stringContaining("not a text file") });
    expect(JSON.stringify(errors)).not.toContain("SECRET");
  });

  it("fails if the inventory is a text file that is not a mapping, without echoing its contents", () => {
    repo.write("env.yaml", "API_TOKEN=s3cr3t-value-that-must-not-leak\n");
    const errors = inputErrorsOf(() => loadConfined(stackNaming("env.yaml", "env-stack.yaml")));
    expect(errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(errors)).not.toContain("s3cr3t");
  });
});
