import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";

/** What the example program asked the (mocked) engine to register. */
const registered: pulumi.runtime.MockResourceArgs[] = [];

function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

describe("the TypeScript example program (engine mocked)", () => {
  let example: { hosts: pulumi.Output<Record<string, unknown>>; witnessProtected: pulumi.Output<boolean> };

  beforeAll(async () => {
    pulumi.runtime.setAllConfig({ "smartfleet:managementPassword": "Managed-Pa55word!" }, ["smartfleet:managementPassword"]);
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registered.push(args);
          return { id: `${args.name}-id`, state: { powerState: "On", state: "Enabled", activeSide: "primary", protected: true, hostPciAddress: "0000:3b:00.2", ...args.inputs } };
        },
        call: () => ({}),
      },
      "smartfleet-typescript-example",
      "dev",
      false,
    );
    example = await import("../../examples/typescript/index");
    await Promise.all([resolved(example.hosts), resolved(example.witnessProtected)]);
  });

  it("declares its two hosts, their firewall DPUs and the witness pair through the same mapping as YAML stacks", () => {
    const names = registered.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/")).map((r) => `${r.type.split(":").pop()} ${r.name}`);
    expect(names.sort()).toEqual(
      [
        "SmartNic esx-01-nic1",
        "DpuOs esx-01-nic1-os",
        "DpuService esx-01-nic1-dfw",
        "HostDevice esx-01-nic1-vnic0",
        "Host esx-01",
        "SmartNic esx-02-nic1",
        "DpuOs esx-02-nic1-os",
        "DpuService esx-02-nic1-dfw",
        "HostDevice esx-02-nic1-vnic0",
        "Host esx-02",
        "ServicePair pair-witness",
      ].sort(),
    );
  });

  it("exports the witness's protection and a summary per host", async () => {
    expect(await resolved(example.witnessProtected)).toBe(true);
    expect(Object.keys(await resolved(example.hosts))).toEqual(["esx-01", "esx-02"]);
  });
});
