import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import { monitorOf, startTestFleet, testImages, type TestFleet } from "./helpers";

const images = testImages() ?? [];
const uriOf = (name: string, version: string): string => images.find((i) => i.name === name && i.version === version)!.uri;

describe("tasks and simulated time", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of ["NV1", "AMD1", "NV2"]) await f.claim(s);
  });
  afterAll(() => f.emu.stop());

  it("installs the DPU OS through SimpleUpdate: 202 + task monitor, Running with progress, then Completed and the new version", async () => {
    const start = await f.call("NV1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      ImageURI: uriOf("esxi-arm", "8.0.3"),
      Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
    });
    const monitor = monitorOf(start);
    expect(start.body.TaskState).toBe("Running");
    expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/DpuOs")).body.State).toBe("Installing");
    await f.advance(DURATIONS_MS.dpuOsInstall / 2);
    const half = await f.call("NV1", "GET", monitor);
    expect(half.status).toBe(202);
    expect(half.body.PercentComplete).toBe(50);
    await f.advance(DURATIONS_MS.dpuOsInstall / 2);
    const done = await f.call("NV1", "GET", monitor);
    expect(done.status).toBe(200);
    expect(done.body.TaskState).toBe("Completed");
    expect(done.body.PercentComplete).toBe(100);
    expect((await f.call("NV1", "GET", "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS")).body.Version).toBe("8.0.3");
    expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/DpuOs")).body).toMatchObject({ Image: "esxi-arm", Version: "8.0.3", State: "Enabled" });
  });

  it("fails if the image is not in the catalog: the task ends Exception with a message, never hangs", async () => {
    const start = await f.call("AMD1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      ImageURI: "http://images.test/unknown.bfb",
      Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_Image"],
    });
    const monitor = monitorOf(start);
    await f.advance(DURATIONS_MS.imageNotFound);
    const done = (await f.call("AMD1", "GET", monitor)).body;
    expect(done.TaskState).toBe("Exception");
    expect(done.Messages.map((m: { Message: string }) => m.Message).join(" ")).toMatch(/not offered by the image server/);
    expect((await f.call("AMD1", "GET", "/redfish/v1/Oem/SmartFleet/DpuOs")).body.State).toBe("Absent");
  });

  it("fails if the pulled bytes do not match the catalog checksum: Exception naming both digests", async () => {
    const start = await f.call("AMD1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", {
      ImageURI: uriOf("esxi-arm", "9.9.9"),
      Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_Image"],
    });
    const monitor = monitorOf(start);
    await f.advance(DURATIONS_MS.dpuOsInstall);
    const done = (await f.call("AMD1", "GET", monitor)).body;
    expect(done.TaskState).toBe("Exception");
    expect(done.Messages.map((m: { Message: string }) => m.Message).join(" ")).toMatch(/checksum mismatch .* expected sha256 0{64}/);
  });

  it("fails if SimpleUpdate targets something that is not a firmware item", async () => {
    const r = await f.call("NV1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: uriOf("esxi-arm", "8.0.3"), Targets: ["/redfish/v1/Systems/Host"] });
    expect(r.status).toBe(400);
    expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.ActionParameterValueNotInList");
  });

  it("updates NIC firmware to the image's version", async () => {
    const start = await f.call("NV1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: uriOf("bf-nic-fw", "32.43.1014"), Targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_NIC"] });
    monitorOf(start);
    await f.advance(DURATIONS_MS.nicFirmware);
    expect((await f.call("NV1", "GET", "/redfish/v1/UpdateService/FirmwareInventory/DPU_NIC")).body.Version).toBe("32.43.1014");
  });

  it("installs a host OS from virtual media on a one-time CD boot, and the override reverts after the boot", async () => {
    expect((await f.call("NV1", "POST", "/redfish/v1/Managers/Bluefield_BMC/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia", { Image: uriOf("esxi-x86", "8.0.3") })).status).toBe(204);
    expect((await f.call("NV1", "PATCH", "/redfish/v1/Systems/Host", { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } })).status).toBe(200);
    const monitor = monitorOf(await f.call("NV1", "POST", "/redfish/v1/Systems/Host/Actions/ComputerSystem.Reset", { ResetType: "ForceRestart" }));
    await f.advance(DURATIONS_MS.hostPowerOn + DURATIONS_MS.hostOsInstall);
    expect((await f.call("NV1", "GET", monitor)).body.TaskState).toBe("Completed");
    const host = (await f.call("NV1", "GET", "/redfish/v1/Systems/Host")).body;
    expect(host.Oem.SmartFleet.OperatingSystem).toEqual({ Image: "esxi-x86", Version: "8.0.3" });
    expect(host.Boot).toMatchObject({ BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" });
    expect((await f.call("NV1", "POST", "/redfish/v1/Managers/Bluefield_BMC/VirtualMedia/CD/Actions/VirtualMedia.EjectMedia", {})).status).toBe(204);
  });

  it("fails if the CD holds an image with a bad checksum: the boot task ends Exception and no OS shows", async () => {
    await f.call("AMD1", "POST", "/redfish/v1/Managers/BMC/VirtualMedia/CD/Actions/VirtualMedia.InsertMedia", { Image: uriOf("esxi-arm", "9.9.9") });
    await f.call("AMD1", "PATCH", "/redfish/v1/Systems/Host", { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } });
    const monitor = monitorOf(await f.call("AMD1", "POST", "/redfish/v1/Systems/Host/Actions/ComputerSystem.Reset", { ResetType: "PowerCycle" }));
    await f.advance(DURATIONS_MS.hostPowerCycle + DURATIONS_MS.hostOsInstall);
    const done = (await f.call("AMD1", "GET", monitor)).body;
    expect(done.TaskState).toBe("Exception");
    expect((await f.call("AMD1", "GET", "/redfish/v1/Systems/Host")).body.Oem.SmartFleet.OperatingSystem).toBeNull();
  });

  it("applies a mode change only after a DPU reboot and then a host power cycle", async () => {
    const settings = "/redfish/v1/Systems/Bluefield/Bios/Settings";
    expect((await f.call("NV2", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.NicMode).toBe("NicMode");
    await f.call("NV2", "PATCH", settings, { Attributes: { NicMode: "DpuMode" } });
    const reboot = monitorOf(await f.call("NV2", "POST", "/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset", { ResetType: "GracefulRestart" }));
    await f.advance(DURATIONS_MS.dpuReset);
    expect((await f.call("NV2", "GET", reboot)).body.TaskState).toBe("Completed");
    expect((await f.call("NV2", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.NicMode).toBe("NicMode");
    expect((await f.call("NV2", "GET", settings)).body.Attributes.NicMode).toBe("DpuMode");
    // A warm host reset is not a power cycle.
    monitorOf(await f.call("NV2", "POST", "/redfish/v1/Systems/Host/Actions/ComputerSystem.Reset", { ResetType: "ForceRestart" }));
    await f.advance(DURATIONS_MS.hostPowerOn);
    expect((await f.call("NV2", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.NicMode).toBe("NicMode");
    monitorOf(await f.call("NV2", "POST", "/redfish/v1/Systems/Host/Actions/ComputerSystem.Reset", { ResetType: "PowerCycle" }));
    await f.advance(DURATIONS_MS.hostPowerCycle);
    expect((await f.call("NV2", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.NicMode).toBe("DpuMode");
    expect((await f.call("NV2", "GET", "/redfish/v1/Systems/Bluefield/Oem/Nvidia")).body.Mode).toBe("DpuMode");
  });

  it("runs every operation instantly at time scale 0 and keeps the newest 100 tasks", async () => {
    const { startEmulator, ManualClock } = await import("../../emulator/index");
    const { testInventory, tempStateDir, request, NEW_PASSWORD } = await import("./helpers");
    const emu = await startEmulator({ inventory: testInventory(), stateDir: tempStateDir(), clock: new ManualClock(), timeScale: 0 });
    try {
      const url = emu.endpoints.dpus[0].url;
      await request(emu.caPem, `${url}/redfish/v1/AccountService/Accounts/root`, { method: "PATCH", body: { Password: NEW_PASSWORD }, auth: ["root", "0penBmc"] });
      const start = await request(emu.caPem, `${url}/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate`, { method: "POST", body: { ImageURI: uriOf("esxi-arm", "8.0.3") }, auth: ["root", NEW_PASSWORD] });
      expect(start.status).toBe(202);
      expect(start.body.TaskState).toBe("Completed");
      // Ended tasks are overwritten oldest first beyond 100 per DPU.
      for (let i = 0; i < 101; i++) {
        const r = await request(emu.caPem, `${url}/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset`, { method: "POST", body: { ResetType: "ForceRestart" }, auth: ["root", NEW_PASSWORD] });
        expect(r.body.TaskState).toBe("Completed");
      }
      const tasks = await request(emu.caPem, `${url}/redfish/v1/TaskService/Tasks`, { auth: ["root", NEW_PASSWORD] });
      expect(tasks.body["Members@odata.count"]).toBe(100);
      expect(tasks.body.Members[0]["@odata.id"]).toBe("/redfish/v1/TaskService/Tasks/3");
      expect((await request(emu.caPem, `${url}${start.headers.location}`, { auth: ["root", NEW_PASSWORD] })).status).toBe(404);
    } finally {
      await emu.stop();
    }
  });
});
