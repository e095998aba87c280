import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as servicePair, type ServicePairArgs, type ServicePairOutputs } from "../../providers/service-pair";
import { type Fleet, admin, credentials, dump, startClaimedFleet, target } from "../support/provider-harness";

describe("ServicePair provider against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startClaimedFleet(["h1", "h2", "h4"]);
  });
  afterAll(() => fleet?.stop());

  it("deploys across two DPUs, shows a failover as drift, and restores protection on update", async () => {
    const args: ServicePairArgs = {
      name: "witness",
      service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4, config: {} },
      primary: target(fleet.inventory, "h1"),
      secondary: target(fleet.inventory, "h2"),
      ...h1(),
      peerUsername: credentials(fleet.inventory, "h2").username,
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

  it("asks the secondary's own port for consent; adopts an existing pair without one; a new secondary is a new pair with its own consent", async () => {
    const args: ServicePairArgs = {
      name: "dfw",
      service: { type: "nsx-dfw", version: "4.2.1", cores: 1, memoryGiB: 2, config: {} },
      primary: target(fleet.inventory, "h1"),
      secondary: target(fleet.inventory, "h2"),
      ...h1(),
      peerUsername: credentials(fleet.inventory, "h2").username,
    };
    const memberships = async (serial: string) => ((await dump(fleet, serial)) as unknown as { pairMemberships: Array<{ pairId: string }> }).pairMemberships;
    const outs = (await servicePair.create(args)).outs as ServicePairOutputs;
    expect(await memberships("AMD1")).toMatchObject([{ pairId: "dfw" }]);
    // A re-run (state lost after the POST) adopts the pair: the secondary's port is not needed.
    await admin(fleet, "PUT", "/admin/v1/dpus/AMD1/faults", { portDown: true });
    try {
      expect((await servicePair.create(args)).outs).toMatchObject({ uri: outs.uri, protected: true });
    } finally {
      await admin(fleet, "DELETE", "/admin/v1/dpus/AMD1/faults");
    }
    // A secondary that cannot take it refuses on its own port; nothing is created on the primary.
    await expect(servicePair.create({ ...args, name: "huge", service: { ...args.service, cores: 14 } })).rejects.toThrow(/asking h2\/nic1 \(AMD1\) to consent.*ResourceExhaustion/s);
    expect((await dump(fleet, "NV1")).servicePairs.map((p) => p.id)).toEqual(["dfw"]);
    // Another secondary replaces the pair (deleted first: same primary); the new secondary consents.
    const moved = { ...args, secondary: target(fleet.inventory, "h4"), peerUsername: credentials(fleet.inventory, "h4").username };
    expect(await servicePair.diff("x", outs, moved)).toMatchObject({ replaces: ["secondary"], deleteBeforeReplace: true });
    await servicePair.delete("x", outs);
    const next = (await servicePair.create(moved)).outs as ServicePairOutputs;
    expect(next).toMatchObject({ protected: true, secondary: { serial: "IPU1" } });
    expect(await memberships("AMD1")).toHaveLength(0);
    expect(await memberships("IPU1")).toMatchObject([{ pairId: "dfw" }]);
    await servicePair.delete("x", next);
    expect(await memberships("IPU1")).toHaveLength(0);
  });
});
