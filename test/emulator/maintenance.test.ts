import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import { inventoryWithWorkloads, prepareFleet, restartDpu } from "./workloads-fleet";
import { admin, monitorOf, startTestFleet, type TestFleet } from "./helpers";

const OEM = "/redfish/v1/Oem/SmartFleet";
const HOST = "/redfish/v1/Systems/Host";
const ENTER = `${HOST}/Actions/Oem/SmartFleetComputerSystem.EnterMaintenance`;
const EXIT = `${HOST}/Actions/Oem/SmartFleetComputerSystem.ExitMaintenance`;
const PAIR = `${OEM}/ServicePairs/witness`;
const SWITCH = `${PAIR}/Actions/SmartFleetServicePair.SwitchOver`;

describe("host maintenance", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet({ inventory: inventoryWithWorkloads() });
    await prepareFleet(f);
  });
  afterAll(() => f.emu.stop());

  it("shows the host's workloads and advertises the maintenance actions on the host system", async () => {
    const host = (await f.call("NV1", "GET", HOST)).body;
    expect(host.Oem.SmartFleet).toMatchObject({ Maintenance: false, MaintenanceState: "Off", WorkloadsRunning: 5 });
    expect(host.Actions.Oem).toEqual({
      "#SmartFleetComputerSystem.EnterMaintenance": { target: ENTER },
      "#SmartFleetComputerSystem.ExitMaintenance": { target: EXIT },
    });
    expect((await f.call("AMD1", "GET", HOST)).body.Oem.SmartFleet.WorkloadsRunning).toBe(3);
    expect((await f.call("NV2", "GET", HOST)).body.Oem.SmartFleet.WorkloadsRunning).toBe(0);
  });

  it("enters maintenance as a task of the host's evacuationSeconds, then runs no workload; exit brings them back; the log has the interval", async () => {
    await admin(f.emu, "DELETE", "/admin/disruptions");
    const t0 = f.clock.now();
    const start = await f.call("NV1", "POST", ENTER, {});
    const monitor = monitorOf(start);
    expect(start.body.TaskState).toBe("Running");
    expect((await f.call("NV1", "GET", HOST)).body.Oem.SmartFleet).toMatchObject({ Maintenance: false, MaintenanceState: "Entering", WorkloadsRunning: 5 });
    // Asked again while it evacuates: the same task.
    expect((await f.call("NV1", "POST", ENTER, {})).headers.location).toBe(monitor);
    await f.advance(29_999);
    expect((await f.call("NV1", "GET", monitor)).status).toBe(202);
    await f.advance(1);
    const done = await f.call("NV1", "GET", monitor);
    expect(done.status).toBe(200);
    expect(done.body.TaskState).toBe("Completed");
    expect((await f.call("NV1", "GET", HOST)).body.Oem.SmartFleet).toMatchObject({ Maintenance: true, MaintenanceState: "On", WorkloadsRunning: 0 });
    expect((await admin(f.emu, "GET", "/admin/disruptions")).body).toEqual([{ kind: "maintenance", host: "h1", start: t0, end: null }]);
    // Entering again once in maintenance: a task that has already completed.
    const again = await f.call("NV1", "POST", ENTER, {});
    expect(again.status).toBe(202);
    expect((await f.call("NV1", "GET", monitorOf(again))).body.TaskState).toBe("Completed");

    await f.advance(5_000);
    const exit = await f.call("NV1", "POST", EXIT, {});
    expect(exit.status).toBe(200);
    expect(exit.body["@Message.ExtendedInfo"][0].MessageId).toMatch(/Success$/);
    expect((await f.call("NV1", "GET", HOST)).body.Oem.SmartFleet).toMatchObject({ Maintenance: false, MaintenanceState: "Off", WorkloadsRunning: 5 });
    expect((await admin(f.emu, "GET", "/admin/disruptions")).body).toEqual([{ kind: "maintenance", host: "h1", start: t0, end: t0 + 35_000 }]);
    // Leaving when not in maintenance changes nothing.
    expect((await f.call("NV1", "POST", EXIT, {})).status).toBe(200);
  });

  it("kills the evacuation when maintenance is exited before it ends; scales with the host's evacuationSeconds", async () => {
    const monitor = monitorOf(await f.call("AMD1", "POST", ENTER, {}));
    await f.advance(30_000);
    expect((await f.call("AMD1", "GET", monitor)).status).toBe(202);
    expect((await f.call("AMD1", "POST", EXIT, {})).status).toBe(200);
    expect((await f.call("AMD1", "GET", monitor)).body.TaskState).toBe("Killed");
    expect((await f.call("AMD1", "GET", HOST)).body.Oem.SmartFleet).toMatchObject({ Maintenance: false, WorkloadsRunning: 3 });
  });

  it("fails on the DPU system (404) and with parameters (400)", async () => {
    expect((await f.call("NV1", "POST", "/redfish/v1/Systems/Bluefield/Actions/Oem/SmartFleetComputerSystem.EnterMaintenance", {})).status).toBe(404);
    expect((await f.call("NV1", "POST", `${HOST}/Actions/Oem/SmartFleetComputerSystem.Teleport`, {})).status).toBe(404);
    const bad = await f.call("NV1", "POST", ENTER, { Force: true });
    expect(bad.status).toBe(400);
    expect(bad.body.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ActionParameterUnknown$/);
  });
});

