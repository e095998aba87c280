import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { declarationAt, resourceDeclarations, type ResourceDeclaration } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { kindRow } from "../../schemas/kinds";
import { SourceIndex } from "../../schemas/source-index";
import { schemaPath, validateValue } from "../../schemas/validate";
import { stackText, tempDir } from "../support/stack-fixtures";

const LAB = path.resolve(__dirname, "..", "..", "stacks", "lab.yaml");
const files = tempDir("smartfleet-declarations-");
afterAll(() => files.cleanup());

const byName = (declarations: ResourceDeclaration[], name: string) => declarations.find((d) => d.name === name);

describe("resource declarations of a stack", () => {
  const lab = resourceDeclarations(loadStackSync(LAB));

  it("names the resource a pointer into the stack is about: a host, pair or share; nothing for the stack as a whole", () => {
    const stack = loadStackSync(LAB);
    const names = new Set(lab.map((d) => d.name));
    const pointers = [...stack.hosts.map((h) => `/hosts/${h.name}/smartnics/nic1`), ...stack.servicePairs.map((p) => `/servicePairs/${p.name}/secondary`), ...stack.acceleratorShares.map((s) => `/acceleratorShares/${s.name}`)];
    expect(pointers.length).toBeGreaterThan(5);
    for (const pointer of pointers) expect(names, pointer).toContain(declarationAt(pointer));
    expect(declarationAt("/servicePairs/rack~1a~0b")).toBe("pair-rack/a~b");
    expect(declarationAt("/rollout/groups/0")).toBeUndefined();
    expect(declarationAt("/hosts")).toBeUndefined();
  });

  it("declares each resource after everything it depends on", () => {
    const seen = new Set<string>();
    for (const d of lab) {
      for (const dep of d.dependsOn) expect(seen, `${d.name} depends on ${dep}`).toContain(dep);
      for (const from of Object.values(d.inputsFrom ?? {})) expect(seen).toContain(from.resource);
      seen.add(d.name);
    }
    expect(seen.size).toBe(lab.length);
  });

  it("gives every resource inputs its kind's schema accepts", () => {
    for (const d of lab) {
      const errors = validateValue(structuredClone(d.inputs), schemaPath(kindRow(d.kind)!.inputSchema), new SourceIndex({ file: d.name, line: 1, column: 1 }));
      expect(errors, d.name).toEqual([]);
    }
  });

  it("keeps the Pulumi names existing state is keyed by", () => {
    expect(lab.filter((d) => d.host === "esx-01").map((d) => `${d.kind} ${d.name}`)).toEqual([
      "SmartNic esx-01-nic1",
      "DpuOs esx-01-nic1-os",
      "DpuService esx-01-nic1-dfw",
      "HostDevice esx-01-nic1-vnic0",
      "SmartNic esx-01-nic2",
      "DpuOs esx-01-nic2-os",
      "DpuService esx-01-nic2-vsan",
      "HostDevice esx-01-nic2-nvme0",
      "Host esx-01",
      "HostOsInstall esx-01-os",
    ]);
    expect(lab.filter((d) => !d.host).map((d) => d.name)).toEqual(["pair-witness", "share-fpga-share"]);
  });

  it("feeds a device its backing service's name from the service resource, so replacing the service replaces the device", () => {
    expect(byName(lab, "esx-01-nic1-vnic0")).toMatchObject({
      dependsOn: ["esx-01-nic1-dfw"],
      inputsFrom: { backingService: { resource: "esx-01-nic1-dfw", output: "name" } },
    });
  });

  it("presents an fpga device on the consumer only after its share", () => {
    const fpga = lab.find((d) => d.kind === "HostDevice" && d.inputs.kind === "fpga");
    expect(fpga).toMatchObject({ host: "esx-02", dependsOn: ["share-fpga-share"], inputs: { backingAccelerator: "fpga-share" } });
    expect(lab.indexOf(fpga!)).toBeGreaterThan(lab.findIndex((d) => d.name === "share-fpga-share"));
  });

  it("acts through each DPU's factory account and hands the factory password only to the SmartNic claim", () => {
    for (const d of lab) {
      expect(["root", "admin"]).toContain(d.account.username);
      expect(d.account.factoryPassword !== undefined).toBe(d.kind === "SmartNic");
    }
  });

  it("reaches a host through the DPU installing its OS", () => {
    expect(byName(lab, "esx-01")?.inputs).toMatchObject({ via: { smartnic: "nic1" } });
    expect(byName(lab, "esx-01")?.dependsOn).toEqual(["esx-01-nic1"]);
  });

  it("reaches a host without an OS install through its managed DPU in the lowest slot, whatever order the stack lists them in", () => {
    const file = files.write(
      "two-dpus.yaml",
      stackText(`hosts:
  esx-01:
    smartnics:
      nic2: { mode: dpu, hostPrivilege: restricted }
      nic1: { mode: dpu, hostPrivilege: restricted }
`),
    );
    const declarations = resourceDeclarations(loadStackSync(file));
    expect(byName(declarations, "esx-01")).toMatchObject({ inputs: { via: { smartnic: "nic1", port: 8443 } }, dependsOn: ["esx-01-nic1"] });
  });

  it("routes a DPU to the address an endpoints file gives for its serial", () => {
    const stack = loadStackSync(LAB);
    const serial = stack.smartnics[0].hardware.serial;
    const routed = resourceDeclarations(stack, { routes: new Map([[serial, { address: "127.9.9.9", port: 10443 }]]) });
    const targets = routed.filter((d) => d.kind === "DpuService" || d.kind === "SmartNic").map((d) => (d.inputs as { target: { serial: string; address: string; port: number } }).target);
    expect(targets.filter((t) => t.serial === serial).every((t) => t.address === "127.9.9.9" && t.port === 10443)).toBe(true);
    expect(targets.filter((t) => t.serial !== serial).every((t) => t.address.startsWith("127.0.1."))).toBe(true);
  });
});
