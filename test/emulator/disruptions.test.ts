import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ManualClock, startEmulator } from "../../emulator/index";
import { DURATIONS_MS } from "../../emulator/simulation";
import { admin, monitorOf, request, startTestFleet, tempStateDir, type TestFleet } from "./helpers";
import { inventoryWithWorkloads, prepareFleet, restartDpu } from "./workloads-fleet";

const OEM = "/redfish/v1/Oem/SmartFleet";
const HOST = "/redfish/v1/Systems/Host";

async function log(f: TestFleet, query = ""): Promise<Array<Record<string, unknown>>> {
  const r = await admin(f.emu, "GET", `/admin/disruptions${query}`);
  expect(r.status).toBe(200);
  return r.body;
}

describe("disruption log", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet({ inventory: inventoryWithWorkloads() });
    await prepareFleet(f);
  });
  afterAll(() => f.emu.stop());
  beforeEach(async () => {
    await admin(f.emu, "DELETE", "/admin/disruptions");
  });

  it("records a privilege change's DPU reboot on a host with running workloads as a dpu-reboot and a workload-outage with the same start and end", async () => {
    expect((await f.call("NV1", "PATCH", "/redfish/v1/Systems/Bluefield/Bios/Settings", { Attributes: { HostPrivilegeLevel: "Restricted" } })).status).toBe(200);
    const t0 = f.clock.now();
    const monitor = await restartDpu(f, "NV1");
    expect(await log(f)).toEqual(
      expect.arrayContaining([
        { kind: "dpu-reboot", host: "h1", dpu: "NV1", start: t0, end: null },
        { kind: "workload-outage", host: "h1", start: t0, end: null },
      ]),
    );
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "GET", monitor)).body.TaskState).toBe("Completed");
    const t1 = t0 + DURATIONS_MS.dpuReset;
    expect(await log(f)).toEqual([
      { kind: "dpu-reboot", host: "h1", dpu: "NV1", start: t0, end: t1 },
      // NV1 is the pair's primary: the pair is unprotected while it restarts.
      { kind: "pair-unprotected", host: "h1", dpu: "NV1", pair: "witness", start: t0, end: t1 },
      { kind: "workload-outage", host: "h1", start: t0, end: t1 },
    ]);
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.HostPrivilegeLevel).toBe("Restricted");
  });

  it("records no workload-outage when the host is in maintenance: the maintenance interval covers the reboot", async () => {
    const enter = monitorOf(await f.call("NV1", "POST", `${HOST}/Actions/Oem/SmartFleetComputerSystem.EnterMaintenance`, {}));
    const tEnter = f.clock.now();
    await f.advance(30_000);
    expect((await f.call("NV1", "GET", enter)).body.TaskState).toBe("Completed");
    await f.call("NV1", "PATCH", "/redfish/v1/Systems/Bluefield/Bios/Settings", { Attributes: { HostPrivilegeLevel: "Privileged" } });
    const t0 = f.clock.now();
    await restartDpu(f, "NV1");
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "POST", `${HOST}/Actions/Oem/SmartFleetComputerSystem.ExitMaintenance`, {})).status).toBe(200);
    const tExit = f.clock.now();
    const entries = await log(f);
    expect(entries.filter((e) => e.kind === "workload-outage")).toEqual([]);
    expect(entries).toEqual(
      expect.arrayContaining([
        { kind: "maintenance", host: "h1", start: tEnter, end: tExit },
        { kind: "dpu-reboot", host: "h1", dpu: "NV1", start: t0, end: t0 + DURATIONS_MS.dpuReset },
      ]),
    );
  });

  it("records a pair-unprotected interval while the secondary's DPU restarts (on the primary's host)", async () => {
    const t0 = f.clock.now();
    await restartDpu(f, "AMD1");
    expect((await f.call("NV1", "GET", `${OEM}/ServicePairs/witness`)).body.Protected).toBe(false);
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "GET", `${OEM}/ServicePairs/witness`)).body.Protected).toBe(true);
    const entries = await log(f);
    expect(entries).toHaveLength(3);
    expect(entries).toEqual(
      expect.arrayContaining([
        { kind: "dpu-reboot", host: "h2", dpu: "AMD1", start: t0, end: t0 + DURATIONS_MS.dpuReset },
        { kind: "pair-unprotected", host: "h1", dpu: "NV1", pair: "witness", start: t0, end: t0 + DURATIONS_MS.dpuReset },
        { kind: "workload-outage", host: "h2", start: t0, end: t0 + DURATIONS_MS.dpuReset },
      ]),
    );
  });

  it("records a host power cycle, and a service update as a service-restart until the service is Enabled again", async () => {
    const t0 = f.clock.now();
    monitorOf(await f.call("NV1", "POST", `${HOST}/Actions/ComputerSystem.Reset`, { ResetType: "PowerCycle" }));
    const patched = await f.call("NV1", "PATCH", `${OEM}/Services/dfw`, { Version: "4.2.2" });
    expect(patched.body).toMatchObject({ Version: "4.2.2", State: "Deploying" });
    await f.advance(DURATIONS_MS.serviceDeploy);
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Enabled");
    await f.advance(DURATIONS_MS.hostPowerCycle);
    expect(await log(f)).toEqual([
      { kind: "host-power-cycle", host: "h1", dpu: "NV1", start: t0, end: t0 + DURATIONS_MS.hostPowerCycle },
      { kind: "workload-outage", host: "h1", start: t0, end: t0 + DURATIONS_MS.hostPowerCycle },
      { kind: "service-restart", host: "h1", dpu: "NV1", service: "dfw", start: t0, end: t0 + DURATIONS_MS.serviceDeploy },
    ]);
    // A rename restarts nothing.
    await f.call("NV1", "PATCH", `${OEM}/Services/dfw`, { Name: "dfw renamed" });
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Enabled");
  });

  it("filters with ?since= (intervals still going on at or after it) and forgets ended ones on DELETE", async () => {
    const t0 = f.clock.now();
    await restartDpu(f, "AMD1");
    await f.advance(DURATIONS_MS.dpuReset);
    const t1 = f.clock.now();
    const enter = monitorOf(await f.call("AMD1", "POST", `${HOST}/Actions/Oem/SmartFleetComputerSystem.EnterMaintenance`, {}));
    expect((await log(f, `?since=${t1 + 1}`)).map((e) => e.kind)).toEqual(["maintenance"]);
    expect((await log(f, `?since=${t0}`)).length).toBe(4);
    expect((await admin(f.emu, "GET", "/admin/disruptions?since=soon")).status).toBe(400);
    expect((await admin(f.emu, "DELETE", "/admin/v1/disruptions")).status).toBe(204);
    expect(await log(f)).toEqual([{ kind: "maintenance", host: "h2", start: t1, end: null }]);
    await f.advance(60_000);
    expect((await f.call("AMD1", "GET", enter)).body.TaskState).toBe("Completed");
    await f.call("AMD1", "POST", `${HOST}/Actions/Oem/SmartFleetComputerSystem.ExitMaintenance`, {});
  });

  it("fault services-fail-after-reboot: the DPU's services come up Failed after its next reboot; clearing it brings them back", async () => {
    const armed = await admin(f.emu, "POST", "/admin/v1/dpus/NV1/faults/services-fail-after-reboot");
    expect(armed.status).toBe(200);
    expect(armed.body.state.faults).toEqual({ servicesFailAfterReboot: true });
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Enabled");
    await restartDpu(f, "NV1");
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield")).body.PowerState).toBe("On");
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Failed");
    // It holds until cleared: another reboot does not fix it.
    await restartDpu(f, "NV1");
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Failed");
    const cleared = await admin(f.emu, "DELETE", "/admin/v1/dpus/NV1/faults/services-fail-after-reboot");
    expect(cleared.status).toBe(200);
    expect(cleared.body.state.faults).toEqual({ servicesFailAfterReboot: false });
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Enabled");
    expect((await admin(f.emu, "POST", "/admin/v1/dpus/NOPE/faults/services-fail-after-reboot")).status).toBe(404);
  });
});

