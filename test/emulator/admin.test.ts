import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import { admin, monitorOf, request, startTestFleet, testImages, type TestFleet } from "./helpers";

describe("admin API", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of ["NV1", "AMD1"]) await f.claim(s);
  });
  afterAll(() => f.emu.stop());

  it("writes endpoints.json, ca.pem and an owner-only admin token and CA key to the state dir", () => {
    const endpoints = JSON.parse(fs.readFileSync(path.join(f.stateDir, "endpoints.json"), "utf8"));
    expect(endpoints).toMatchObject({ fleet: "test", caFile: path.join(f.stateDir, "ca.pem"), adminUrl: f.emu.adminUrl });
    expect(endpoints.dpus[0]).toEqual({ host: "h1", nic: "nic1", serial: "NV1", vendor: "nvidia", model: "bluefield-3", url: f.url("NV1"), factoryUsername: "root" });
    expect(fs.statSync(path.join(f.stateDir, "admin-token")).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.join(f.stateDir, "ca-key.pem")).mode & 0o777).toBe(0o600);
  });

  it("fails if the bearer token is wrong: 401", async () => {
    expect((await admin({ adminUrl: f.emu.adminUrl, adminToken: "nope" }, "GET", "/admin/v1/dpus")).status).toBe(401);
  });

  it("counts requests per port, by status, and resets the counters", async () => {
    await admin(f.emu, "DELETE", "/admin/v1/counters");
    await f.call("NV1", "GET", "/redfish/v1");
    await f.call("NV1", "GET", "/redfish/v1/Nope");
    const key = new URL(f.url("NV1")).host;
    const counters = (await admin(f.emu, "GET", "/admin/v1/counters")).body;
    expect(counters[key]).toEqual({ requests: 2, byStatus: { "200": 1, "404": 1 } });
    await admin(f.emu, "DELETE", "/admin/v1/counters");
    expect((await admin(f.emu, "GET", "/admin/v1/counters")).body[key].requests).toBe(0);
  });

  it("takes a port down (connections fail) and brings it back", async () => {
    await admin(f.emu, "PUT", "/admin/v1/dpus/AMD1/faults", { portDown: true });
    await expect(f.call("AMD1", "GET", "/redfish/v1")).rejects.toThrow();
    await admin(f.emu, "DELETE", "/admin/v1/dpus/AMD1/faults");
    expect((await f.call("AMD1", "GET", "/redfish/v1")).status).toBe(200);
  });

  it("answers 503 ServiceTemporarilyUnavailable at error rate 1, and adds latency", async () => {
    await admin(f.emu, "PUT", "/admin/v1/dpus/AMD1/faults", { errorRate: 1 });
    const r = await f.call("AMD1", "GET", "/redfish/v1/Systems");
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.ServiceTemporarilyUnavailable");
    await admin(f.emu, "PUT", "/admin/v1/dpus/AMD1/faults", { errorRate: 0, latencyMs: 150 });
    const t0 = Date.now();
    expect((await f.call("AMD1", "GET", "/redfish/v1")).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    await admin(f.emu, "DELETE", "/admin/v1/dpus/AMD1/faults");
  });

  it("fails if a fault value is out of range", async () => {
    expect((await admin(f.emu, "PUT", "/admin/v1/dpus/AMD1/faults", { errorRate: 2 })).status).toBe(400);
    expect((await admin(f.emu, "PUT", "/admin/v1/dpus/NOPE/faults", { portDown: true })).status).toBe(404);
  });

  it("drifts mode, host privilege, hostname and services out of band, visible over Redfish and in the state dump", async () => {
    const uri = (testImages() ?? [])[0].uri;
    monitorOf(await f.call("NV1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: uri }));
    await f.advance(DURATIONS_MS.dpuOsInstall);
    monitorOf(await f.call("NV1", "POST", "/redfish/v1/Oem/SmartFleet/Services", { Id: "fw", ServiceType: "firewall", Version: "1.0", Cores: 1, MemoryGiB: 1 }));
    monitorOf(await f.call("NV1", "POST", "/redfish/v1/Oem/SmartFleet/Services", { Id: "ids", ServiceType: "ids-ips", Version: "1.0", Cores: 1, MemoryGiB: 1 }));
    await f.advance(DURATIONS_MS.serviceDeploy);
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "hostPrivilege", value: "restricted" });
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "hostname", value: "someone-else" });
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "changeService", id: "fw", version: "0.9" });
    const dump = (await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "deleteService", id: "ids" })).body;
    expect(dump.state.bios.hostPrivilege).toBe("restricted");
    expect(dump.state.services.map((s: { id: string }) => s.id)).toEqual(["fw"]);
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/Bios")).body.Attributes.HostPrivilegeLevel).toBe("Restricted");
    expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/DpuOs")).body.Hostname).toBe("someone-else");
    expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/Services/fw")).body.Version).toBe("0.9");
    expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/Services/ids")).status).toBe(404);
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "mode", value: "nic" });
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/Oem/Nvidia")).body.Mode).toBe("NicMode");
    expect((await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "teleport" })).status).toBe(400);
  });

  it("fails over a pair out of band", async () => {
    monitorOf(await f.call("AMD1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: (testImages() ?? [])[0].uri }));
    await f.advance(DURATIONS_MS.dpuOsInstall);
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "mode", value: "dpu" });
    // The secondary's port consents first, with its own credentials.
    const consent = await f.call("AMD1", "POST", "/redfish/v1/Oem/SmartFleet/Consents", { Purpose: "ServicePairSecondary", Requester: { Serial: "NV1" }, ResourceId: "p", ServiceType: "nsx-controller", Cores: 1, MemoryGiB: 1 });
    monitorOf(
      await f.call("NV1", "POST", "/redfish/v1/Oem/SmartFleet/ServicePairs", { Id: "p", ServiceType: "nsx-controller", Version: "4.2", Cores: 1, MemoryGiB: 1, Secondary: { Serial: "AMD1" }, ConsentToken: consent.body.Token }),
    );
    await f.advance(DURATIONS_MS.pairDeploy);
    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/drift", { kind: "failover", id: "p" });
    expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/ServicePairs/p")).body).toMatchObject({ ActiveSide: "secondary", Protected: false });
  });

  it("keeps the process up after garbage on the wire", async () => {
    const r = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/%zz`, { auth: ["root", "x"] });
    expect([400, 401, 404]).toContain(r.status);
    expect((await f.call("NV1", "GET", "/redfish/v1")).status).toBe(200);
  });
});
