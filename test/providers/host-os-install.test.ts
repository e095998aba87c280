import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNewRun, storeFor } from "../../providers/rollout/run";
import { connect } from "../../providers/common/dpu";
import { unfinishedTasks } from "../../providers/redfish";
import { implementation as hostOsInstall, type HostOsInstallArgs, type HostOsInstallOutputs } from "../../providers/host-os-install";
import { implementation as dpuOs } from "../../providers/dpu-os";
import { implementation as smartNic } from "../../providers/smart-nic";
import { type Fleet, credentials, dump, image, rolloutOf, smartNicArgs, startClaimedFleet, startFleet, target } from "../support/provider-harness";

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

describe("HostOsInstall after a killed run, on a fleet whose work takes time", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    // Time scale 0.005: a host install takes seconds, long enough to be met still running.
    fleet = await startFleet(undefined, { timeScale: 0.005 });
    await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
    await dpuOs.create({ target: target(fleet.inventory, "h1"), image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...credentials(fleet.inventory, "h1") });
  }, 60_000);
  afterAll(() => fleet?.stop());

  it("waits for an install a killed run left running on the port (its pending create cleared) instead of resetting the host again", async () => {
    const via = target(fleet.inventory, "h1");
    const args: HostOsInstallArgs = {
      host: "h1",
      hostSerial: "H1",
      via,
      image: "esxi-x86",
      version: "8.0.3",
      ...image(fleet.inventory, "esxi-x86", "8.0.3"),
      rollout: rolloutOf("h1", { allowHostPowerCycle: true }),
      ...credentials(fleet.inventory, "h1"),
    };
    // What the killed run did: media in, boot once from CD, the reset started and not waited for.
    const { client, where } = await connect(via, credentials(fleet.inventory, "h1"));
    await client.post(where.insertMedia as string, { Image: args.uri, Inserted: true });
    await client.patch(where.hostSystem as string, { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } });
    await client.post(where.hostReset as string, { ResetType: "ForceRestart" });
    expect(await unfinishedTasks(client)).toHaveLength(1);

    const outs = (await hostOsInstall.create(args)).outs as HostOsInstallOutputs;
    expect(outs.version).toBe("8.0.3");
    expect(await unfinishedTasks(client)).toEqual([]);
    const state = await dump(fleet, "NV1");
    expect(state.host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    expect(state.virtualMedia.inserted).toBe(false);
  }, 60_000);
});
