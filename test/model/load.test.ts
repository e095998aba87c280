import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultSearch, type ComponentSearch } from "../../model/component-registry";
import { InputError } from "../../schemas/diagnostics";
import { loadStack } from "../../model/load";
import { inputErrorsOf, load, stackText, tempDir } from "../support/stack-fixtures";

const tmp = tempDir("sf-loader-");
afterAll(() => tmp.cleanup());
let n = 0;
const write = (body: string) => tmp.write(`stack${n++}.yaml`, stackText(body));

/** A component library in the temp dir, used instead of the project's. */
const library = tempDir("sf-components-");
afterAll(() => library.cleanup());
const search: ComponentSearch = { roots: [{ dir: library.dir, source: "project" }] };

function component(name: string, version: string, params: string, template: string): void {
  library.write(
    `${name}/${version}/component.yaml`,
    `apiVersion: smartfleet.dev/v1\nkind: Component\nmetadata: { name: ${name}, version: ${version}, description: test component, owner: test-team }\nparams:\n${params}`,
  );
  library.write(`${name}/${version}/template.yaml.hbs`, template);
}

component(
  "edge",
  "1.0.0",
  "  type: object\n  additionalProperties: false\n  required: [host]\n  properties:\n    host: { type: string }\n    cores: { type: integer, default: 2 }\n",
  "hosts:\n  {{quote host}}:\n    smartnics:\n      nic1:\n        hostPrivilege: restricted\n        services:\n          fw: { type: firewall, version: '1.0', cores: {{cores}}, memoryGiB: 2 }\n",
);
component(
  "edge",
  "1.2.0",
  "  type: object\n  required: [host]\n  properties:\n    host: { type: string }\n",
  "hosts:\n  {{quote host}}:\n    smartnics:\n      nic1:\n        hostPrivilege: restricted\n        services:\n          fw12: { type: firewall, version: '1.2', cores: 2, memoryGiB: 2 }\n",
);
component("edge", "2.0.0", "  type: object\n", "hosts: {}\n");
component(
  "loose",
  "1.0.0",
  "  type: object\n",
  "hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        services:\n          x: { type: {{kind}}, version: '1', cores: 1, memoryGiB: 1 }\n",
);
component(
  "badtype",
  "1.0.0",
  "  type: object\n",
  "# renders a service of an unknown type\nhosts:\n  esx-01:\n    smartnics:\n      nic1:\n        services:\n          x: { type: teleporter, version: '1', cores: 1, memoryGiB: 1 }\n",
);

