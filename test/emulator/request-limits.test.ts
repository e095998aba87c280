/**
 * Values a management port must refuse without harm: JSON nested far too deep, strings far
 * too long, oversized bodies and headers, odd methods and paths, old TLS. Each answers a
 * short Redfish error, and the port keeps answering.
 */
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NEW_PASSWORD, request, startTestFleet, type Answer, type TestFleet } from "./helpers";

/** `{"<outer>": ... {"<inner>": <depth-deep array>} }` as raw JSON text, built without recursion. */
function deepBody(path: string[], depth: number): string {
  const value = "[".repeat(depth) + "]".repeat(depth);
  return path.reduceRight((inner, key) => `{${JSON.stringify(key)}:${inner}}`, value);
}

function messageId(a: Answer): string {
  return String(a.body?.error?.["@Message.ExtendedInfo"]?.[0]?.MessageId ?? "");
}

/** A 400 whose whole answer is short (no echo of what was sent). */
function expectBounded400(a: Answer, ids: RegExp): void {
  expect(a.status).toBe(400);
  expect(messageId(a)).toMatch(ids);
  expect(a.text.length).toBeLessThan(1_500);
  expect(a.body.error.message.length).toBeLessThan(600);
}

const DEPTH = 400_000;
const MALFORMED = /^Base\.[\d.]+\.(MalformedJSON|PropertyValueFormatError)$/;