describe("service pair switch-over", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet({ inventory: inventoryWithWorkloads() });
    await prepareFleet(f);
  });
  afterAll(() => f.emu.stop());

  it("advertises SwitchOver, moves the active side and keeps the pair protected", async () => {
    const before = (await f.call("NV1", "GET", PAIR)).body;
    expect(before).toMatchObject({ ActiveSide: "primary", Protected: true });
    expect(before.Actions["#SmartFleetServicePair.SwitchOver"]).toEqual({ target: SWITCH, "ActiveSide@Redfish.AllowableValues": ["primary", "secondary"] });
    const moved = await f.call("NV1", "POST", SWITCH, { ActiveSide: "secondary" });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ ActiveSide: "secondary", Protected: true });
    // With the secondary serving, the primary's DPU restarts: unprotected only while it does.
    const t0 = f.clock.now();
    await restartDpu(f, "NV1");
    expect((await f.call("NV1", "GET", PAIR)).body).toMatchObject({ ActiveSide: "secondary", Protected: false });
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "GET", PAIR)).body).toMatchObject({ ActiveSide: "secondary", Protected: true });
    expect((await f.call("NV1", "POST", SWITCH, { ActiveSide: "primary" })).body).toMatchObject({ ActiveSide: "primary", Protected: true });
    const unprotected = (await admin(f.emu, "GET", "/admin/disruptions")).body.filter((e: { kind: string }) => e.kind === "pair-unprotected");
    expect(unprotected).toEqual([{ kind: "pair-unprotected", host: "h1", dpu: "NV1", pair: "witness", start: t0, end: t0 + DURATIONS_MS.dpuReset }]);
  });

  it("fails with 409 and says why when the target side's DPU is down or restarting; 400 for a side it does not know", async () => {
    await admin(f.emu, "POST", "/admin/v1/dpus/AMD1/crash");
    const down = await f.call("NV1", "POST", SWITCH, { ActiveSide: "secondary" });
    expect(down.status).toBe(409);
    expect(down.body.error.message).toMatch(/cannot switch service pair 'witness' over to its secondary: DPU AMD1 is not running/);
    await admin(f.emu, "POST", "/admin/v1/dpus/AMD1/recover");
    await restartDpu(f, "AMD1");
    const restarting = await f.call("NV1", "POST", SWITCH, { ActiveSide: "secondary" });
    expect(restarting.status).toBe(409);
    expect(restarting.body.error.message).toMatch(/DPU AMD1 is restarting/);
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV1", "GET", PAIR)).body).toMatchObject({ ActiveSide: "primary", Protected: true });
    expect((await f.call("NV1", "POST", SWITCH, { ActiveSide: "sideways" })).status).toBe(400);
    expect((await f.call("NV1", "POST", SWITCH, {})).status).toBe(400);
    expect((await f.call("NV1", "POST", `${OEM}/ServicePairs/nope/Actions/SmartFleetServicePair.SwitchOver`, { ActiveSide: "primary" })).status).toBe(404);
  });

  it("keeps a crash failover unprotected until the active side is set on purpose", async () => {
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/crash");
    expect((await f.call("NV1", "GET", PAIR)).body).toMatchObject({ ActiveSide: "secondary", Protected: false });
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/recover");
    expect((await f.call("NV1", "GET", PAIR)).body).toMatchObject({ ActiveSide: "secondary", Protected: false });
    // Confirming the secondary on purpose restores protection as much as switching back does.
    expect((await f.call("NV1", "POST", SWITCH, { ActiveSide: "secondary" })).body).toMatchObject({ ActiveSide: "secondary", Protected: true });
    expect((await f.call("NV1", "POST", SWITCH, { ActiveSide: "primary" })).body).toMatchObject({ ActiveSide: "primary", Protected: true });
  });
});
