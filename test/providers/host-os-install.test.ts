import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNewRun, storeFor } from "../../providers/rollout/run";
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

    // A killed run installed it and left the host in maintenance: the next run installs
    // nothing and takes the host out.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-hostos-"));
    const log = path.join(dir, "maintenance.log");
    try {
      await storeFor("test").markMaintenance("h2", { run: "killed-run", since: Date.now() - 1_000, note: "", group: "host:h2" });
      startNewRun();
      const rollout = rolloutOf("h2", { allowHostPowerCycle: true, hostMaintenance: { mode: "command", enter: `echo enter >> ${log}`, exit: `echo exit >> ${log}` } });
      await hostOsInstall.update("h2/os", outs, { ...args, rollout });
      expect(fs.readFileSync(log, "utf8").trim().split("\n")).toEqual(["exit"]);
      expect(await storeFor("test").maintenance()).toEqual([]);
      expect((await dump(fleet, "AMD1")).host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
