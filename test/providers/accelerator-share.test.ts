import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as acceleratorShare, type AcceleratorShareOutputs } from "../../providers/accelerator-share";
import { implementation as hostDevice, type HostDeviceOutputs } from "../../providers/host-device";
import { type Fleet, admin, credentials, dump, startClaimedFleet, target } from "../support/provider-harness";

describe("AcceleratorShare provider against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startClaimedFleet(["h1", "h2", "h4"]);
  });
  afterAll(() => fleet?.stop());

  it("shares h1's FPGA with h2, which presents an fpga device; a second consumer is refused", async () => {
    const args = { name: "fpga-share", sourceHost: "h1", accelerator: "fpga0", source: target(fleet.inventory, "h1"), consumer: target(fleet.inventory, "h2"), ...h1(), peerUsername: credentials(fleet.inventory, "h2").username };
    const outs = (await acceleratorShare.create(args)).outs as AcceleratorShareOutputs;
    const device = (await hostDevice.create({
      target: target(fleet.inventory, "h2"), name: "fpga0", kind: "fpga", function: "pf", backingAccelerator: "fpga-share", ...credentials(fleet.inventory, "h2"),
    })).outs as HostDeviceOutputs;
    expect(device.hostPciAddress).toBe(outs.hostPciAddress);
    await expect(acceleratorShare.create({ ...args, name: "second" })).rejects.toThrow(/AcceleratorShare second .*create failed: .*(ResourceInUse|already shared)/);
    expect(await acceleratorShare.diff("x", outs, { ...args, consumer: target(fleet.inventory, "h3") })).toMatchObject({ replaces: ["consumer"], deleteBeforeReplace: true });
    await hostDevice.delete("x", device);
    await acceleratorShare.delete("x", outs);
    expect((await dump(fleet, "AMD1")).hostDevices).toHaveLength(0);
    expect((await dump(fleet, "NV1")).acceleratorShares).toHaveLength(0);
  });

  it("asks the consumer's own port for consent; adopts an existing share without one; a new consumer consents to its own share", async () => {
    const args = { name: "fpga-share", sourceHost: "h1", accelerator: "fpga0", source: target(fleet.inventory, "h1"), consumer: target(fleet.inventory, "h2"), ...h1(), peerUsername: credentials(fleet.inventory, "h2").username };
    const outs = (await acceleratorShare.create(args)).outs as AcceleratorShareOutputs;
    expect((await dump(fleet, "AMD1")).hostDevices).toMatchObject([{ kind: "fpga", hostPciAddress: outs.hostPciAddress }]);
    await admin(fleet, "PUT", "/admin/v1/dpus/AMD1/faults", { portDown: true });
    try {
      expect((await acceleratorShare.create(args)).outs).toMatchObject({ uri: outs.uri, hostPciAddress: outs.hostPciAddress });
    } finally {
      await admin(fleet, "DELETE", "/admin/v1/dpus/AMD1/faults");
    }
    await acceleratorShare.delete("x", outs);
    const moved = (await acceleratorShare.create({ ...args, consumer: target(fleet.inventory, "h4"), peerUsername: credentials(fleet.inventory, "h4").username })).outs as AcceleratorShareOutputs;
    expect((await dump(fleet, "AMD1")).hostDevices).toHaveLength(0);
    expect((await dump(fleet, "IPU1")).hostDevices).toMatchObject([{ kind: "fpga", hostPciAddress: moved.hostPciAddress }]);
    await acceleratorShare.delete("x", moved);
    expect((await dump(fleet, "IPU1")).hostDevices).toHaveLength(0);
  });
});
