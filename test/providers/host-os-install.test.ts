import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as hostOsInstall, type HostOsInstallArgs, type HostOsInstallOutputs } from "../../providers/host-os-install";
import { type Fleet, credentials, dump, image, rolloutOf, startClaimedFleet, target } from "../support/provider-harness";

describe("HostOsInstall provider against the emulated fleet", () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startClaimedFleet();
  });
  afterAll(() => fleet?.stop());

  it("fails if the stack does not allow the host reset, installs when it does", async () => {
    const args: HostOsInstallArgs = {
      host: "h2",
      hostSerial: "H2",
      via: target(fleet.inventory, "h2"),
      image: "esxi-x86",
      version: "8.0.3",
      ...image(fleet.inventory, "esxi-x86", "8.0.3"),
      rollout: rolloutOf("h2"),
      ...credentials(fleet.inventory, "h2"),
    };
    await expect(hostOsInstall.create(args)).rejects.toThrow(/installing resets the host; set maintenance.allowHostPowerCycle: true/);
    const outs = (await hostOsInstall.create({ ...args, rollout: rolloutOf("h2", { allowHostPowerCycle: true }) })).outs as HostOsInstallOutputs;
    expect(outs.version).toBe("8.0.3");
    const state = await dump(fleet, "AMD1");
    expect(state.host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    expect(state.virtualMedia.inserted).toBe(false);
    expect(state.host.bootOverride.enabled).toBe("Disabled");
  });
});
