/**
 * The management port behaves like a DPU's BMC: Boot and reset on both systems, $select and
 * only, the Manager (reset, management NIC, network protocol, clock, event log), and the card
 * chassis (power state, subsystems, sensors) and adapter (ports, metrics, settings).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, request, startTestFleet, type TestFleet } from "./helpers";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const V1 = "/redfish/v1";

function messageId(body: Body): string {
  return String(body?.error?.["@Message.ExtendedInfo"]?.[0]?.MessageId ?? "");
}

describe("a management port that behaves like a DPU BMC", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of ["NV1", "AMD1", "IPU1"]) await f.claim(s);
  });
  afterAll(() => f.emu.stop());

  describe("Boot and reset on every system", () => {
    it("shows Boot with allowable values, BootProgress and BootOptions on the DPU and the host", async () => {
      for (const [serial, id] of [["NV1", "Bluefield"], ["AMD1", "Card1-SoC"], ["IPU1", "IPU"], ["NV1", "Host"]]) {
        const sys = (await f.call(serial, "GET", `${V1}/Systems/${id}`)).body;
        expect(sys.Boot.BootSourceOverrideMode).toBe("UEFI");
        expect(sys.Boot["@Redfish.WriteableProperties"]).toEqual(["BootSourceOverrideEnabled", "BootSourceOverrideTarget", "BootSourceOverrideMode"]);
        expect(sys.Boot["BootSourceOverrideMode@Redfish.AllowableValues"]).toEqual(["Legacy", "UEFI"]);
        expect(sys.Boot["BootSourceOverrideEnabled@Redfish.AllowableValues"]).toContain("Continuous");
        expect(sys.Boot["BootSourceOverrideTarget@Redfish.AllowableValues"]).toEqual(expect.arrayContaining(["None", "Pxe", "Hdd", "Cd"]));
        expect(sys.BootProgress.LastState).toMatch(/OSRunning|SystemHardwareInitializationComplete/);
        const options = (await f.call(serial, "GET", sys.Boot.BootOptions["@odata.id"])).body;
        expect(options.Members.map((m: Body) => m["@odata.id"].split("/").pop())).toEqual(sys.Boot.BootOrder);
        const pxe = (await f.call(serial, "GET", options.Members.at(-1)["@odata.id"])).body;
        expect(pxe).toMatchObject({ Alias: "Pxe", BootOptionEnabled: true });
      }
    });

    it("takes a PATCH of BootSourceOverrideMode/Target/Enabled on both systems (the virtual media flow)", async () => {
      const host = await f.call("NV1", "PATCH", `${V1}/Systems/Host`, { Boot: { BootSourceOverrideMode: "UEFI", BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" } });
      expect(host.status).toBe(200);
      expect(host.body.Boot).toMatchObject({ BootSourceOverrideMode: "UEFI", BootSourceOverrideTarget: "Cd", BootSourceOverrideEnabled: "Once" });
      const dpu = await f.call("NV1", "PATCH", `${V1}/Systems/Bluefield`, { Boot: { BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Continuous", BootSourceOverrideMode: "Legacy" } });
      expect(dpu.status).toBe(200);
      expect(dpu.body.Boot).toMatchObject({ BootSourceOverrideTarget: "Pxe", BootSourceOverrideEnabled: "Continuous", BootSourceOverrideMode: "Legacy" });
      await f.call("NV1", "PATCH", `${V1}/Systems/Bluefield`, { Boot: { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None", BootSourceOverrideMode: "UEFI" } });
      await f.call("NV1", "PATCH", `${V1}/Systems/Host`, { Boot: { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" } });
    });

    it("refuses a bad Boot PATCH with the Base message naming the property", async () => {
      const bad = await f.call("NV1", "PATCH", `${V1}/Systems/Host`, { Boot: { BootSourceOverrideMode: "BIOS" } });
      expect(bad.status).toBe(400);
      expect(messageId(bad.body)).toMatch(/PropertyValueNotInList$/);
      expect(bad.body.error["@Message.ExtendedInfo"][0].MessageArgs).toEqual(["BIOS", "Boot/BootSourceOverrideMode"]);
      const unknown = await f.call("NV1", "PATCH", `${V1}/Systems/Bluefield`, { Boot: { BootNext: "Boot0001" } });
      expect(unknown.status).toBe(400);
      expect(messageId(unknown.body)).toMatch(/PropertyUnknown$/);
      const readOnly = await f.call("NV1", "PATCH", `${V1}/Systems/Bluefield`, { Boot: { BootOrder: [] } });
      expect(messageId(readOnly.body)).toMatch(/PropertyNotWritable$/);
    });

    it("treats On of a host that is on as done (200 Success), not a conflict", async () => {
      const on = await f.call("NV1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "On" });
      expect(on.status).toBe(200);
      expect(on.body["@Message.ExtendedInfo"][0].MessageId).toMatch(/^Base\.1\.\d+\.\d+\.Success$/);
    });

    it("offers the DPU the reset types of a BlueField BMC, and powers it off and on", async () => {
      const info = (await f.call("NV1", "GET", `${V1}/Systems/Bluefield/ResetActionInfo`)).body;
      expect(info.Parameters[0].AllowableValues).toEqual(["On", "ForceOff", "ForceOn", "ForceRestart", "GracefulRestart", "GracefulShutdown", "PowerCycle", "Nmi"]);
      const sys = (await f.call("NV1", "GET", `${V1}/Systems/Bluefield`)).body;
      expect(sys.Actions["#ComputerSystem.Reset"]["@Redfish.ActionInfo"]).toBe(`${V1}/Systems/Bluefield/ResetActionInfo`);
      expect((await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "On" })).status).toBe(200);
      const off = await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "GracefulShutdown" });
      expect(off.status).toBe(202);
      await f.advance(60_000);
      expect((await f.call("NV1", "GET", `${V1}/Systems/Bluefield`)).body).toMatchObject({ PowerState: "Off", BootProgress: { LastState: "None" } });
      expect((await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "ForceOff" })).status).toBe(200);
      const nmi = await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "Nmi" });
      expect(nmi.status).toBe(409);
      expect(messageId(nmi.body)).toMatch(/OperationNotAllowed$/);
      expect((await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "On" })).status).toBe(202);
      await f.advance(120_000);
      const back = (await f.call("NV1", "GET", `${V1}/Systems/Bluefield`)).body;
      expect(back.PowerState).toBe("On");
      expect(back.LastResetTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    });

    it("refuses an unknown reset type with ActionParameterValueNotInList", async () => {
      const bad = await f.call("NV1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "Nmi" });
      expect(bad.status).toBe(400);
      expect(messageId(bad.body)).toMatch(/ActionParameterValueNotInList$/);
      expect(bad.body.error["@Message.ExtendedInfo"][0].MessageArgs).toEqual(["Nmi", "ResetType", "ComputerSystem.Reset"]);
    });
  });

  describe("$select and only", () => {
    it("advertises both in ProtocolFeaturesSupported", async () => {
      const root = (await f.call("NV1", "GET", V1)).body;
      expect(root.ProtocolFeaturesSupported).toMatchObject({ SelectQuery: true, OnlyMemberQuery: true });
    });

    it("$select keeps the named properties, sub-properties and the OData identity", async () => {
      const sys = (await f.call("AMD1", "GET", `${V1}/Systems/Card1-SoC?$select=PowerState,Status/Health`)).body;
      expect(Object.keys(sys).sort()).toEqual(["@odata.etag", "@odata.id", "@odata.type", "PowerState", "Status"]);
      expect(sys.Status).toEqual({ Health: "OK" });
      const bad = await f.call("AMD1", "GET", `${V1}/Systems/Card1-SoC?$select=`);
      expect(bad.status).toBe(400);
      expect(messageId(bad.body)).toMatch(/QueryParameterValueFormatError$/);
    });

    it("only answers the one member of a collection, the collection otherwise, and refuses a non-collection or a combination", async () => {
      const m = (await f.call("NV1", "GET", `${V1}/Managers?only`)).body;
      expect(m["@odata.id"]).toBe(`${V1}/Managers/Bluefield_BMC`);
      expect(m.ManagerType).toBe("BMC");
      const systems = (await f.call("NV1", "GET", `${V1}/Systems?only`)).body;
      expect(systems.Members).toHaveLength(2);
      const notCollection = await f.call("NV1", "GET", `${V1}/Managers/Bluefield_BMC?only`);
      expect(notCollection.status).toBe(400);
      expect(messageId(notCollection.body)).toMatch(/QueryNotSupportedOnResource$/);
      const combined = await f.call("NV1", "GET", `${V1}/Managers?only&$select=Name`);
      expect(combined.status).toBe(400);
      expect(messageId(combined.body)).toMatch(/QueryCombinationInvalid$/);
      const valued = await f.call("NV1", "GET", `${V1}/Managers?only=1`);
      expect(valued.status).toBe(400);
    });

    it("still reads the whole port in one $expand=*($levels=4) request, the new resources included", async () => {
      const root = await f.call("IPU1", "GET", `${V1}?$expand=*($levels=4)`);
      expect(root.status).toBe(200);
      const mgr = root.body.Managers.Members[0];
      expect(mgr.EthernetInterfaces.Members[0].MACAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      expect(root.body.Chassis.Members[0].Sensors.Members.length).toBeGreaterThan(0);
    });
  });

  describe("the Manager", () => {
    it("has its clock, the management NIC with the port's address, and its network services", async () => {
      const mgr = (await f.call("AMD1", "GET", `${V1}/Managers/BMC`)).body;
      expect(mgr.DateTime).toBe(new Date(f.clock.now()).toISOString().replace(/\.\d{3}Z$/, "+00:00"));
      expect(mgr.DateTimeLocalOffset).toBe("+00:00");
      const address = new URL(f.url("AMD1")).hostname;
      const nic = (await f.call("AMD1", "GET", `${V1}/Managers/BMC/EthernetInterfaces/eth0`)).body;
      expect(nic).toMatchObject({ LinkStatus: "LinkUp", InterfaceEnabled: true, IPv4Addresses: [{ Address: address, AddressOrigin: "Static" }] });
      expect(nic.IPv6Addresses[0].Address).toMatch(/^fe80::/);
      expect(nic.MACAddress).not.toBe((await f.call("NV1", "GET", `${V1}/Managers/Bluefield_BMC/EthernetInterfaces/eth0`)).body.MACAddress);
      const proto = (await f.call("AMD1", "GET", `${V1}/Managers/BMC/NetworkProtocol`)).body;
      expect(proto).toMatchObject({ HTTPS: { ProtocolEnabled: true, Port: 8443 }, SSH: { ProtocolEnabled: true, Port: 22 }, NTP: { ProtocolEnabled: true } });
      expect((await f.call("AMD1", "GET", `${V1}/Managers/BMC/EthernetInterfaces/eth9`)).status).toBe(404);
    });

    it("takes NTP servers by PATCH with DSP0266's array rules, and refuses the port's own services", async () => {
      const uri = `${V1}/Managers/BMC/NetworkProtocol`;
      const set = await f.call("AMD1", "PATCH", uri, { NTP: { NTPServers: ["ntp-a.lab", "ntp-b.lab", "10.0.0.5"] } });
      expect(set.status).toBe(200);
      expect(set.body.NTP.NTPServers).toEqual(["ntp-a.lab", "ntp-b.lab", "10.0.0.5"]);
      const edited = await f.call("AMD1", "PATCH", uri, { NTP: { NTPServers: [null, {}] } });
      expect(edited.body.NTP.NTPServers).toEqual(["ntp-b.lab"]);
      const tooMany = await f.call("AMD1", "PATCH", uri, { NTP: { NTPServers: ["a", "b", "c", "d", "e"] } });
      expect(tooMany.status).toBe(400);
      expect(messageId(tooMany.body)).toMatch(/ArraySizeTooLong$/);
      const bad = await f.call("AMD1", "PATCH", uri, { NTP: { NTPServers: ["not a host"] } });
      expect(bad.body.error["@Message.ExtendedInfo"][0].MessageArgs).toEqual(['"not a host"', "NTP/NTPServers/0"]);
      const https = await f.call("AMD1", "PATCH", uri, { HTTPS: { Port: 443 } });
      expect(https.status).toBe(400);
      expect(messageId(https.body)).toMatch(/PropertyNotWritable$/);
      expect((await f.call("AMD1", "GET", uri)).body.NTP).toMatchObject({ ProtocolEnabled: true, NTPServers: ["ntp-b.lab"], "@Redfish.WriteableProperties": ["ProtocolEnabled", "NTPServers"] });
    });

    it("restarts with Manager.Reset: sessions end and the event log says so", async () => {
      const login = await request(f.emu.caPem, `${f.url("IPU1")}${V1}/SessionService/Sessions`, { method: "POST", body: { UserName: "admin", Password: "Sm4rtFleet-pass" } });
      expect(login.status).toBe(201);
      const token = String(login.headers["x-auth-token"]);
      const before = (await f.call("IPU1", "GET", `${V1}/Managers/IMC`)).body.LastResetTime;
      f.clock.advance(5_000);
      const bad = await f.call("IPU1", "POST", `${V1}/Managers/IMC/Actions/Manager.Reset`, { ResetType: "PowerCycle" });
      expect(bad.status).toBe(400);
      expect(messageId(bad.body)).toMatch(/ActionParameterValueNotInList$/);
      expect((await f.call("IPU1", "POST", `${V1}/Managers/IMC/Actions/Manager.Reset`, { ResetType: "GracefulRestart" })).status).toBe(204);
      const stale = await request(f.emu.caPem, `${f.url("IPU1")}${V1}/Managers/IMC`, { headers: { "X-Auth-Token": token } });
      expect(stale.status).toBe(401);
      expect((await f.call("IPU1", "GET", `${V1}/Managers/IMC`)).body.LastResetTime).not.toBe(before);
    });

    it("logs logins, failed logins, resets and installs in the Manager's EventLog", async () => {
      await request(f.emu.caPem, `${f.url("AMD1")}${V1}/Managers`, { auth: ["admin", "wrong-password"] });
      await f.call("AMD1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
      await f.advance(60_000);
      const services = (await f.call("AMD1", "GET", `${V1}/Managers/BMC/LogServices`)).body;
      const log = (await f.call("AMD1", "GET", services.Members[0]["@odata.id"])).body;
      expect(log).toMatchObject({ Id: "EventLog", OverWritePolicy: "WrapsWhenFull" });
      const entries = (await f.call("AMD1", "GET", `${log.Entries["@odata.id"]}?$expand=.`)).body.Members as Body[];
      const messages = entries.map((e) => `${e.Severity} ${e.MessageId} ${e.Message}`);
      expect(messages).toEqual(expect.arrayContaining([
        expect.stringMatching(/^Warning Base\.1\.22\.1\.AccessDenied failed login as 'admin'/),
        expect.stringMatching(/^OK TaskEvent\.1\.0\.TaskStarted Host ForceRestart: started/),
        expect.stringMatching(/^OK TaskEvent\.1\.0\.TaskCompletedOK Host ForceRestart: completed/),
      ]));
      const done = entries.find((e) => /ForceRestart: completed/.test(e.Message))!;
      expect(done.Links.OriginOfCondition["@odata.id"]).toMatch(/^\/redfish\/v1\/TaskService\/Tasks\/\d+$/);
      const cleared = await f.call("AMD1", "POST", `${log["@odata.id"]}/Actions/LogService.ClearLog`, {});
      expect(cleared.status).toBe(200);
      expect((await f.call("AMD1", "GET", log.Entries["@odata.id"])).body.Members).toEqual([]);
      expect((await f.call("AMD1", "GET", `${log.Entries["@odata.id"]}/1`)).status).toBe(404);
    });

    it("logs the services a boot leaves Failed as Critical entries", async () => {
      const install = await f.call("NV1", "POST", `${V1}/UpdateService/Actions/UpdateService.SimpleUpdate`, { ImageURI: "http://images.test/esxi-arm-8.0.3.bfb" });
      expect(install.status).toBe(202);
      await f.advance(600_000);
      const created = await f.call("NV1", "POST", `${V1}/Oem/SmartFleet/Services`, { Id: "fw1", ServiceType: "firewall", Version: "1.0", Cores: 2, MemoryGiB: 2 });
      expect(created.status, created.text).toBe(202);
      await f.advance(30_000);
      expect((await admin(f.emu, "POST", "/admin/v1/dpus/NV1/faults/services-fail-after-reboot")).status).toBeLessThan(300);
      await f.call("NV1", "POST", `${V1}/Systems/Bluefield/Actions/ComputerSystem.Reset`, { ResetType: "ForceRestart" });
      await f.advance(120_000);
      await admin(f.emu, "DELETE", "/admin/v1/dpus/NV1/faults/services-fail-after-reboot");
      const entries = (await f.call("NV1", "GET", `${V1}/Managers/Bluefield_BMC/LogServices/EventLog/Entries`)).body.Members as Body[];
      const failed = entries.filter((e) => e.Severity === "Critical" && /service fw1 \(firewall\) failed to come up/.test(e.Message));
      expect(failed).toHaveLength(1);
      expect(failed[0].Links.OriginOfCondition["@odata.id"]).toBe(`${V1}/Oem/SmartFleet/Services/fw1`);
    });

    it("logs a failed install as a Critical entry", async () => {
      const bad = await f.call("NV1", "POST", `${V1}/UpdateService/Actions/UpdateService.SimpleUpdate`, { ImageURI: "http://images.test/esxi-arm-9.9.9.bfb" });
      expect(bad.status).toBe(202);
      await f.advance(600_000);
      const entries = (await f.call("NV1", "GET", `${V1}/Managers/Bluefield_BMC/LogServices/EventLog/Entries?$expand=.`)).body.Members as Body[];
      expect(entries.some((e) => e.Severity === "Critical" && /^Update os from .*9\.9\.9.*: failed/.test(e.Message))).toBe(true);
    });
  });

  describe("the card chassis and its adapter", () => {
    it("has a power state, power and thermal subsystems, and sensors that follow the state", async () => {
      const ch = (await f.call("NV1", "GET", `${V1}/Chassis/Card1`)).body;
      expect(ch.PowerState).toBe("On");
      const power = (await f.call("NV1", "GET", ch.PowerSubsystem["@odata.id"])).body;
      expect(power.CapacityWatts).toBe(150);
      const thermal = (await f.call("NV1", "GET", ch.ThermalSubsystem["@odata.id"])).body;
      const metrics = (await f.call("NV1", "GET", thermal.ThermalMetrics["@odata.id"])).body;
      expect(metrics.TemperatureReadingsCelsius.map((t: Body) => t.DeviceName)).toEqual(["bluefield_temp", "p0_temp", "p1_temp"]);
      const sensors = (await f.call("NV1", "GET", ch.Sensors["@odata.id"])).body;
      const temp = (await f.call("NV1", "GET", sensors.Members[0]["@odata.id"])).body;
      expect(temp).toMatchObject({ ReadingType: "Temperature", ReadingUnits: "Cel", Status: { State: "Enabled" } });
      expect(temp.Reading).toBeGreaterThan(30);
      expect((await f.call("NV1", "GET", `${ch.Sensors["@odata.id"]}/nope`)).status).toBe(404);
      await f.call("NV1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "ForceOff" });
      await f.advance(20_000);
      expect((await f.call("NV1", "GET", `${V1}/Chassis/Card1`)).body.PowerState).toBe("Off");
      expect((await f.call("NV1", "GET", sensors.Members[0]["@odata.id"])).body.Reading).toBeNull();
      await f.call("NV1", "POST", `${V1}/Systems/Host/Actions/ComputerSystem.Reset`, { ResetType: "On" });
      await f.advance(60_000);
    });

    it("has ports, metrics, a SKU and settings that ResetSettingsToDefault stages", async () => {
      const a = (await f.call("NV1", "GET", `${V1}/Chassis/Card1/NetworkAdapters/NvidiaNetworkAdapter`)).body;
      expect(a.SKU).toBe("BLUEFIELD-3");
      const ports = (await f.call("NV1", "GET", a.Ports["@odata.id"])).body;
      const p0 = (await f.call("NV1", "GET", ports.Members[0]["@odata.id"])).body;
      expect(p0).toMatchObject({ LinkStatus: "LinkUp", CurrentSpeedGbps: 200, LinkNetworkTechnology: "Ethernet" });
      expect((await f.call("NV1", "GET", a.Metrics["@odata.id"])).body.CPUCorePercent).toBeGreaterThan(0);
      await f.call("NV1", "PATCH", `${V1}/Systems/Bluefield/Bios/Settings`, { Attributes: { HostPrivilegeLevel: "Restricted" } });
      const target = a.Actions["#NetworkAdapter.ResetSettingsToDefault"].target;
      const extra = await f.call("NV1", "POST", target, { Force: true });
      expect(messageId(extra.body)).toMatch(/ActionParameterUnknown$/);
      expect((await f.call("NV1", "POST", target, {})).status).toBe(200);
      const pending = (await f.call("NV1", "GET", a["@Redfish.Settings"].SettingsObject["@odata.id"])).body;
      expect(pending.Attributes).toEqual({ NicMode: "DpuMode", HostPrivilegeLevel: "Privileged" });
    });
  });
});
