/**
 * The fleet inventory rules a schema cannot express, applied by the stack loader (the entry
 * `smartfleet check` uses) with positions in the inventory file; the emulator's loopback
 * rule only when asked for.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadStackSync } from "../../model/load";
import { loadInventory, validateInventory } from "../../model/inventory";
import { parse } from "yaml";
import { inputErrorsOf, tempDir } from "../support/stack-fixtures";

const ROOT = path.resolve(__dirname, "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures", "inventory");
/** A fleet where every rule holds, with real (not loopback) management addresses. */
const FLEET_TEXT = fs.readFileSync(path.join(FIXTURES, "fleet.yaml"), "utf8");
/** A stack managing h1/nic1 and h2/nic1 of it. */
const STACK_TEXT = fs.readFileSync(path.join(FIXTURES, "stack.yaml"), "utf8");

const tmp = tempDir("sf-inventory-rules-");
afterAll(() => tmp.cleanup());
let n = 0;

/** Writes the fixture pair into a fresh directory with each `[from, to]` edit (each `from` occurring once) applied to the inventory. */
function variant(...edits: [string, string][]): { stackFile: string; fleetFile: string; text: string } {
  let text = FLEET_TEXT;
  for (const [from, to] of edits) {
    expect(text.split(from), `'${from}' occurs once in the fixture`).toHaveLength(2);
    text = text.replace(from, to);
  }
  const dir = `case${n++}`;
  const fleetFile = tmp.write(path.join(dir, "fleet.yaml"), text);
  const stackFile = tmp.write(path.join(dir, "stack.yaml"), STACK_TEXT);
  return { stackFile, fleetFile, text };
}

/** 1-based line and column of the `occurrence`-th `needle` in `text`. */
function at(text: string, needle: string, occurrence = 1): { line: number; column: number } {
  let index = -1;
  for (let i = 0; i < occurrence; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`'${needle}' occurs fewer than ${occurrence} times`);
  }
  const before = text.slice(0, index).split("\n");
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

