import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as dpuOs } from "../../providers/dpu-os";
import { implementation as dpuService, type DpuServiceArgs, type DpuServiceOutputs } from "../../providers/dpu-service";
import { clientForTarget, connect } from "../../providers/common/dpu";
import { implementation as smartNic } from "../../providers/smart-nic";
import { admin, credentials, dump, image, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

describe("DpuService provider against the emulated fleet", () => {
  let fleet: Fleet;
  let dfw: DpuServiceOutputs;
  const args = (extra: Partial<DpuServiceArgs["service"]> = {}, name = "dfw"): DpuServiceArgs => ({
    target: target(fleet.inventory, "h1"),
    name,
    service: { type: "nsx-dfw", version: "4.2.1", cores: 4, memoryGiB: 8, config: { defaultAction: "drop" }, ...extra },
    ...credentials(fleet.inventory, "h1"),
  });

  beforeAll(async () => {
    fleet = await startFleet();
    await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
    await dpuOs.create({ target: target(fleet.inventory, "h1"), image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...credentials(fleet.inventory, "h1") });
  });
  afterAll(() => fleet?.stop());

  it("deploys the service and reserves its cores and memory", async () => {
    const result = await dpuService.create(args());
    dfw = result.outs as DpuServiceOutputs;
    expect(dfw.state).toBe("Enabled");
    expect((await dump(fleet, "NV1")).services).toEqual([expect.objectContaining({ id: "dfw", serviceType: "nsx-dfw", cores: 4, config: { defaultAction: "drop" } })]);
  });

  it("adopts a service that already runs under that name instead of deploying a second one", async () => {
    await dpuService.create(args());
    expect((await dump(fleet, "NV1")).services).toHaveLength(1);
  });

  it("refuses to adopt a service of that name but another type, and leaves it running", async () => {
    await expect(dpuService.create(args({ type: "firewall" }))).rejects.toThrow(/already runs a service 'dfw' of type nsx-dfw; remove it or rename this one/);
    expect((await dump(fleet, "NV1")).services).toEqual([expect.objectContaining({ id: "dfw", serviceType: "nsx-dfw" })]);
  });

  it("updates version and size in place, and replaces on a type change (delete first on the same DPU)", async () => {
    expect(await dpuService.diff("x", dfw, args({ version: "4.2.2" }))).toMatchObject({ changes: true, replaces: [] });
    expect(await dpuService.diff("x", dfw, args({ type: "firewall" }))).toMatchObject({ replaces: ["service"], deleteBeforeReplace: true });
    const moved = { ...args(), target: target(fleet.inventory, "h2") };
    expect(await dpuService.diff("x", dfw, moved)).toMatchObject({ replaces: ["target"], deleteBeforeReplace: false });
    dfw = (await dpuService.update("x", dfw, args({ version: "4.2.2", cores: 5 }))).outs as DpuServiceOutputs;
    expect((await dump(fleet, "NV1")).services[0]).toMatchObject({ version: "4.2.2", cores: 5 });
  });

  it("reads a service deleted out of band as gone and deploys it again on update", async () => {
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/drift", { kind: "deleteService", id: "dfw" });
    expect((await dpuService.read("x", dfw)).id).toBe("");
    await dpuService.update("x", dfw, args({ version: "4.2.2", cores: 5 }));
    expect((await dump(fleet, "NV1")).services).toHaveLength(1);
  });

  it("fails if the DPU has no capacity left, with what is free", async () => {
    await expect(dpuService.create(args({ cores: 64 }, "huge"))).rejects.toThrow(/DpuService huge on h1\/nic1 \(NV1\): create failed: .*ResourceExhaustion.*cores/);
  });

  it("fails if the PATCH carries a stale ETag (412 PreconditionFailed)", async () => {
    const connection = await connect(target(fleet.inventory, "h1"), credentials(fleet.inventory, "h1"));
    const { etag } = await connection.client.get(dfw.uri);
    await connection.client.patch(dfw.uri, { Version: "4.2.3" }, etag);
    await expect(clientForTarget(target(fleet.inventory, "h1"), credentials(fleet.inventory, "h1")).patch(dfw.uri, { Version: "4.2.4" }, etag)).rejects.toMatchObject({
      status: 412,
    });
  });

  it("releases on delete: the service is removed from the DPU", async () => {
    await dpuService.delete("x", dfw);
    expect((await dump(fleet, "NV1")).services).toHaveLength(0);
  });
});
