/**
 * `loadStackDocuments`: a stack and an inventory given in code load exactly as the same
 * documents in files do, and errors name the virtual files and the JSON pointers.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { InputError } from "../../schemas/diagnostics";
import type { FleetInventory, ValidFleet } from "../../model/inventory";
import type { Stack } from "../../schemas/generated/stack";
import { loadStackDocuments, loadStackSync, type LoadedStack, type StackDocument } from "../../model/load";
import { FLEET, inputErrorsOf, stackText, tempDir } from "../support/stack-fixtures";

const EXAMPLES = path.resolve(__dirname, "..", "..", "examples", "stacks");
const readYaml = (file: string): unknown => parse(fs.readFileSync(file, "utf8"));
const EXAMPLE_FLEET = readYaml(FLEET) as FleetInventory;

const tmp = tempDir("sf-load-documents-");
afterAll(() => tmp.cleanup());

/** Everything of a loaded stack but where it came from (file names and positions). */
function model(stack: LoadedStack): Omit<LoadedStack, "file" | "inventoryFile" | "sources"> {
  const { file: _file, inventoryFile: _inventoryFile, sources: _sources, ...rest } = stack;
  return rest;
}

/** A stack written in code, with every default left out and no `inventory:`. */
const LAB: StackDocument = {
  apiVersion: "smartfleet.dev/v1",
  kind: "Stack",
  metadata: { name: "lab" },
  hosts: {
    "esx-01": {
      os: { image: "esxi-x86", version: "8.0.3", installVia: "nic1" },
      smartnics: {
        nic1: {
          hostPrivilege: "restricted",
          os: { image: "esxi-arm", version: "8.0.3", hostname: "esx-01-nic1" },
          services: { dfw: { type: "nsx-dfw", version: "4.2.1", cores: 4, memoryGiB: 8 } },
          devices: { vnic0: { kind: "vnic", backing: { service: "dfw" } } },
        },
      },
    },
    "esx-02": { smartnics: { nic1: { hostPrivilege: "restricted" } } },
  },
  servicePairs: { witness: { service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4 }, primary: "esx-01/nic1", secondary: "esx-02/nic1" } },
};

/** Runs `work`, expecting an InputError; returns it. */
function inputErrorOf(work: () => unknown): InputError {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error("expected an InputError");
}

