import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { typeToken } from "../../schemas/kinds";
import type { Finding } from "../../policies/check";
import { declareStack, warningsOfPart, type FleetOutputs } from "../../stacks/fleet";

const LAB = path.resolve(__dirname, "..", "..", "stacks", "lab.yaml");

/** What the engine was asked to register, as Pulumi's mocks see it. */
const registered: pulumi.runtime.MockResourceArgs[] = [];

function dynamicResources(): pulumi.runtime.MockResourceArgs[] {
  return registered.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
}

/** How a secret value reaches the engine (Pulumi's wire signature for secrets). */
function secret(value: unknown): Record<string, unknown> {
  return { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value };
}

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

describe("the Pulumi program on the lab stack (engine mocked)", () => {
  let outputs: FleetOutputs;

  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push(args);
          // The hardware's answers: what a converged fleet reports.
          const reported = { powerState: "On", state: "Enabled", activeSide: "primary", protected: true, hostPciAddress: `0000:${registered.length.toString(16).padStart(2, "0")}:00.0` };
          return { id: `${args.name}-id`, state: { ...reported, ...args.inputs } };
        },
        call: () => ({}),
      },
      "smartfleet",
      "lab",
      false,
    );
    outputs = declareStack(loadStackSync(LAB), { password: "Managed-Pa55word!" });
    // Registration is asynchronous: the outputs resolve once every resource is registered.
    await Promise.all([resolved(outputs.hosts), resolved(outputs.servicePairs), resolved(outputs.acceleratorShares)]);
  });

  it("registers exactly the resources the one mapping declares", () => {
    const declared = resourceDeclarations(loadStackSync(LAB)).map((d) => `${typeToken(d.kind)} ${d.name}`);
    expect(dynamicResources().map((r) => `${r.type} ${r.name}`).sort()).toEqual(declared.sort());
    // Per-host resources stay children of one component per host: their URNs in existing state depend on it.
    expect(registered.filter((r) => r.type === "smartfleet:fleet:ManagedHost").map((r) => r.name)).toEqual(["esx-01", "esx-02", "esx-03", "esx-04"]);
  });

  it("passes every resource the management password, and the factory password only to the SmartNic claim", () => {
    expect(dynamicResources().length).toBeGreaterThan(20);
    for (const r of dynamicResources()) {
      expect(r.inputs.password, r.name).toEqual(secret("Managed-Pa55word!"));
      if (r.type.endsWith(":SmartNic")) expect(r.inputs.factoryPassword, r.name).toEqual(secret(expect.any(String)));
      else expect(r.inputs.factoryPassword, r.name).toBeUndefined();
    }
  });

  it("exports a summary per host, per pair and per share", async () => {
    const hosts = await resolved(outputs.hosts);
    expect(Object.keys(hosts)).toEqual(["esx-01", "esx-02", "esx-03", "esx-04"]);
    expect(hosts["esx-01"]).toMatchObject({
      powerState: "On",
      hostOs: "8.0.3",
      smartnics: [
        { name: "nic1", mode: "dpu", hostPrivilege: "restricted", os: "8.0.3" },
        { name: "nic2", mode: "dpu", hostPrivilege: "restricted", os: "8.0.3" },
      ],
      services: [
        { name: "nic1/dfw", state: "Enabled" },
        { name: "nic2/vsan", state: "Enabled" },
      ],
    });
    expect(Object.keys(hosts["esx-01"].hostPciAddresses)).toEqual(["nic1/vnic0", "nic2/nvme0"]);
    expect(await resolved(outputs.servicePairs)).toEqual({ witness: { activeSide: "primary", protected: true } });
    expect(Object.keys(await resolved(outputs.acceleratorShares))).toEqual(["fpga-share"]);
  });
});

describe("the warnings a part of a sharded stack logs", () => {
  const finding = (pointer: string): Finding => ({ ruleId: "SF011", ruleName: "pair-budget", severity: "warning", message: pointer, pointer, location: { file: LAB, line: 1, column: 1 } });
  const findings = ["/servicePairs/witness/secondary", "/servicePairs/elsewhere/primary", "/hosts/esx-01/smartnics/nic1", "/hosts/esx-09", "/acceleratorShares/fpga-share", "/rollout"].map(finding);

  it("are those about its own hosts, pairs and shares, and those about the whole stack", () => {
    const declared = new Set(["pair-witness", "esx-01", "esx-01-nic1", "share-fpga-share"]);
    expect(warningsOfPart(findings, declared).map((f) => f.pointer)).toEqual(["/servicePairs/witness/secondary", "/hosts/esx-01/smartnics/nic1", "/acceleratorShares/fpga-share", "/rollout"]);
  });

  it("are all of them for a stack that is not sharded", () => {
    expect(warningsOfPart(findings)).toEqual(findings);
  });
});
