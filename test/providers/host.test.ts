import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as host, type HostOutputs } from "../../providers/host";
import { type Fleet, credentials, startClaimedFleet, target } from "../support/provider-harness";

describe("Host provider against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startClaimedFleet();
  });
  afterAll(() => fleet?.stop());

  it("claims the host by serial through its DPU and fails if the serial differs", async () => {
    const args = { name: "h1", serial: "H1", vendor: "dell" as const, model: "PowerEdge R760", cpus: 64, memoryGiB: 512, via: target(fleet.inventory, "h1"), ...h1() };
    const outs = (await host.create(args)).outs as HostOutputs;
    expect(outs.powerState).toBe("On");
    expect((await host.read("H1", outs)).props).toMatchObject({ serial: "H1" });
    await expect(host.create({ ...args, serial: "H9" })).rejects.toThrow(/sits in host serial 'H1', not 'H9'/);
  });
});