describe("loadStack", () => {
  it("returns the stack joined with the inventory: vendor, model, cores, memory, management address", async () => {
    const file = write("hosts:\n  esx-01:\n    smartnics:\n      nic1: { hostPrivilege: restricted }\n");
    const stack = await loadStack(file);
    expect(stack.smartnics).toHaveLength(1);
    expect(stack.smartnics[0]).toMatchObject({
      id: "esx-01/nic1",
      hostVendor: "dell",
      spec: { mode: "dpu", hostPrivilege: "restricted", services: {}, devices: {} },
      hardware: { vendor: "nvidia", model: "bluefield-3", armCores: 16, memoryGiB: 32, management: { address: "127.0.1.1", port: 8443 } },
    });
    expect(stack.hosts[0]).toMatchObject({ name: "esx-01", hardware: { vendor: "dell", cpus: 64 }, smartnics: ["esx-01/nic1"] });
    expect(JSON.parse(JSON.stringify(stack))).toEqual(stack);
  });

  it("fails if a value is not allowed, at the value's line and column", () => {
    const file = write("hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        mode:   turbo\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ file, line: 9, column: 17, path: "/hosts/esx-01/smartnics/nic1/mode", got: '"turbo"', allowed: ['"dpu"', '"nic"'] });
  });

  it("fails if a property is unknown, at its key", () => {
    const file = write("hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        colour: blue\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 9, column: 9, path: "/hosts/esx-01/smartnics/nic1/colour", message: "unknown property" });
  });

  it("fails if a key is duplicated, at the duplicate", () => {
    const file = write("hosts:\n  esx-01: {}\n  esx-01: {}\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 7, column: 3 });
    expect(error.message).toContain("duplicate key");
  });

  it("fails if YAML anchors expand too much, at the first alias", () => {
    const bomb = ["x0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"];
    for (let i = 1; i < 7; i++) bomb.push(`x${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
    const file = write(`maintenance: { allowHostPowerCycle: false }\n# ${"-".repeat(10)}\n${bomb.join("\n")}\n`);
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 8, column: 10 });
    expect(error.message).toContain("aliases expand too much");
  });

  it("fails if the stack file is over the size limit", () => {
    const file = write("hosts: {}\n");
    const [error] = inputErrorsOf(() => load(file, { maxFileBytes: 64 }));
    expect(error).toMatchObject({ file, line: 1, column: 1, message: "file is too large" });
  });

  it("fails if a host is not in the inventory, at its key", () => {
    const file = write("hosts:\n  esx-99: {}\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 6, column: 3, path: "/hosts/esx-99", got: '"esx-99"' });
    expect(error.message).toContain("host is not in the inventory");
  });

  it("fails if a DPU is not in the host, at its key", () => {
    const file = write("hosts:\n  edge-01:\n    smartnics:\n      nic2: {}\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 8, column: 7, path: "/hosts/edge-01/smartnics/nic2", allowed: ["nic1"] });
  });

  it("fails if an image is not offered by the inventory", () => {
    const file = write("hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        os: { image: esxi-arm, version: '9.9.9' }\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 9, column: 13, path: "/hosts/esx-01/smartnics/nic1/os", got: '"esxi-arm 9.9.9"' });
  });

  it("fails if a service pair names a DPU the stack does not manage", () => {
    const file = write(
      "hosts:\n  esx-01: { smartnics: { nic1: {} } }\nservicePairs:\n  w:\n    service: { type: vsan-witness, version: '1', cores: 1, memoryGiB: 1 }\n    primary: esx-01/nic1\n    secondary: esx-02/nic1\n",
    );
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 11, column: 16, path: "/servicePairs/w/secondary" });
    expect(error.message).toContain("not managed by this stack");
  });

  it("fails if a device is backed by a service that is not on its DPU", () => {
    const file = write("hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        devices:\n          v: { kind: vnic, backing: { service: nope } }\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 10, column: 48, path: "/hosts/esx-01/smartnics/nic1/devices/v/backing/service" });
  });

  it("fails if a shared accelerator is not in the inventory, at the source", () => {
    const file = write("hosts:\n  esx-01: { smartnics: { nic1: {} } }\n  esx-02: { smartnics: { nic1: {} } }\nacceleratorShares:\n  s: { source: esx-02/fpga9, consumer: esx-01/nic1 }\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 9, column: 16, path: "/acceleratorShares/s/source", allowed: ["esx-01/fpga0"] });
  });

  it("fails if the accelerator's host has no DPU managed by the stack to export it through", () => {
    const file = write("hosts:\n  esx-02: { smartnics: { nic1: {} } }\nacceleratorShares:\n  s: { source: esx-01/fpga0, consumer: esx-02/nic1 }\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 8, column: 16, path: "/acceleratorShares/s/source" });
    expect(error.message).toContain("host esx-01 has no DPU managed by this stack");
  });

  it("fails if the inventory file does not exist, at the inventory line", () => {
    const file = tmp.write(`noinv${n++}.yaml`, "apiVersion: smartfleet.dev/v1\nkind: Stack\nmetadata: { name: x }\ninventory:   missing.yaml\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ file, line: 4, column: 14, path: "/inventory", message: "file not found" });
  });

  it("fails if the inventory is invalid, at the line and column in the inventory", () => {
    const inventory = tmp.write(
      `inv${n}.yaml`,
      "apiVersion: smartfleet.dev/v1\nkind: Fleet\nmetadata: { name: x }\nhosts:\n  - { name: h, serial: s, vendor: acme, model: m, cpus: 1, memoryGiB: 1, smartnics: [] }\n",
    );
    const file = tmp.write(`inv${n++}-stack.yaml`, `apiVersion: smartfleet.dev/v1\nkind: Stack\nmetadata: { name: x }\ninventory: ${path.basename(inventory)}\n`);
    const errors = inputErrorsOf(() => load(file));
    expect(errors.map((e) => [e.file, e.line, e.column, e.path])).toEqual([
      [inventory, 5, 35, "/hosts/0/vendor"],
      [inventory, 5, 85, "/hosts/0/smartnics"],
    ]);
  });

  it("fails if a file holds more than one YAML document", () => {
    const file = write("hosts: {}\n---\nhosts: {}\n");
    const [error] = inputErrorsOf(() => load(file));
    expect(error).toMatchObject({ line: 6, column: 1 });
    expect(error.message).toMatch(/^YAML syntax/);
  });

  it("throws only InputError for a missing stack file", async () => {
    await expect(loadStack(path.join(tmp.dir, "nope.yaml"))).rejects.toBeInstanceOf(InputError);
  });
});

describe("components", () => {
  it("expands a component, validating params with defaults, and keeps the template origin", () => {
    const file = write("components:\n  - use: edge@~1.0\n    with: { host: esx-01 }\n");
    const stack = load(file, { search });
    expect(stack.components).toEqual([expect.objectContaining({ name: "edge", version: "1.0.0", source: "project" })]);
    expect(stack.stack.hosts["esx-01"].smartnics.nic1.services.fw).toMatchObject({ type: "firewall", cores: 2 });
    const at = stack.sources["/hosts/esx-01/smartnics/nic1/services/fw/cores"];
    expect(at).toMatchObject({ file, line: 6, column: 10, origin: { component: "edge@1.0.0", line: 7 } });
  });

  it("picks the highest version satisfying the range", () => {
    const file = write("components:\n  - use: edge@^1\n    with: { host: esx-01 }\n");
    expect(load(file, { search }).components[0].version).toBe("1.2.0");
  });

  it("fails if no version satisfies the range, listing the versions there are", () => {
    const file = write("components:\n  - use: edge@^3\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 6, column: 10, path: "/components/0/use", allowed: ["1.0.0", "1.2.0", "2.0.0"] });
  });

  it("fails if the range is not a semver range", () => {
    const file = write("components:\n  - use: edge@latest-ish\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 6, column: 10, path: "/components/0/use" });
    expect(error.message).toContain("is not a valid semver range");
  });

  it("fails if the component does not exist", () => {
    const file = write("components:\n  - use: nothing@1\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 6, column: 10, message: "component 'nothing' not found" });
  });

  it("fails if a required param is missing, at the use entry", () => {
    const file = write("components:\n  - use: edge@~1.0\n    with: { cores: 2 }\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 7, column: 11, path: "/components/0/with/host" });
  });

  it("fails if a param has the wrong type, at the param's value", () => {
    const file = write("components:\n  - use: edge@~1.0\n    with: { host: esx-01, cores: many }\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 7, column: 34, path: "/components/0/with/cores", got: '"many"' });
  });

  it("fails if the template uses a param that was not given (strict mode), with the template line", () => {
    const file = write("components:\n  - use: loose@1\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 6, column: 10, path: "/components/0", origin: { component: "loose@1.0.0", line: 6 } });
    expect(error.message).toContain('"kind" not defined');
  });

  it("fails if the rendered fragment is invalid, with the stack line and the template line", () => {
    const file = write("hosts: {}\ncomponents:\n  - use: badtype@1\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ file, line: 7, column: 10, path: "/hosts/esx-01/smartnics/nic1/services/x/type", got: '"teleporter"' });
    expect(error.origin).toMatchObject({ component: "badtype@1.0.0", line: 7 });
  });

  it("fails if a template renders more than the size limit, at the use entry", () => {
    component("blowup", "1.0.0", "  type: object\n", "{{#each a}}{{#each @root.a}}{{#each @root.a}}{{#each @root.a}}{{@root.pad}}{{/each}}{{/each}}{{/each}}{{/each}}\n");
    const file = write(`components:\n  - use: blowup@1\n    with: { pad: "${"x".repeat(200)}", a: [${Array(15).fill(0).join(", ")}] }\n`);
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 6, column: 10, path: "/components/0", allowed: ["at most 8388608"] });
  });

  it("fails if two components define the same object, naming the first", () => {
    const file = write("components:\n  - use: edge@~1.0\n    with: { host: esx-01 }\n  - use: edge@~1.0\n    with: { host: esx-01 }\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 8, column: 10, path: "/hosts/esx-01/smartnics/nic1/services/fw" });
    expect(error.message).toMatch(/'fw' is already defined at edge@1\.0\.0 \(used at .*:6:10\)/);
  });

  it("fails if a component sets a value the stack sets differently", () => {
    const file = write("hosts:\n  esx-01:\n    smartnics:\n      nic1: { hostPrivilege: privileged }\ncomponents:\n  - use: edge@~1.0\n    with: { host: esx-01 }\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 10, column: 10, path: "/hosts/esx-01/smartnics/nic1/hostPrivilege", allowed: ['"privileged"'] });
    expect(error.message).toContain(`already defined at ${file}:8:15`);
  });

  it("fails if a component manifest is invalid, at the line in component.yaml", () => {
    library.write("broken/1.0.0/component.yaml", "apiVersion: smartfleet.dev/v1\nkind: Component\nmetadata: { name: broken, version: 1.0.0, owner: t }\nparams: { type: object }\n");
    library.write("broken/1.0.0/template.yaml.hbs", "hosts: {}\n");
    const file = write("components:\n  - use: broken@1\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ file: path.join(library.dir, "broken/1.0.0/component.yaml"), line: 3, column: 11, path: "/metadata/description" });
  });

  it("fails if a component's params schema is not a valid JSON Schema, at the use entry", () => {
    library.write("oddparams/1.0.0/component.yaml", "apiVersion: smartfleet.dev/v1\nkind: Component\nmetadata: { name: oddparams, version: 1.0.0, description: d, owner: t }\nparams: { type: objectish }\n");
    library.write("oddparams/1.0.0/template.yaml.hbs", "hosts: {}\n");
    const file = write("components:\n  - use: oddparams@1\n    with: { a: 1 }\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 7, column: 11, path: "/components/0/with" });
    expect(error.message).toContain("params schema is invalid");
  });

  it("fails if a component's directory and manifest disagree on its version", () => {
    library.write("moved/2.0.0/component.yaml", "apiVersion: smartfleet.dev/v1\nkind: Component\nmetadata: { name: moved, version: 1.0.0, description: d, owner: t }\nparams: { type: object }\n");
    library.write("moved/2.0.0/template.yaml.hbs", "hosts: {}\n");
    const file = write("components:\n  - use: moved@2\n");
    const [error] = inputErrorsOf(() => load(file, { search }));
    expect(error).toMatchObject({ line: 3, column: 11, path: "/metadata" });
    expect(error.message).toContain("says moved@1.0.0 but lives in moved/2.0.0");
  });

  it("finds components in npm packages that declare them in package.json", () => {
    const project = tempDir("sf-npm-");
    try {
      project.write("node_modules/@team/edge-components/package.json", JSON.stringify({ name: "@team/edge-components", version: "1.0.0", smartfleet: { components: "components" } }));
      project.write("node_modules/unrelated/package.json", JSON.stringify({ name: "unrelated", version: "1.0.0" }));
      project.write(
        "node_modules/@team/edge-components/components/team-edge/3.1.4/component.yaml",
        "apiVersion: smartfleet.dev/v1\nkind: Component\nmetadata: { name: team-edge, version: 3.1.4, description: from a package, owner: team }\nparams: { type: object }\n",
      );
      project.write("node_modules/@team/edge-components/components/team-edge/3.1.4/template.yaml.hbs", "hosts:\n  esx-02:\n    smartnics: { nic1: { hostPrivilege: restricted } }\n");
      const file = project.write("stacks/s.yaml", stackText("components:\n  - use: team-edge@^3\n"));
      const stack = load(file, { search: defaultSearch(file, library.dir) });
      expect(stack.components[0]).toMatchObject({ name: "team-edge", version: "3.1.4", source: "npm:@team/edge-components" });
      expect(stack.smartnics[0]).toMatchObject({ id: "esx-02/nic1", spec: { hostPrivilege: "restricted" } });
    } finally {
      project.cleanup();
    }
  });

  it("expands the project's shipped components in the datacenter example", () => {
    const stack = load(path.resolve(__dirname, "..", "..", "examples", "stacks", "datacenter.yaml"));
    expect(stack.components.map((c) => `${c.name}@${c.version}`)).toEqual([
      "vsan-cluster@1.0.0",
      "nsx-offloaded-host@1.0.0",
      "nsx-offloaded-host@1.0.0",
      "security-edge@1.1.0",
    ]);
    expect(stack.servicePairs.map((p) => p.name)).toEqual(["vsan-a-witness"]);
    const edge = stack.smartnics.find((s) => s.id === "edge-01/nic1");
    expect(edge?.spec.hostPrivilege).toBe("restricted");
    expect(edge?.services.map((s) => s.spec.type).sort()).toEqual(["firewall", "ids-ips"]);
  });
});
