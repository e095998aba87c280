import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import { admin, monitorOf, startTestFleet, testImages, type TestFleet } from "./helpers";

const OEM = "/redfish/v1/Oem/SmartFleet";
const osUri = (testImages() ?? []).find((i) => i.name === "esxi-arm" && i.version === "8.0.3")!.uri;

describe("Oem/SmartFleet resources", () => {
  let f: TestFleet;
  const osItem: Record<string, string> = { NV1: "DPU_OS", AMD1: "DPU_Image", NV2: "DPU_OS" };
  async function installOs(serial: string): Promise<void> {
    monitorOf(await f.call(serial, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: osUri, Targets: [`/redfish/v1/UpdateService/FirmwareInventory/${osItem[serial]}`] }));
  }
  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of ["NV1", "AMD1", "NV2", "IPU1"]) await f.claim(s);
  });
  afterAll(() => f.emu.stop());

  it("fails if a service is created before a DPU OS exists: 409 OperationNotAllowed", async () => {
    const r = await f.call("NV1", "POST", `${OEM}/Services`, { ServiceType: "nsx-dfw", Version: "4.2.1", Cores: 2, MemoryGiB: 4 });
    expect(r.status).toBe(409);
    expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.OperationNotAllowed");
    expect(r.body.error.message).toMatch(/no DPU OS/);
  });

  it("deploys a service as a task: Deploying at once, Enabled when the task completes, monitor answers 201 + Location + the service", async () => {
    await installOs("NV1");
    await installOs("AMD1");
    await f.advance(DURATIONS_MS.dpuOsInstall);
    const start = await f.call("NV1", "POST", `${OEM}/Services`, { Id: "dfw", ServiceType: "nsx-dfw", Version: "4.2.1", Cores: 4, MemoryGiB: 8, Config: { defaultAction: "drop" } });
    const monitor = monitorOf(start);
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Deploying");
    await f.advance(DURATIONS_MS.serviceDeploy);
    const done = await f.call("NV1", "GET", monitor);
    expect(done.status).toBe(201);
    expect(done.headers.location).toBe(`${OEM}/Services/dfw`);
    // The 201 carries the service as it is now, like a synchronous create would.
    expect(done.body).toMatchObject({ "@odata.id": `${OEM}/Services/dfw`, Id: "dfw", State: "Enabled" });
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body).toMatchObject({ ServiceType: "nsx-dfw", Cores: 4, MemoryGiB: 8, Config: { defaultAction: "drop" }, State: "Enabled" });
  });

  it("ends a deployment as Killed when its service is deleted before it is up", async () => {
    const monitor = monitorOf(await f.call("NV1", "POST", `${OEM}/Services`, { Id: "short-lived", ServiceType: "firewall", Version: "1.0", Cores: 1, MemoryGiB: 1 }));
    expect((await f.call("NV1", "DELETE", `${OEM}/Services/short-lived`)).status).toBe(204);
    const ended = (await f.call("NV1", "GET", monitor)).body;
    expect(ended.TaskState).toBe("Killed");
    await f.advance(DURATIONS_MS.serviceDeploy);
    expect((await f.call("NV1", "GET", `${OEM}/Services/short-lived`)).status).toBe(404);
  });

  it("fails if a service exceeds the cores left after the OS reserve: 409 ResourceExhaustion naming what is free", async () => {
    // 16 cores - 2 reserved - 4 used by dfw = 10 free.
    const r = await f.call("NV1", "POST", `${OEM}/Services`, { ServiceType: "firewall", Version: "1.0", Cores: 11, MemoryGiB: 1 });
    expect(r.status).toBe(409);
    expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toBe("Base.1.22.1.ResourceExhaustion");
    expect(r.body.error.message).toMatch(/10 cores and 20 GiB free/);
    const grow = await f.call("NV1", "PATCH", `${OEM}/Services/dfw`, { MemoryGiB: 29 });
    expect(grow.status).toBe(409);
  });

  it("fails if a service config has keys its type does not know", async () => {
    const r = await f.call("NV1", "POST", `${OEM}/Services`, { ServiceType: "ids-ips", Version: "1.0", Cores: 1, MemoryGiB: 1, Config: { defaultAction: "drop" } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/allowed: mode, signatureSet/);
  });

  it("fails if a service is created on a DPU in NIC mode", async () => {
    const r = await f.call("NV2", "POST", `${OEM}/Services`, { ServiceType: "firewall", Version: "1.0", Cores: 1, MemoryGiB: 1 });
    expect(r.status).toBe(409);
    expect(r.body.error.message).toMatch(/NIC mode/);
  });

  it("presents host devices with a host-side PCI address, backed by a service", async () => {
    const r = await f.call("NV1", "POST", `${OEM}/HostDevices`, { Id: "vnic0", Kind: "vnic", Function: "vf", BackingService: "dfw" });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`${OEM}/HostDevices/vnic0`);
    expect(r.body.HostPciAddress).toMatch(/^0000:3b:00\.\d$/);
    const busy = await f.call("NV1", "DELETE", `${OEM}/Services/dfw`);
    expect(busy.status).toBe(409);
    const missing = await f.call("NV1", "POST", `${OEM}/HostDevices`, { Kind: "nvme", BackingService: "nope" });
    expect(missing.status).toBe(400);
  });

  it("fails over a service pair when the primary DPU crashes, and PATCH ActiveSide primary restores protection", async () => {
    // AMD1 consents on its own port to be the secondary of exactly this pair.
    const consent = await f.call("AMD1", "POST", `${OEM}/Consents`, { Purpose: "ServicePairSecondary", Requester: { Serial: "NV1" }, ResourceId: "witness", ServiceType: "vsan-witness", Cores: 2, MemoryGiB: 4 });
    expect(consent.status).toBe(200);
    const start = await f.call("NV1", "POST", `${OEM}/ServicePairs`, { Id: "witness", ServiceType: "vsan-witness", Version: "8.0.3", Cores: 2, MemoryGiB: 4, Secondary: { Serial: "AMD1" }, ConsentToken: consent.body.Token });
    monitorOf(start);
    await f.advance(DURATIONS_MS.pairDeploy);
    const pair = `${OEM}/ServicePairs/witness`;
    expect((await f.call("NV1", "GET", pair)).body).toMatchObject({ ActiveSide: "primary", Protected: true, Primary: { Serial: "NV1" }, Secondary: { Serial: "AMD1" }, State: "Enabled" });
    const admState = await admin(f.emu, "GET", "/admin/v1/dpus/AMD1/state");
    expect(admState.body.freeCapacity).toEqual({ cores: 12, memoryGiB: 24 });

    expect((await admin(f.emu, "POST", "/admin/v1/dpus/NV1/crash")).status).toBe(200);
    expect((await f.call("NV1", "GET", pair)).body).toMatchObject({ ActiveSide: "secondary", Protected: false });
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Failed");
    const tooSoon = await f.call("NV1", "PATCH", pair, { ActiveSide: "primary" });
    expect(tooSoon.status).toBe(409);

    await admin(f.emu, "POST", "/admin/v1/dpus/NV1/recover");
    expect((await f.call("NV1", "GET", pair)).body).toMatchObject({ ActiveSide: "secondary", Protected: false });
    expect((await f.call("NV1", "PATCH", pair, { ActiveSide: "primary" })).status).toBe(200);
    expect((await f.call("NV1", "GET", pair)).body).toMatchObject({ ActiveSide: "primary", Protected: true });
    expect((await f.call("NV1", "GET", `${OEM}/Services/dfw`)).body.State).toBe("Enabled");
  });

  it("fails if a pair names an unknown secondary (the short consent answer, no serial list) or the same DPU twice", async () => {
    const unknown = await f.call("NV1", "POST", `${OEM}/ServicePairs`, { ServiceType: "vsan-witness", Version: "8.0.3", Cores: 1, MemoryGiB: 1, Secondary: { Serial: "NOPE" } });
    expect(unknown.status).toBe(403);
    expect(unknown.body.error.message).not.toMatch(/AMD1|NV2|IPU1/);
    expect((await f.call("NV1", "POST", `${OEM}/ServicePairs`, { ServiceType: "vsan-witness", Version: "8.0.3", Cores: 1, MemoryGiB: 1, Secondary: { Serial: "NV1" } })).status).toBe(409);
  });

  it("shares an FPGA with one consumer at a time; the consumer's host sees an fpga device", async () => {
    const consent = async (consumer: string, id: string, accelerator = "fpga0") =>
      (await f.call(consumer, "POST", `${OEM}/Consents`, { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: id, Accelerator: accelerator })).body.Token;
    const share = await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { Id: "fpga-share", Accelerator: "fpga0", Consumer: { Serial: "AMD1" }, ConsentToken: await consent("AMD1", "fpga-share") });
    expect(share.status).toBe(201);
    const devices = (await f.call("AMD1", "GET", `${OEM}/HostDevices?$expand=.($levels=1)`)).body.Members;
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ Kind: "fpga", SourceSerial: "NV1", HostPciAddress: share.body.HostPciAddress });
    const second = await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { Id: "second", Accelerator: "fpga0", Consumer: { Serial: "IPU1" }, ConsentToken: await consent("IPU1", "second") });
    expect(second.status).toBe(409);
    expect(second.body.error.message).toMatch(/already shared with DPU AMD1/);
    const unknown = await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { Id: "gpu", Accelerator: "gpu9", Consumer: { Serial: "AMD1" }, ConsentToken: await consent("AMD1", "gpu", "gpu9") });
    expect(unknown.status).toBe(400);
    expect((await f.call("AMD1", "DELETE", devices[0]["@odata.id"])).status).toBe(409);
    expect((await f.call("NV1", "DELETE", `${OEM}/AcceleratorShares/fpga-share`)).status).toBe(204);
    expect((await f.call("AMD1", "GET", `${OEM}/HostDevices`)).body.Members).toHaveLength(0);
  });

  it("sets DPU OS hostname, NTP servers and cluster", async () => {
    const r = await f.call("NV1", "PATCH", `${OEM}/DpuOs`, { Hostname: "esx-01-nic1", NtpServers: ["ntp1.lab"], Cluster: "edge" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ Hostname: "esx-01-nic1", NtpServers: ["ntp1.lab"], Cluster: "edge" });
    expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield")).body.HostName).toBe("esx-01-nic1");
  });
});
