import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import { CONSENT_TTL_MS } from "../../emulator/simulation/offloads";
import { admin, monitorOf, startTestFleet, testImages, type Answer, type TestFleet } from "./helpers";

const OEM = "/redfish/v1/Oem/SmartFleet";
const osUri = (testImages() ?? []).find((i) => i.name === "esxi-arm" && i.version === "8.0.3")!.uri;
const OS_ITEM: Record<string, string> = { NV1: "DPU_OS", AMD1: "DPU_Image", IPU1: "IPU_OS" };
const SERIALS = ["NV1", "AMD1", "NV2", "IPU1"];

/** A pair of NV1 with AMD1 as secondary, of the given size. */
function pairBody(id: string, cores: number, memoryGiB: number, token?: string, secondary = "AMD1"): Record<string, unknown> {
  return { Id: id, ServiceType: "vsan-witness", Version: "8.0.3", Cores: cores, MemoryGiB: memoryGiB, Secondary: { Serial: secondary }, ...(token === undefined ? {} : { ConsentToken: token }) };
}

function refused(r: Answer): string {
  expect(r.status).toBe(403);
  expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/\.InsufficientPrivilege$/);
  return String(r.body.error.message);
}

describe("cross-DPU consent: a pair or share that involves another DPU needs that DPU's consent, given on its own port", () => {
  let f: TestFleet;
  const free = async (serial: string) => (await admin(f.emu, "GET", `/admin/v1/dpus/${serial}/state`)).body.freeCapacity;
  const state = async (serial: string) => (await admin(f.emu, "GET", `/admin/v1/dpus/${serial}/state`)).body.state;
  /** Asks `consenter`'s own port for a consent (with its own credentials). */
  async function consent(consenter: string, body: Record<string, unknown>): Promise<string> {
    const r = await f.call(consenter, "POST", `${OEM}/Consents`, body);
    expect(r.status, r.text).toBe(200);
    return String(r.body.Token);
  }
  const pairConsent = (id: string, cores: number, memoryGiB: number, requester = "NV1", type = "vsan-witness", consenter = "AMD1") =>
    consent(consenter, { Purpose: "ServicePairSecondary", Requester: { Serial: requester }, ResourceId: id, ServiceType: type, Cores: cores, MemoryGiB: memoryGiB });

  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of SERIALS) await f.claim(s);
    for (const s of ["NV1", "AMD1", "IPU1"]) {
      monitorOf(await f.call(s, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: osUri, Targets: [`/redfish/v1/UpdateService/FirmwareInventory/${OS_ITEM[s]}`] }));
    }
    await f.advance(DURATIONS_MS.dpuOsInstall);
  });
  afterAll(() => f.emu.stop());

  it("refuses a pair created with only the primary's credentials: 403, the secondary's capacity unchanged, nothing on either DPU", async () => {
    const before = await free("AMD1");
    expect(before).toEqual({ cores: 14, memoryGiB: 28 });
    const r = await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("grab", before.cores, before.memoryGiB));
    expect(refused(r)).toMatch(/consent/);
    expect(await free("AMD1")).toEqual(before);
    expect((await state("AMD1")).pairMemberships).toHaveLength(0);
    expect((await state("NV1")).servicePairs).toHaveLength(0);
    expect((await f.call("NV1", "GET", "/redfish/v1/TaskService/Tasks")).body.Members.length).toBe(1); // only the OS install
  });

  it("answers an unknown serial with the same short message as an unconsented one, never the fleet's serials", async () => {
    const known = refused(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("p", 1, 1, undefined, "AMD1")));
    const unknown = refused(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("p", 1, 1, undefined, "NOPE")));
    expect(unknown).toBe(known.replace("'AMD1'", "'NOPE'"));
    // A real token of another DPU does not make an unknown serial any more talkative.
    const token = await pairConsent("p", 1, 1);
    const withToken = refused(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("p", 1, 1, token, "NOPE")));
    expect(withToken).toBe(unknown);
    const share = refused(await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { Id: "s", Accelerator: "fpga0", Consumer: { Serial: "NOPE" } }));
    for (const message of [known, unknown, withToken, share]) {
      for (const other of ["NV2", "IPU1"]) expect(message).not.toContain(other);
      expect(message).not.toMatch(/allowed:/);
    }
  });

  it("refuses a consent for another service, size, Id or requester, a forged or tampered token, and consent from a DPU the pair does not name", async () => {
    const before = await free("AMD1");
    const post = (body: Record<string, unknown>) => f.call("NV1", "POST", `${OEM}/ServicePairs`, body);
    expect(refused(await post(pairBody("w", 2, 4, await pairConsent("w", 1, 4))))).toMatch(/another Cores/);
    expect(refused(await post(pairBody("w", 2, 4, await pairConsent("w", 2, 2))))).toMatch(/another MemoryGiB/);
    expect(refused(await post(pairBody("w", 2, 4, await pairConsent("w", 2, 4, "NV1", "firewall"))))).toMatch(/another ServiceType/);
    expect(refused(await post(pairBody("w", 2, 4, await pairConsent("other", 2, 4))))).toMatch(/another Id/);
    expect(refused(await post(pairBody("w", 2, 4, await pairConsent("w", 2, 4, "IPU1"))))).toMatch(/another requester/);
    const shareToken = await consent("AMD1", { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: "w", Accelerator: "fpga0" });
    expect(refused(await post(pairBody("w", 2, 4, shareToken)))).toMatch(/another purpose/);
    // IPU1 consents; the pair names AMD1: not AMD1's consent.
    const fromIpu = await pairConsent("w", 2, 4, "NV1", "vsan-witness", "IPU1");
    const generic = refused(await post(pairBody("w", 2, 4)));
    expect(refused(await post(pairBody("w", 2, 4, fromIpu)))).toBe(generic);
    // The token is verified, not looked up: change a bound field and the MAC no longer matches.
    const [version, payload, mac] = (await pairConsent("w", 1, 1)).split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const tampered = `${version}.${Buffer.from(JSON.stringify({ ...claims, cores: 2, mem: 4 })).toString("base64url")}.${mac}`;
    expect(refused(await post(pairBody("w", 2, 4, tampered)))).toBe(generic);
    expect(refused(await post(pairBody("w", 2, 4, "not-a-token")))).toBe(generic);
    expect(await free("AMD1")).toEqual(before);
    expect((await state("NV1")).servicePairs).toHaveLength(0);
  });

  it("refuses an expired consent (the DPU clock)", async () => {
    const before = await free("AMD1");
    const token = await pairConsent("late", 2, 4);
    await f.advance(CONSENT_TTL_MS + 1);
    expect(refused(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("late", 2, 4, token)))).toMatch(/expired/);
    expect(await free("AMD1")).toEqual(before);
  });

  it("creates the pair with a consent for exactly it, once: a replayed token is refused", async () => {
    const token = await pairConsent("witness", 2, 4);
    monitorOf(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("witness", 2, 4, token)));
    await f.advance(DURATIONS_MS.pairDeploy);
    expect((await f.call("NV1", "GET", `${OEM}/ServicePairs/witness`)).body).toMatchObject({ Secondary: { Serial: "AMD1" }, State: "Enabled", Protected: true });
    expect(await free("AMD1")).toEqual({ cores: 12, memoryGiB: 24 });
    expect((await f.call("NV1", "DELETE", `${OEM}/ServicePairs/witness`)).status).toBe(204);
    expect(await free("AMD1")).toEqual({ cores: 14, memoryGiB: 28 });
    expect(refused(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("witness", 2, 4, token)))).toMatch(/already used/);
    expect(await free("AMD1")).toEqual({ cores: 14, memoryGiB: 28 });
  });

  it("does not spend a consent on a request that fails for another reason", async () => {
    const token = await pairConsent("noname", 2, 4);
    const bad = await f.call("NV1", "POST", `${OEM}/ServicePairs`, { ...pairBody("noname", 2, 4, token), Config: { nope: true } });
    expect(bad.status).toBe(400);
    monitorOf(await f.call("NV1", "POST", `${OEM}/ServicePairs`, pairBody("noname", 2, 4, token)));
    expect((await f.call("NV1", "DELETE", `${OEM}/ServicePairs/noname`)).status).toBe(204);
  });

  it("checks on the consenting port what the consent commits it to", async () => {
    const tooBig = await f.call("AMD1", "POST", `${OEM}/Consents`, { Purpose: "ServicePairSecondary", Requester: { Serial: "NV1" }, ResourceId: "x", ServiceType: "firewall", Cores: 15, MemoryGiB: 1 });
    expect(tooBig.status).toBe(409);
    const noOs = await f.call("NV2", "POST", `${OEM}/Consents`, { Purpose: "ServicePairSecondary", Requester: { Serial: "NV1" }, ResourceId: "x", ServiceType: "firewall", Cores: 1, MemoryGiB: 1 });
    expect(noOs.status).toBe(409);
    const unknownField = await f.call("AMD1", "POST", `${OEM}/Consents`, { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: "x", Accelerator: "fpga0", Cores: 1 });
    expect(unknownField.status).toBe(400);
    const self = await f.call("AMD1", "POST", `${OEM}/Consents`, { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "AMD1" }, ResourceId: "x", Accelerator: "fpga0" });
    expect(self.status).toBe(409);
    const granted = await f.call("AMD1", "POST", `${OEM}/Consents`, { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: "x", Accelerator: "fpga0" });
    expect(granted.body).toMatchObject({ Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: "x", Accelerator: "fpga0" });
    expect(Date.parse(granted.body.Expires) - f.clock.now()).toBe(CONSENT_TTL_MS);
    expect((await f.call("AMD1", "GET", `${OEM}/Consents`)).status).toBe(405);
  });

  it("shares an accelerator only with the consumer's consent; without it the consumer's host sees nothing", async () => {
    const body = { Id: "fpga-share", Accelerator: "fpga0", Consumer: { Serial: "AMD1" } };
    refused(await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, body));
    const forOther = await consent("AMD1", { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: "fpga-share", Accelerator: "fpga1" });
    expect(refused(await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { ...body, ConsentToken: forOther }))).toMatch(/another Accelerator/);
    expect((await state("AMD1")).hostDevices).toHaveLength(0);
    const token = await consent("AMD1", { Purpose: "AcceleratorShareConsumer", Requester: { Serial: "NV1" }, ResourceId: "fpga-share", Accelerator: "fpga0" });
    const share = await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { ...body, ConsentToken: token });
    expect(share.status).toBe(201);
    expect((await state("AMD1")).hostDevices).toMatchObject([{ kind: "fpga", hostPciAddress: share.body.HostPciAddress }]);
    expect((await f.call("NV1", "DELETE", `${OEM}/AcceleratorShares/fpga-share`)).status).toBe(204);
    expect(refused(await f.call("NV1", "POST", `${OEM}/AcceleratorShares`, { ...body, ConsentToken: token }))).toMatch(/already used/);
    expect((await state("AMD1")).hostDevices).toHaveLength(0);
  });
});
