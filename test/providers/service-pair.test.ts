import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as servicePair, type ServicePairArgs, type ServicePairOutputs } from "../../providers/service-pair";
import { type Fleet, admin, credentials, dump, startClaimedFleet, target } from "../support/provider-harness";

describe("ServicePair provider against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startClaimedFleet();
  });
  afterAll(() => fleet?.stop());

  it("deploys across two DPUs, shows a failover as drift, and restores protection on update", async () => {
    const args: ServicePairArgs = {
      name: "witness",
      service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4, config: {} },
      primary: target(fleet.inventory, "h1"),
      secondary: target(fleet.inventory, "h2"),
      ...h1(),
    };
    let outs = (await servicePair.create(args)).outs as ServicePairOutputs;
    expect(outs).toMatchObject({ activeSide: "primary", protected: true });
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/crash");
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/recover");
    outs = (await servicePair.read("x", outs)).props as ServicePairOutputs;
    expect(outs.activeSide).toBe("secondary");
    expect((await servicePair.diff("x", outs, args)).changes).toBe(true);
    outs = (await servicePair.update("x", outs, args)).outs as ServicePairOutputs;
    expect(outs).toMatchObject({ activeSide: "primary", protected: true });
    expect((await servicePair.diff("x", outs, args)).changes).toBe(false);
    await servicePair.delete("x", outs);
    expect((await dump(fleet, "NV1")).servicePairs).toHaveLength(0);
  });
});