describe("disruption log across restarts and at time scale 0", () => {
  it("survives an emulator restart: an interval open at the stop is still open, and closes when its reboot ends", async () => {
    const clock = new ManualClock();
    const stateDir = tempStateDir();
    const inventory = inventoryWithWorkloads();
    let f = await startTestFleet({ stateDir, clock, inventory });
    await f.claim("AMD1");
    await f.call("AMD1", "POST", `${HOST}/Actions/ComputerSystem.Reset`, { ResetType: "PowerCycle" });
    await f.advance(DURATIONS_MS.hostPowerCycle);
    const t0 = clock.now();
    await restartDpu(f, "AMD1");
    await f.advance(DURATIONS_MS.dpuReset / 3);
    const before = await log(f);
    await f.emu.stop();

    f = await startTestFleet({ stateDir, clock, inventory });
    try {
      expect(await log(f)).toEqual(before);
      expect(before).toContainEqual({ kind: "dpu-reboot", host: "h2", dpu: "AMD1", start: t0, end: null });
      await f.advance(DURATIONS_MS.dpuReset);
      expect(await log(f)).toEqual([
        { kind: "host-power-cycle", host: "h2", dpu: "AMD1", start: t0 - DURATIONS_MS.hostPowerCycle, end: t0 },
        { kind: "workload-outage", host: "h2", start: t0 - DURATIONS_MS.hostPowerCycle, end: t0 },
        { kind: "dpu-reboot", host: "h2", dpu: "AMD1", start: t0, end: t0 + DURATIONS_MS.dpuReset },
        { kind: "workload-outage", host: "h2", start: t0, end: t0 + DURATIONS_MS.dpuReset },
      ]);
    } finally {
      await f.emu.stop();
    }
  });

  it("records zero-length intervals when every operation is instant", async () => {
    const clock = new ManualClock();
    const inventory = inventoryWithWorkloads();
    const emu = await startEmulator({ inventory, stateDir: tempStateDir(), clock, timeScale: 0 });
    try {
      const nic = inventory.hosts[1].smartnics[0];
      const url = emu.endpoints.dpus.find((d) => d.serial === "AMD1")!.url;
      await request(emu.caPem, `${url}/redfish/v1/AccountService/Accounts/admin`, { method: "PATCH", body: { Password: "Sm4rtFleet-pass" }, auth: ["admin", nic.factoryCredentials.password] });
      const reset = await request(emu.caPem, `${url}/redfish/v1/Systems/Card1-SoC/Actions/ComputerSystem.Reset`, { method: "POST", body: { ResetType: "ForceRestart" }, auth: ["admin", "Sm4rtFleet-pass"] });
      expect(reset.status).toBe(202);
      const t = clock.now();
      expect((await admin(emu, "GET", "/admin/disruptions")).body).toEqual([
        { kind: "dpu-reboot", host: "h2", dpu: "AMD1", start: t, end: t },
        { kind: "workload-outage", host: "h2", start: t, end: t },
      ]);
    } finally {
      await emu.stop();
    }
  });
});