describe("inventory rules in the stack loader", () => {
  it("loads a stack whose inventory keeps every rule, with real (not loopback) management addresses", () => {
    const { stackFile } = variant();
    const stack = loadStackSync(stackFile);
    expect(stack.smartnics.map((s) => [s.id, s.hardware.management.address])).toEqual([
      ["h1/nic1", "10.20.0.11"],
      ["h2/nic1", "10.20.0.21"],
    ]);
  });

  it("fails if two hosts have the same name, at the second name in the inventory file", () => {
    const { stackFile, fleetFile, text } = variant(["  - name: h2\n", "  - name: h1\n"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      { file: fleetFile, ...at(text, "h1", 2), path: "/hosts/1/name", message: "duplicate host name 'h1' (first used at /hosts/0/name)" },
    ]);
  });

  it("fails if two hosts have the same serial", () => {
    const { stackFile, fleetFile, text } = variant(["serial: SRV-2", "serial: SRV-1"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      { file: fleetFile, ...at(text, "SRV-1", 2), path: "/hosts/1/serial", message: "duplicate serial 'SRV-1' (first used at /hosts/0/serial)" },
    ]);
  });

  it("fails if two DPUs have the same serial, also in different hosts", () => {
    const { stackFile, fleetFile, text } = variant(["serial: DPU-21", "serial: DPU-11"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      {
        file: fleetFile,
        ...at(text, "DPU-11", 2),
        path: "/hosts/1/smartnics/0/serial",
        message: "duplicate serial 'DPU-11' (first used at /hosts/0/smartnics/0/serial)",
      },
    ]);
  });

  it("fails if a DPU has the serial of a host: serials are unique across hosts and DPUs", () => {
    const { stackFile, fleetFile, text } = variant(["serial: DPU-21", "serial: SRV-1"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      { file: fleetFile, ...at(text, "SRV-1", 2), path: "/hosts/1/smartnics/0/serial", message: "duplicate serial 'SRV-1' (first used at /hosts/0/serial)" },
    ]);
  });

  it("fails if two DPUs of a host sit in the same slot", () => {
    const { stackFile, fleetFile, text } = variant(["slot: 2\n", "slot: 1\n"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      {
        file: fleetFile,
        ...at(text, "slot: 1", 2),
        column: at(text, "slot: 1", 2).column + "slot: ".length,
        path: "/hosts/0/smartnics/1/slot",
        message: "duplicate slot in host '1' (first used at /hosts/0/smartnics/0/slot)",
      },
    ]);
  });

  it("fails if a DPU sits in the slot of an accelerator of its host", () => {
    const { stackFile, fleetFile, text } = variant(["slot: 2\n", "slot: 3\n"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      {
        file: fleetFile,
        ...at(text, "slot: 3", 2),
        column: at(text, "slot: 3", 2).column + "slot: ".length,
        path: "/hosts/0/smartnics/1/slot",
        message: "duplicate slot in host '3' (first used at /hosts/0/accelerators/0/slot)",
      },
    ]);
  });

  it("fails if two devices of a host have the same name", () => {
    const { stackFile, fleetFile, text } = variant(["  - name: nic2\n", "  - name: fpga0\n"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      {
        file: fleetFile,
        ...at(text, "fpga0", 2),
        path: "/hosts/0/smartnics/1/name",
        message: "duplicate device name in host 'fpga0' (first used at /hosts/0/accelerators/0/name)",
      },
    ]);
  });

  it("fails if two DPUs share a management address:port, the default port counting as 8443", () => {
    const { stackFile, fleetFile, text } = variant(["address: 10.20.0.21\n          port: 8443\n", "address: 10.20.0.11\n"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      {
        file: fleetFile,
        ...at(text, "address: 10.20.0.11", 2),
        path: "/hosts/1/smartnics/0/management",
        message: "duplicate management address:port '10.20.0.11:8443' (first used at /hosts/0/smartnics/0/management)",
      },
    ]);
  });

  it("accepts one management address on two ports", () => {
    const { stackFile } = variant(["address: 10.20.0.21\n          port: 8443\n", "address: 10.20.0.11\n          port: 9443\n"]);
    expect(loadStackSync(stackFile).smartnics[1].hardware.management).toEqual({ address: "10.20.0.11", port: 9443 });
  });

  it("fails if two images have the same name@version", () => {
    const { stackFile, fleetFile, text } = variant(['version: "8.0.2"', 'version: "8.0.3"']);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      { file: fleetFile, ...at(text, "name: esxi-arm", 2), path: "/images/1", message: "duplicate image name@version 'esxi-arm@8.0.3' (first used at /images/0)" },
    ]);
  });

  it("fails if two images have the same URI", () => {
    const uri = "https://images.example/esxi-arm-8.0.3.bfb";
    const { stackFile, fleetFile, text } = variant(["uri: https://images.example/esxi-arm-8.0.2.bfb", `uri: ${uri}`]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      { file: fleetFile, ...at(text, uri, 2), path: "/images/1/uri", message: `duplicate image URI '${uri}' (first used at /images/0/uri)` },
    ]);
  });

  it("fails if a DPU model is not made by the vendor named", () => {
    const { stackFile, fleetFile, text } = variant(["vendor: amd", "vendor: nvidia"]);
    const errors = inputErrorsOf(() => loadStackSync(stackFile));
    expect(errors).toEqual([
      { file: fleetFile, ...at(text, "pensando-dsc2"), path: "/hosts/1/smartnics/0/model", message: "model 'pensando-dsc2' is made by amd, not nvidia" },
    ]);
  });

  it("fails if the inventory breaks several rules, reporting every one in the inventory file", () => {
    const stackFile = path.join(FIXTURES, "broken", "stack.yaml");
    const fleetFile = path.join(FIXTURES, "broken", "fleet.yaml");
    let message = "";
    const errors = inputErrorsOf(() => {
      try {
        return loadStackSync(stackFile);
      } catch (err) {
        message = (err as Error).message;
        throw err;
      }
    });
    expect(errors.map((e) => `${e.line}:${e.column} ${e.path}`)).toEqual([
      "10:5 /images/1",
      "12:10 /images/1/uri",
      "38:17 /hosts/0/smartnics/1/serial",
      "39:15 /hosts/0/smartnics/1/slot",
      "48:11 /hosts/1/name",
      "49:13 /hosts/1/serial",
      "59:16 /hosts/1/smartnics/0/model",
      "63:11 /hosts/1/smartnics/0/management",
    ]);
    expect(errors.every((e) => e.file === fleetFile)).toBe(true);
    expect(message.split("\n")[0]).toBe(`${stackFile}: the inventory ${fleetFile} is not usable:`);
  });
});

