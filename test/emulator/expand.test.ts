import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandResource, parseExpand } from "../../emulator/redfish/expand";
import { request, startTestFleet, type TestFleet } from "./helpers";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every URI inlined in an answer (objects with more than their `@odata.id`). */
function inlined(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => inlined(v, found));
  else if (value && typeof value === "object") {
    const id = (value as Body)["@odata.id"];
    if (typeof id === "string" && Object.keys(value).length > 1) found.push(id.replace(/\/+$/, ""));
    for (const [k, v] of Object.entries(value)) if (k !== "@odata.id") inlined(v, found);
  }
  return found;
}

describe("$expand (DSP0266 query parameters)", () => {
  let f: TestFleet;
  beforeAll(async () => {
    f = await startTestFleet();
    await f.claim("NV1");
    await f.claim("AMD1");
  });
  afterAll(() => f.emu.stop());

  it("advertises ., ~ and * with levels up to 6", async () => {
    const root = (await f.call("NV1", "GET", "/redfish/v1")).body;
    expect(root.ProtocolFeaturesSupported.ExpandQuery).toEqual({ ExpandAll: true, Levels: true, MaxLevels: 6, Links: true, NoLinks: true });
  });

  it("expands subordinate hyperlinks level by level with ., leaving Links and annotations alone", async () => {
    const one = (await f.call("NV1", "GET", "/redfish/v1/Systems?$expand=.($levels=1)")).body;
    expect(one.Members.map((m: Body) => m.Id)).toEqual(["Bluefield", "Host"]);
    expect(Object.keys(one.Members[0].Bios)).toEqual(["@odata.id"]);
    const two = (await f.call("NV1", "GET", "/redfish/v1/Systems?$expand=.($levels=2)")).body;
    const dpu = two.Members[0];
    expect(dpu.Bios.Attributes.HostPrivilegeLevel).toMatch(/Privileged|Restricted/);
    expect(dpu.Bios["@odata.etag"]).toMatch(/^W?\/?"/);
    expect(Object.keys(dpu.Links.Chassis[0])).toEqual(["@odata.id"]);
  });

  it("expands only Links with ~", async () => {
    const dpu = (await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield?$expand=~")).body;
    expect(dpu.Links.Chassis[0].ChassisType).toBe("Card");
    expect(Object.keys(dpu.Bios)).toEqual(["@odata.id"]);
  });

  it("expands everything with *, the pending Bios settings included, each resource once and without looping", async () => {
    const root = (await f.call("NV1", "GET", "/redfish/v1?$expand=*($levels=4)")).body;
    const uris = inlined(root);
    expect(new Set(uris).size).toBe(uris.length);
    expect(uris).toEqual(expect.arrayContaining(["/redfish/v1/Systems/Bluefield/Bios/Settings", "/redfish/v1/Oem/SmartFleet/DpuOs", "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS"]));
    const bios = root.Systems.Members.find((m: Body) => m.Id === "Bluefield").Bios;
    expect(bios["@Redfish.Settings"].SettingsObject.Attributes).toBeDefined();
  });

  it("fails if $levels is out of range (400 QueryParameterOutOfRange) or the form is unknown (400)", async () => {
    const deep = await f.call("NV1", "GET", "/redfish/v1?$expand=.($levels=7)");
    expect(deep.status).toBe(400);
    expect(deep.body.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/QueryParameterOutOfRange$/);
    expect((await f.call("NV1", "GET", "/redfish/v1?$expand=Systems")).status).toBe(400);
  });

  it("inlines nothing an anonymous caller or a factory account may not read", async () => {
    const anonymous = (await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1?$expand=*($levels=2)`)).body;
    expect(inlined(anonymous)).toEqual(["/redfish/v1"]);
    const factory = await request(f.emu.caPem, `${f.url("IPU1")}/redfish/v1?$expand=*($levels=3)`, { auth: ["admin", "1ntelIpu"] });
    expect(factory.status).toBe(200);
    expect(Object.keys(factory.body.Systems)).toEqual(["@odata.id"]);
  });

  it("fails if the credentials sent with an expanded service root are wrong (401)", async () => {
    const wrong = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1?$expand=*`, { auth: ["root", "wrong-password"] });
    expect(wrong.status).toBe(401);
  });
});

describe("expandResource", () => {
  const resources: Record<string, Body> = {
    "/a": { "@odata.id": "/a", Name: "a", Child: { "@odata.id": "/b" }, Links: { Peer: { "@odata.id": "/c" } } },
    "/b": { "@odata.id": "/b", Name: "b", Back: { "@odata.id": "/a" }, Deeper: { "@odata.id": "/c" } },
    "/c": { "@odata.id": "/c", Name: "c", "@Redfish.Settings": { SettingsObject: { "@odata.id": "/d" } } },
    "/d": { "@odata.id": "/d", Name: "d" },
  };
  const read = (uri: string): Body | undefined => resources[uri];

  it("stops at the requested level and never expands a resource twice (cycles end)", () => {
    const out = expandResource(resources["/a"], { which: "*", levels: 6 }, read);
    expect(inlined(out).sort()).toEqual(["/a", "/b", "/c", "/d"]);
    expect(out.Child.Back).toEqual({ "@odata.id": "/a" });
    const shallow = expandResource(resources["/a"], { which: ".", levels: 1 }, read);
    expect(inlined(shallow).sort()).toEqual(["/a", "/b"]);
    expect(resources["/a"].Child).toEqual({ "@odata.id": "/b" });
  });

  it("changes neither the resource nor what read answers (they may be the port's own state)", () => {
    const frozen = (value: unknown): unknown => {
      if (value && typeof value === "object") Object.values(value).forEach(frozen);
      return Object.freeze(value);
    };
    const before = JSON.stringify(resources);
    Object.values(resources).forEach(frozen);
    const out = expandResource(resources["/a"], { which: "*", levels: 6 }, read);
    expect(JSON.stringify(resources)).toBe(before);
    expect(out.Links.Peer["@Redfish.Settings"].SettingsObject.Name).toBe("d");
    expect(out.Child).not.toBe(resources["/b"]);
    // A property left undefined in the state is not there, as JSON would carry it: still a reference.
    const sparse = expandResource({ "@odata.id": "/x", Ref: { "@odata.id": "/d", Note: undefined } }, { which: ".", levels: 1 }, read);
    expect(sparse.Ref).toEqual({ "@odata.id": "/d", Name: "d" });
  });

  it("parses ., ~ and * with and without $levels", () => {
    expect(parseExpand(".")).toEqual({ which: ".", levels: 1 });
    expect(parseExpand("*($levels=3)")).toEqual({ which: "*", levels: 3 });
    expect(() => parseExpand("~($levels=0)")).toThrow(/between 1 and 6/);
  });
});