describe("request limits", () => {
  let f: TestFleet;
  const FACTORY: [string, string] = ["root", "0penBmc"];
  beforeAll(async () => {
    f = await startTestFleet();
    await f.claim("NV1");
  }, 30_000);
  afterAll(async () => f?.emu.stop());

  const stillAnswers = async (serial: string) => expect((await f.call(serial, "GET", "/redfish/v1/Systems")).status).toBe(200);

  it(`refuses a ${DEPTH.toLocaleString("en")}-deep JSON value in Password with a short 400, and the port still answers`, async () => {
    const a = await request(f.emu.caPem, `${f.url("NV2")}/redfish/v1/AccountService/Accounts/root`, { method: "PATCH", rawBody: deepBody(["Password"], DEPTH), auth: FACTORY });
    expectBounded400(a, MALFORMED);
    const login = await request(f.emu.caPem, `${f.url("NV2")}/redfish/v1/SessionService/Sessions`, { method: "POST", rawBody: deepBody(["Password"], DEPTH) });
    expectBounded400(login, MALFORMED);
    expect((await request(f.emu.caPem, `${f.url("NV2")}/redfish/v1/Systems`, { auth: FACTORY })).status).toBe(403); // factory account: still alive, still must change its password
  });

  it(`refuses a ${DEPTH.toLocaleString("en")}-deep JSON value in Attributes.NicMode with a short 400, and the port still answers`, async () => {
    const a = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Bluefield/Bios/Settings", { Attributes: { NicMode: "DpuMode" } });
    expect(a.status).toBe(200); // the route and credentials are right
    const deep = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Systems/Bluefield/Bios/Settings`, { method: "PATCH", rawBody: deepBody(["Attributes", "NicMode"], DEPTH), auth: ["root", NEW_PASSWORD] });
    expectBounded400(deep, MALFORMED);
    await stillAnswers("NV1");
  });

  it(`refuses a ${DEPTH.toLocaleString("en")}-deep JSON value in a service Name with a short 400, and the port still answers`, async () => {
    const body = deepBody(["Name"], DEPTH).replace(/^\{/, `{"ServiceType":"firewall","Version":"1.0","Cores":1,"MemoryGiB":1,`);
    const a = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Oem/SmartFleet/Services`, { method: "POST", rawBody: body, auth: ["root", NEW_PASSWORD] });
    expectBounded400(a, MALFORMED);
    await stillAnswers("NV1");
  });

  it("accepts JSON nested 32 deep and refuses 33 deep", async () => {
    const at = (depth: number) =>
      request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Oem/SmartFleet/Services`, {
        method: "POST",
        // The body object is level 1, Config level 2, the array fills the rest.
        rawBody: `{"ServiceType":"firewall","Version":"1.0","Cores":1,"MemoryGiB":1,"Config":{"x":${"[".repeat(depth - 2)}${"]".repeat(depth - 2)}}}`,
        auth: ["root", NEW_PASSWORD],
      });
    const ok = await at(32);
    expect(messageId(ok)).not.toMatch(/MalformedJSON/); // refused for what it says, not for its shape
    const deep = await at(33);
    expect(messageId(deep)).toMatch(/MalformedJSON/);
    expect(deep.body.error.message).toMatch(/deeper than 32/);
    // Brackets inside strings are text, not nesting.
    const quoted = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Bluefield/Bios/Settings", { Attributes: { NicMode: "[".repeat(100) } });
    expect(messageId(quoted)).toMatch(/PropertyValueNotInList/);
  });

  it("does not echo a very long string value in full", async () => {
    const long = "x".repeat(200_000);
    const mode = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Bluefield/Bios/Settings", { Attributes: { NicMode: long } });
    expectBounded400(mode, /PropertyValueNotInList/);
    expect(mode.text).not.toContain("x".repeat(65));
    const id = await f.call("NV1", "POST", "/redfish/v1/Oem/SmartFleet/Services", { Id: long, ServiceType: "firewall", Version: "1.0", Cores: 1, MemoryGiB: 1 });
    expectBounded400(id, /PropertyValueFormatError/);
    expect(id.text).not.toContain("x".repeat(65));
    const kind = await f.call("NV1", "POST", "/redfish/v1/Oem/SmartFleet/Services", { ServiceType: long });
    expectBounded400(kind, /PropertyValueNotInList/);
    expect(kind.text).not.toContain("x".repeat(65));
    const typed = await f.call("NV1", "POST", "/redfish/v1/Oem/SmartFleet/Services", { ServiceType: "firewall", Version: "1.0", Cores: Array.from({ length: 50_000 }, () => 1), MemoryGiB: 1 });
    expectBounded400(typed, /PropertyValueTypeError/);
    await stillAnswers("NV1");
  });

  it("keeps answering after malformed JSON whose parser message quotes the body", async () => {
    const a = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/Oem/SmartFleet/Services`, { method: "POST", rawBody: `{"Name": ${"y".repeat(100_000)}`, auth: ["root", NEW_PASSWORD] });
    expectBounded400(a, /MalformedJSON/);
    expect(a.text).not.toContain("y".repeat(65));
  });

  // What held before the limits above, kept under test.

  it("refuses a body over 1 MiB (413) and headers over Node's limit (431)", async () => {
    const big = await f.call("NV1", "PATCH", "/redfish/v1/Systems/Bluefield/Bios/Settings", { Attributes: { NicMode: "z".repeat(1_100_000) } });
    expect(big.status).toBe(413);
    const longUrl = await request(f.emu.caPem, `${f.url("NV1")}/redfish/v1/${"a".repeat(20_000)}`);
    expect(longUrl.status).toBe(431);
    await stillAnswers("NV1");
  });

  it("answers traversal and odd methods with 404 and 501, and $expand abuse with 400", async () => {
    expect((await f.call("NV1", "GET", "/redfish/v1/../../etc/passwd")).status).toBe(404);
    expect((await f.call("NV1", "GET", "/redfish/v1/%2e%2e/%2e%2e/etc/passwd")).status).toBe(404);
    expect((await f.call("NV1", "BREW", "/redfish/v1")).status).toBe(501);
    expect((await f.call("NV1", "TRACE", "/redfish/v1")).status).toBe(405);
    expect((await f.call("NV1", "GET", "/redfish/v1?$expand=*($levels=99)")).status).toBe(400);
    expect((await f.call("NV1", "GET", `/redfish/v1?$expand=${"*".repeat(5_000)}`)).status).toBe(400);
    await stillAnswers("NV1");
  });

  it("refuses TLS below 1.2", async () => {
    const u = new URL(f.url("NV1"));
    const outcome = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: u.hostname, port: Number(u.port), ca: f.emu.caPem, minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" }, () => {
        s.destroy();
        resolve("connected");
      });
      s.on("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    expect(outcome).not.toBe("connected");
    await stillAnswers("NV1");
  });
});