describe("loadStackDocuments", () => {
  it.each(["lab-east.yaml", "datacenter.yaml", "needs-review.yaml"])(
    "loads the documents of examples/stacks/%s to the same model as the files, components expanded",
    (name) => {
      const file = path.join(EXAMPLES, name);
      const fromFiles = loadStackSync(file);
      const stack = readYaml(file) as StackDocument;
      const fromCode = loadStackDocuments(stack, EXAMPLE_FLEET);
      expect(model(fromCode)).toEqual(model(fromFiles));
      expect(fromCode.file).toBe(`<typescript stack ${stack.metadata.name}>`);
      expect(fromCode.inventoryFile).toBe(`<typescript inventory ${stack.metadata.name}>`);
    },
  );

  it("loads a typed stack with its defaults left out to the same model as the equivalent YAML file", () => {
    const yamlBody = stringify({ hosts: LAB.hosts, servicePairs: LAB.servicePairs });
    const fromFiles = loadStackSync(tmp.write("lab.yaml", stackText(yamlBody, "lab")));
    const fromCode = loadStackDocuments(LAB, EXAMPLE_FLEET);
    // The file names its inventory; in code the inventory is given and `inventory:` names it.
    expect(fromCode.stack.inventory).toBe("<typescript inventory lab>");
    expect(model(fromCode)).toEqual({ ...model(fromFiles), stack: { ...fromFiles.stack, inventory: "<typescript inventory lab>" } });
    expect(fromCode.smartnics[0].spec).toEqual({
      mode: "dpu",
      hostPrivilege: "restricted",
      os: { image: "esxi-arm", version: "8.0.3", hostname: "esx-01-nic1", ntp: [] },
      services: { dfw: { type: "nsx-dfw", version: "4.2.1", cores: 4, memoryGiB: 8, config: {} } },
      devices: { vnic0: { kind: "vnic", function: "vf", backing: { service: "dfw" } } },
    });
  });

  it("takes the generated document types as they are: a Stack is a StackDocument, a validated fleet a FleetInventory", () => {
    const loaded = loadStackSync(path.join(EXAMPLES, "lab-east.yaml"));
    const stack: Stack = loaded.stack;
    const inventory: ValidFleet = loaded.inventory;
    expect(model(loadStackDocuments(stack, inventory))).toEqual(model(loaded));
  });

  it("does not change the documents it is given", () => {
    const stack = structuredClone(LAB);
    const inventory = structuredClone(EXAMPLE_FLEET);
    loadStackDocuments(stack, inventory);
    expect(stack).toEqual(LAB);
    expect(inventory).toEqual(EXAMPLE_FLEET);
  });

  it("fails if the stack breaks the schema: an InputError naming the virtual file, the line in the rendered stack and the path", () => {
    const stack = structuredClone(LAB) as unknown as { hosts: Record<string, { smartnics: Record<string, Record<string, unknown>> }> };
    stack.hosts["esx-02"].smartnics.nic1.mode = "turbo";
    const err = inputErrorOf(() => loadStackDocuments(stack as unknown as StackDocument, EXAMPLE_FLEET));
    expect(err.message.split("\n")[0]).toBe("<typescript stack lab>: 1 error:");
    const rendered = stringify({ ...stack, inventory: "<typescript inventory lab>" }, { lineWidth: 0 }).split("\n");
    const line = rendered.findIndex((l) => l.includes("mode: turbo")) + 1;
    expect(err.errors).toEqual([
      {
        file: "<typescript stack lab>",
        line,
        column: rendered[line - 1].indexOf("turbo") + 1,
        path: "/hosts/esx-02/smartnics/nic1/mode",
        message: "must be equal to one of the allowed values",
        got: '"turbo"',
        allowed: ['"dpu"', '"nic"'],
      },
    ]);
    expect(err.message).toContain(`<typescript stack lab>:${line}:`);
  });

  it("fails if the stack misses a required property, naming its path", () => {
    const { metadata: _metadata, ...stack } = LAB;
    const errors = inputErrorsOf(() => loadStackDocuments(stack as StackDocument, EXAMPLE_FLEET, { name: "nameless" }));
    expect(errors).toEqual([expect.objectContaining({ file: "<typescript stack nameless>", path: "/metadata", message: "missing required property 'metadata'" })]);
  });

  it("fails if the inventory breaks the schema, naming the virtual inventory and the path", () => {
    const inventory = structuredClone(EXAMPLE_FLEET);
    (inventory.hosts[1] as { vendor: string }).vendor = "acme";
    const err = inputErrorOf(() => loadStackDocuments(LAB, inventory));
    expect(err.message.split("\n")[0]).toBe("<typescript stack lab>: the inventory <typescript inventory lab> is not usable:");
    expect(err.errors).toEqual([expect.objectContaining({ file: "<typescript inventory lab>", path: "/hosts/1/vendor", got: '"acme"' })]);
  });

  it("fails if the inventory breaks a fleet rule, as an inventory file would", () => {
    const inventory = structuredClone(EXAMPLE_FLEET);
    inventory.hosts[1].name = inventory.hosts[0].name;
    const errors = inputErrorsOf(() => loadStackDocuments(LAB, inventory, { name: "dup" }));
    expect(errors).toEqual([
      expect.objectContaining({ file: "<typescript inventory dup>", path: "/hosts/1/name", message: "duplicate host name 'esx-01' (first used at /hosts/0/name)" }),
    ]);
    expect(errors[0].line).toBeGreaterThan(1);
  });

  it("fails if the stack names a host the inventory given does not have", () => {
    const stack: StackDocument = { ...LAB, hosts: { ...LAB.hosts, "esx-99": { smartnics: {} } } };
    const errors = inputErrorsOf(() => loadStackDocuments(stack, EXAMPLE_FLEET));
    expect(errors).toEqual([
      expect.objectContaining({ file: "<typescript stack lab>", path: "/hosts/esx-99", message: "host is not in the inventory <typescript inventory lab>", got: '"esx-99"' }),
    ]);
  });

  it("fails if a document is not JSON data, as an InputError", () => {
    const cyclic: Record<string, unknown> = { ...LAB };
    cyclic.self = cyclic;
    const errors = inputErrorsOf(() => loadStackDocuments(cyclic as unknown as StackDocument, EXAMPLE_FLEET));
    expect(errors).toEqual([expect.objectContaining({ file: "<typescript stack lab>", line: 1, column: 1, path: "" })]);
    expect(errors[0].message).toMatch(/^cannot process file: .*circular/i);
  });
});
