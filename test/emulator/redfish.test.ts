import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startTestFleet, type TestFleet } from "./helpers";

describe("management port Redfish surface", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    await f.claim("NV1");
    await f.claim("AMD1");
  });
  afterAll(() => f.emu.stop());

  it("links the service root to every collection and to Oem/SmartFleet", async () => {
    const root = (await f.call("NV1", "GET", "/redfish/v1")).body;
    for (const k of ["Systems", "Managers", "Chassis", "UpdateService", "SessionService", "AccountService"]) expect(root[k]["@odata.id"]).toBe(`/redfish/v1/${k}`);
    expect(root.Tasks["@odata.id"]).toBe("/redfish/v1/TaskService");
    expect(Object.keys(root.Oem.SmartFleet)).toEqual(["@odata.type", "DpuOs", "Services", "HostDevices", "ServicePairs", "AcceleratorShares"]);
    expect(root.ProtocolFeaturesSupported.ExpandQuery.Levels).toBe(true);
  });

  it("uses BlueField ids and Oem/Nvidia on NVIDIA ports and other ids on AMD ports", async () => {
    const nv = (await f.call("NV1", "GET", "/redfish/v1/Systems")).body.Members.map((m: { "@odata.id": string }) => m["@odata.id"]);
    expect(nv).toEqual(["/redfish/v1/Systems/Bluefield", "/redfish/v1/Systems/Host"]);
    const dpu = (await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield")).body;
    expect(dpu.SystemType).toBe("DPU");
    const oem = (await f.call("NV1", "GET", dpu.Oem.Nvidia["@odata.id"])).body;
    expect(oem.Mode).toBe("DpuMode");
    expect((await f.call("NV1", "GET", "/redfish/v1/Managers/Bluefield_BMC")).status).toBe(200);
    const fw = (await f.call("NV1", "GET", "/redfish/v1/UpdateService/FirmwareInventory")).body.Members.map((m: { "@odata.id": string }) => m["@odata.id"].split("/").pop());
    expect(fw).toEqual(["DPU_OS", "DPU_NIC", "BMC_Firmware"]);
    const amd = (await f.call("AMD1", "GET", "/redfish/v1/Systems")).body.Members.map((m: { "@odata.id": string }) => m["@odata.id"]);
    expect(amd).toEqual(["/redfish/v1/Systems/Card1-SoC", "/redfish/v1/Systems/Host"]);
    expect((await f.call("AMD1", "GET", "/redfish/v1/Managers/BMC")).status).toBe(200);
    expect((await f.call("AMD1", "GET", "/redfish/v1/Systems/Bluefield")).status).toBe(404);
    await f.claim("IPU1");
    const intel = (await f.call("IPU1", "GET", "/redfish/v1/Systems?$expand=.($levels=1)")).body.Members;
    expect(intel.map((m: { Id: string; SystemType: string }) => [m.Id, m.SystemType])).toEqual([["IPU", "DPU"], ["Host", "Physical"]]);
    expect((await f.call("IPU1", "GET", "/redfish/v1/Managers/IMC")).status).toBe(200);
    expect((await f.call("IPU1", "GET", "/redfish/v1/Chassis/IPU_Card")).status).toBe(200);
    expect((await f.call("IPU1", "GET", "/redfish/v1/UpdateService/FirmwareInventory/IPU_OS")).status).toBe(200);
  });

  it("serves the host system, chassis, network adapter, manager, virtual media, update, task, session and account services", async () => {
    const host = (await f.call("NV1", "GET", "/redfish/v1/Systems/Host")).body;
    expect(host).toMatchObject({ SystemType: "Physical", SerialNumber: "H1", PowerState: "On", Oem: { SmartFleet: { OperatingSystem: null } } });
    const adapters = (await f.call("NV1", "GET", "/redfish/v1/Chassis/Card1/NetworkAdapters")).body;
    const adapter = (await f.call("NV1", "GET", adapters.Members[0]["@odata.id"])).body;
    expect(adapter).toMatchObject({ SerialNumber: "NV1", Manufacturer: "Nvidia" });
    const cd = (await f.call("NV1", "GET", "/redfish/v1/Managers/Bluefield_BMC/VirtualMedia/CD")).body;
    expect(cd.Inserted).toBe(false);
    for (const p of ["/redfish/v1/UpdateService", "/redfish/v1/TaskService", "/redfish/v1/TaskService/Tasks", "/redfish/v1/SessionService", "/redfish/v1/AccountService", "/redfish/v1/AccountService/Roles/Administrator", "/redfish/v1/Chassis/Card1", "/redfish/v1/Oem/SmartFleet/DpuOs"]) {
      expect((await f.call("NV1", "GET", p)).status, p).toBe(200);
    }
  });

  it("stages BIOS changes in Bios/Settings until the DPU reboots", async () => {
    const bios = (await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body;
    expect(bios.Attributes).toEqual({ NicMode: "DpuMode", HostPrivilegeLevel: "Privileged" });
    const settingsUri = bios["@Redfish.Settings"].SettingsObject["@odata.id"];
    const patched = await f.call("NV1", "PATCH", settingsUri, { Attributes: { HostPrivilegeLevel: "Restricted" } });
    expect(patched.status).toBe(200);
    expect(patched.body.Attributes.HostPrivilegeLevel).toBe("Restricted");
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.HostPrivilegeLevel).toBe("Privileged");
  });

  it("answers every GET with an ETag, 304 on If-None-Match, and 412 when If-Match is stale", async () => {
    const a = await f.call("NV1", "GET", "/redfish/v1/Systems/Host");
    const etag = String(a.headers.etag);
    expect(a.body["@odata.etag"]).toBe(etag);
    // The ETag hashes the resource as sent without it; the annotation comes last.
    const { "@odata.etag": _, ...rest } = a.body;
    expect(etag).toBe(`W/"${createHash("sha1").update(JSON.stringify(rest)).digest("hex").slice(0, 16)}"`);
    expect(a.text).toBe(JSON.stringify({ ...rest, "@odata.etag": etag }));
    const snapshot = await f.call("NV1", "GET", "/redfish/v1?$expand=*($levels=5)");
    expect(snapshot.headers.etag).toBe(snapshot.body["@odata.etag"]);
    expect(Object.keys(snapshot.body).at(-1)).toBe("@odata.etag");
    const cert = snapshot.body.CertificateService.CertificateLocations.Links.Certificates[0];
    expect(cert.Subject.CommonName).toBeTruthy();
    expect(cert.Fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Host", undefined, { "If-None-Match": etag })).status).toBe(304);
    const ok = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Host", { Boot: { BootSourceOverrideTarget: "Pxe" } }, { "If-Match": etag });
    expect(ok.status).toBe(200);
    const stale = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Host", { Boot: { BootSourceOverrideTarget: "Hdd" } }, { "If-Match": etag });
    expect(stale.status).toBe(412);
    expect(stale.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PreconditionFailed");
  });

  it("expands collection members with $expand=.($levels=1)", async () => {
    const r = await f.call("NV1", "GET", "/redfish/v1/Systems?$expand=.($levels=1)");
    expect(r.body.Members.map((m: { Id: string }) => m.Id)).toEqual(["Bluefield", "Host"]);
  });

  it("fails if a query, path or method is unsupported: 501, 404, 405 with Allow", async () => {
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems?$filter=Id eq 'x'")).status).toBe(501);
    expect((await f.call("NV1", "GET", "/redfish/v1/Nope")).status).toBe(404);
    const r = await f.call("NV1", "DELETE", "/redfish/v1/Systems");
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe("GET, HEAD");
  });

  it("fails if the body is malformed JSON (400 MalformedJSON) or over 1 MiB (413), and the port stays up", async () => {
    const auth: [string, string] = ["root", "Sm4rtFleet-pass"];
    const bad = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems/Host`, { method: "PATCH", rawBody: "{not json", auth });
    expect(bad.status).toBe(400);
    expect(bad.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.MalformedJSON");
    const big = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems/Host`, { method: "PATCH", rawBody: Buffer.alloc(1024 * 1024 + 10, 0x20), auth });
    expect(big.status).toBe(413);
    expect(big.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PayloadTooLarge");
    expect((await f.call("NV1", "GET", "/redfish/v1")).status).toBe(200);
  });

  it("fails if a PATCH names unknown or read-only properties", async () => {
    const unknown = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Host", { Colour: "red" });
    expect(unknown.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PropertyUnknown");
    const ro = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Host", { PowerState: "Off" });
    expect(ro.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.PropertyNotWritable");
  });

  it("serves $metadata listing the SmartFleet CSDL, and the CSDL itself", async () => {
    const meta = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/$metadata`);
    expect(meta.headers["content-type"]).toMatch(/application\/xml/);
    expect(meta.text).toContain('<edmx:Reference Uri="/redfish/v1/schemas/SmartFleet_v1.xml">');
    expect(meta.text).toContain('Namespace="SmartFleetService.v1_0_0"');
    const csdl = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/schemas/SmartFleet_v1.xml`);
    expect(csdl.status).toBe(200);
    expect(csdl.text).toContain('EntityType Name="SmartFleetServicePair"');
  });
});
