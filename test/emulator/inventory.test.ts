import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadInventory, validateInventory, InputError } from "../../model/inventory";
import { generateFleet } from "../../cli/commands/generate-fleet";
import { tempStateDir, testInventory } from "./helpers";

function errorsOf(fn: () => unknown): InputError["errors"] {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputError) return err.errors;
    throw err;
  }
  throw new Error("expected an InputError");
}

describe("fleet inventory", () => {
  it("loads the lab example with defaults filled in", () => {
    const fleet = loadInventory(path.resolve(__dirname, "../../examples/lab/fleet.yaml"));
    expect(fleet.hosts).toHaveLength(4);
    const nics = fleet.hosts.flatMap((h) => h.smartnics);
    expect(new Set(nics.map((n) => n.vendor))).toEqual(new Set(["nvidia", "amd"]));
    expect(fleet.hosts.flatMap((h) => h.accelerators ?? [])).toHaveLength(1);
    expect(nics.every((n) => n.management.port === 8443)).toBe(true);
    expect(nics[0].factoryState).toEqual({ mode: "dpu", hostPrivilege: "privileged" });
  });

  it("accepts a generated fleet of 1,000 DPUs", () => {
    const fleet = validateInventory(generateFleet({ hosts: 500, nicsPerHost: 2, name: "big" }));
    expect(fleet.hosts.flatMap((h) => h.smartnics)).toHaveLength(1000);
  });

  it("fails if serials, names or management addresses repeat, naming every problem", () => {
    const inv = testInventory();
    inv.hosts[1].name = "h1";
    inv.hosts[1].smartnics[0].serial = "NV1";
    inv.hosts[2].smartnics[0].management.address = inv.hosts[0].smartnics[0].management.address;
    const errors = errorsOf(() => validateInventory(inv));
    expect(errors.map((e) => e.path).sort()).toEqual(["/hosts/1/name", "/hosts/1/smartnics/0/serial", "/hosts/2/smartnics/0/management"]);
    expect(errors[0].message).toMatch(/duplicate/);
  });

  it("fails if a model does not belong to its vendor or an address is not loopback", () => {
    const inv = testInventory();
    inv.hosts[0].smartnics[0].model = "pensando-dsc2";
    inv.hosts[1].smartnics[0].management.address = "10.0.0.5";
    const errors = errorsOf(() => validateInventory(inv, { loopbackOnly: true }));
    expect(errors.map((e) => e.message).join("\n")).toMatch(/made by amd, not nvidia[\s\S]*not a loopback address/);
  });

  it("fails if the YAML breaks the schema, with file:line:column of each value", () => {
    const file = path.join(tempStateDir(), "bad.yaml");
    fs.writeFileSync(
      file,
      ["apiVersion: smartfleet.dev/v1", "kind: Fleet", "metadata: { name: lab }", "hosts:", "  - name: h1", "    serial: S1", "    vendor: acme", "    model: m", "    cpus: 4", "    memoryGiB: 8", "    smartnics: []", ""].join("\n"),
    );
    const errors = errorsOf(() => loadInventory(file));
    const vendor = errors.find((e) => e.path === "/hosts/0/vendor");
    expect(vendor).toMatchObject({ file, line: 7, column: 13 });
    expect(vendor?.allowed).toContain('"dell"');
    expect(errors.some((e) => e.path === "/hosts/0/smartnics")).toBe(true);
  });
});