describe("the emulator's loopback rule", () => {
  it("fails if asked for loopback-only addresses and an address is not loopback, at the address", () => {
    const { fleetFile, text } = variant();
    const errors = inputErrorsOf(() => loadInventory(fleetFile, { loopbackOnly: true }));
    expect(errors.map((e) => [e.file, e.line, e.column, e.path])).toEqual([
      [fleetFile, at(text, "10.20.0.11").line, at(text, "10.20.0.11").column, "/hosts/0/smartnics/0/management/address"],
      [fleetFile, at(text, "10.20.0.12").line, at(text, "10.20.0.12").column, "/hosts/0/smartnics/1/management/address"],
      [fleetFile, at(text, "10.20.0.21").line, at(text, "10.20.0.21").column, "/hosts/1/smartnics/0/management/address"],
    ]);
    expect(errors[0].message).toBe("address '10.20.0.11' is not a loopback address (127.0.0.0/8); the emulator binds only loopback addresses");
  });

  it("fails if asked for loopback-only addresses in an inventory built in code", () => {
    const errors = inputErrorsOf(() => validateInventory(parse(FLEET_TEXT), { loopbackOnly: true }));
    expect(errors).toHaveLength(3);
    expect(errors.every((e) => e.file === "<inventory>" && /not a loopback address/.test(e.message))).toBe(true);
  });

  it("accepts real addresses when not asked for loopback-only, in a file and in code", () => {
    const { fleetFile } = variant();
    expect(loadInventory(fleetFile).hosts).toHaveLength(2);
    expect(validateInventory(parse(FLEET_TEXT)).hosts).toHaveLength(2);
    expect(validateInventory(parse(FLEET_TEXT), "fleet in code").hosts).toHaveLength(2);
  });

  it("keeps the fleet rules when loopback-only is asked for", () => {
    const { fleetFile } = variant(["vendor: amd", "vendor: nvidia"]);
    const errors = inputErrorsOf(() => loadInventory(fleetFile, { loopbackOnly: true }));
    expect(errors.map((e) => e.path)).toContain("/hosts/1/smartnics/0/model");
  });
});

describe("smartfleet check with a broken inventory", () => {
  beforeAll(() => {
    // The command runs the compiled JavaScript in dist/: build it as `npm run build` does.
    // Type errors elsewhere in the tree do not stop tsc from emitting, so the status is not checked.
    try {
      execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: ROOT, stdio: "pipe" });
    } catch {
      // reported by the test below if nothing was built
    }
  });

  it("fails if the inventory breaks a rule: exit 2, with file:line:col of the inventory in the output", () => {
    expect(fs.existsSync(path.join(ROOT, "dist", "cli", "main.js"))).toBe(true);
    const stackFile = path.join(FIXTURES, "broken", "stack.yaml");
    const fleetFile = path.join(FIXTURES, "broken", "fleet.yaml");
    const result = spawnSync(process.execPath, [path.join(ROOT, "cli", "bin", "smartfleet.js"), "check", stackFile], { cwd: ROOT, encoding: "utf8" });
    const output = result.stdout + result.stderr;
    expect(result.status, output).toBe(2);
    expect(output).toContain(`${fleetFile}:48:11  /hosts/1/name  duplicate host name 'h1'`);
    expect(output).toContain(`${fleetFile}:63:11  /hosts/1/smartnics/0/management  duplicate management address:port '10.20.0.11:8443'`);
  });
});
