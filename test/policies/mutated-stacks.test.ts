import * as fc from "fast-check";
import { stringify } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { checkStack } from "../../policies/check";
import { schemaPath, validateValue } from "../../schemas/validate";
import { parseYamlText } from "../../schemas/yaml-source";
import { InputError } from "../../schemas/diagnostics";
import { loadStackSync } from "../../model/load";
import { FLEET, tempDir } from "../support/stack-fixtures";

const tmp = tempDir("sf-property-");
afterAll(() => tmp.cleanup());
let n = 0;

/** Runs `work`; anything thrown must be our InputError. */
function onlyInputErrors(work: () => unknown): void {
  try {
    work();
  } catch (err) {
    if (!(err instanceof InputError)) throw new Error(`threw ${String(err)} instead of an InputError`, { cause: err });
    for (const e of err.errors) {
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
    }
  }
}

/** YAML-ish text: random characters biased towards YAML syntax. */
const yamlish = fc
  .array(fc.oneof(fc.constantFrom(":", "-", " ", "  ", "\n", "{", "}", "[", "]", ",", "&a", "*a", "!!str", "'", '"', "#", "|", ">", "? ", "key", "hosts", "<<"), fc.string({ maxLength: 6 })), { maxLength: 60 })
  .map((parts) => parts.join(""));

const hostNames = fc.constantFrom("esx-01", "esx-02", "esx-03", "edge-01", "nope");
const nicNames = fc.constantFrom("nic1", "nic2", "nic9");
const version = fc.constantFrom("8.0.3", "8.0.2", "7.0.3", "x");
const service = fc.record(
  {
    type: fc.constantFrom("nsx-dfw", "firewall", "ids-ips", "vsan-storage", "teleporter"),
    version,
    cores: fc.integer({ min: -1, max: 20 }),
    memoryGiB: fc.integer({ min: 0, max: 40 }),
    config: fc.dictionary(fc.constantFrom("password", "endpoint", "mode"), fc.constantFrom("http://x", "secret", "-----BEGIN PRIVATE KEY-----")),
  },
  { requiredKeys: ["type", "version", "cores", "memoryGiB"] },
);
const smartnic = fc.record(
  {
    mode: fc.constantFrom("dpu", "nic", "turbo"),
    hostPrivilege: fc.constantFrom("privileged", "restricted"),
    os: fc.record({ image: fc.constantFrom("esxi-arm", "nothing"), version, cluster: fc.constantFrom("a", "b") }, { requiredKeys: ["image", "version"] }),
    services: fc.dictionary(fc.constantFrom("s1", "s2", "fw"), service, { maxKeys: 3 }),
    devices: fc.dictionary(fc.constantFrom("d1", "d2"), fc.record({ kind: fc.constantFrom("vnic", "fpga", "disk"), backing: fc.record({ service: fc.constantFrom("s1", "zz") }) }), { maxKeys: 2 }),
  },
  { requiredKeys: [] },
);
const ref = fc.tuple(hostNames, nicNames).map(([h, s]) => `${h}/${s}`);
const stackObject = fc.record(
  {
    apiVersion: fc.constantFrom("smartfleet.dev/v1", "v0"),
    kind: fc.constant("Stack"),
    metadata: fc.record({ name: fc.constantFrom("ok", "Bad Name") }),
    inventory: fc.constant(FLEET),
    hosts: fc.dictionary(hostNames, fc.record({ smartnics: fc.dictionary(nicNames, smartnic, { maxKeys: 2 }) }), { maxKeys: 3 }),
    servicePairs: fc.dictionary(fc.constantFrom("p1", "p2"), fc.record({ service, primary: ref, secondary: ref }), { maxKeys: 2 }),
    acceleratorShares: fc.dictionary(fc.constantFrom("a1", "a2"), fc.record({ source: fc.constantFrom("esx-01/fpga0", "esx-02/none"), consumer: ref }), { maxKeys: 2 }),
    components: fc.array(fc.record({ use: fc.constantFrom("security-edge@^1", "vsan-cluster@1", "nothing@1", "security-edge@>=9"), with: fc.record({ hosts: fc.array(hostNames, { maxLength: 2 }) }) }), { maxLength: 2 }),
    maintenance: fc.record({ allowHostPowerCycle: fc.boolean() }),
    policy: fc.record({ disable: fc.array(fc.record({ rule: fc.constantFrom("SF001", "SF004", "SF999"), reason: fc.constantFrom("short", "a long enough reason") }), { maxLength: 2 }) }),
  },
  { requiredKeys: ["apiVersion", "kind", "metadata", "inventory"] },
);

