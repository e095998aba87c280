import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as acceleratorShare, type AcceleratorShareOutputs } from "../../providers/accelerator-share";
import { implementation as hostDevice, type HostDeviceOutputs } from "../../providers/host-device";
import { type Fleet, credentials, dump, startClaimedFleet, target } from "../support/provider-harness";

describe("AcceleratorShare provider against the emulated fleet", () => {
  let fleet: Fleet;
  const h1 = () => ({ ...credentials(fleet.inventory, "h1") });

  beforeAll(async () => {
    fleet = await startClaimedFleet();
  });
  afterAll(() => fleet?.stop());

  it("shares h1's FPGA with h2, which presents an fpga device; a second consumer is refused", async () => {
    const args = { name: "fpga-share", sourceHost: "h1", accelerator: "fpga0", source: target(fleet.inventory, "h1"), consumer: target(fleet.inventory, "h2"), ...h1() };
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
});