describe("property: the loader and the checker on random input", () => {
  it("parse random YAML-ish text and throw nothing but InputError", () => {
    fc.assert(
      fc.property(yamlish, (text) => {
        onlyInputErrors(() => {
          const parsed = parseYamlText(text, "random.yaml");
          validateValue(parsed.value, schemaPath("stack"), parsed.sources);
        });
      }),
      { numRuns: 400 },
    );
  });

  it("load random JSON-like documents as stacks and throw nothing but InputError", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const file = tmp.write(`j${n++}.yaml`, stringify(value));
        onlyInputErrors(() => checkStack(loadStackSync(file)));
      }),
      { numRuns: 150 },
    );
  });

  it("load and check random stack objects, throwing nothing but InputError", () => {
    fc.assert(
      fc.property(stackObject, (stack) => {
        const file = tmp.write(`s${n++}.yaml`, stringify(stack));
        onlyInputErrors(() => {
          const report = checkStack(loadStackSync(file));
          for (const f of report.findings) expect(f.location.line).toBeGreaterThanOrEqual(1);
        });
      }),
      { numRuns: 200 },
    );
  });

  it("check random well-formed stacks: most load, and the rules run over them without throwing", () => {
    const validService = fc.record({
      type: fc.constantFrom("nsx-dfw", "firewall", "ids-ips", "vsan-storage"),
      version: fc.constant("1.0.0"),
      cores: fc.integer({ min: 1, max: 10 }),
      memoryGiB: fc.integer({ min: 1, max: 20 }),
    });
    const validNic = fc.record({
      mode: fc.constantFrom("dpu", "nic"),
      hostPrivilege: fc.constantFrom("privileged", "restricted"),
      os: fc.record({ image: fc.constant("esxi-arm"), version: fc.constantFrom("8.0.3", "8.0.2"), cluster: fc.constantFrom("a", "b") }),
      services: fc.dictionary(fc.constantFrom("s1", "s2", "s3"), validService, { maxKeys: 3 }),
    });
    const managed = ["esx-01", "esx-02", "esx-03", "edge-01"];
    const validStack = fc.record({
      apiVersion: fc.constant("smartfleet.dev/v1"),
      kind: fc.constant("Stack"),
      metadata: fc.constant({ name: "random" }),
      inventory: fc.constant(FLEET),
      hosts: fc.record(Object.fromEntries(managed.map((h) => [h, fc.record({ smartnics: fc.record({ nic1: validNic }) })]))),
      servicePairs: fc.dictionary(fc.constantFrom("p1", "p2"), fc.record({ service: validService, primary: fc.constantFrom(...managed.map((h) => `${h}/nic1`)), secondary: fc.constantFrom(...managed.map((h) => `${h}/nic1`)) }), { maxKeys: 2 }),
      acceleratorShares: fc.dictionary(fc.constantFrom("a1", "a2"), fc.record({ source: fc.constant("esx-01/fpga0"), consumer: fc.constantFrom("esx-02/nic1", "esx-03/nic1") }), { maxKeys: 2 }),
      maintenance: fc.record({ allowHostPowerCycle: fc.boolean() }),
    });
    let loaded = 0;
    let withFindings = 0;
    fc.assert(
      fc.property(validStack, (stack) => {
        const file = tmp.write(`v${n++}.yaml`, stringify(stack));
        onlyInputErrors(() => {
          const report = checkStack(loadStackSync(file));
          loaded++;
          if (report.findings.length > 0) withFindings++;
        });
      }),
      { numRuns: 100, seed: 20261126 },
    );
    expect(loaded).toBeGreaterThan(50);
    expect(withFindings).toBeGreaterThan(10);
  });

  it("reject deeply nested documents with an InputError instead of overflowing the stack", () => {
    const deep = "[".repeat(20000) + "]".repeat(20000);
    onlyInputErrors(() => loadStackSync(tmp.write("deep.yaml", deep)));
  });
});
