import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as path from "node:path";
import { duringReadPass, InstantClock, RedfishClient, acceptsTransferProtocol, locate, readDpu } from "../../providers/redfish";
import { makePki, redfishError, startScriptedServer, type Handler, type ScriptedServer } from "../support/redfish-ports";

/**
 * The client against a real BlueField-3 BMC: the DMTF Mockup Creator capture served
 * read-only over HTTPS, quirks included. It keeps navigation and inventory honest
 * about hardware the emulator did not write.
 */

// The resources this file reads, vendored from the reference bundle (scripts/vendor-redfish.js).
const MOCKUPS = path.resolve(__dirname, "../fixtures/redfish-mockups");
const CAPTURE = path.join(MOCKUPS, "bluefield3-bmc-capture");
const DMTF_SMARTNIC = path.join(MOCKUPS, "public-smartnic");
const OPEN_PATHS = new Set(["/redfish", "/redfish/v1", "/redfish/v1/odata", "/redfish/v1/$metadata"]);

let capture: ScriptedServer;
let dmtf: ScriptedServer;
let caPem: string;

/**
 * Serves a mockup's index.json files for GET (`toFile` maps a URI to its folder);
 * sessions work; nothing can be changed.
 */
function mockupHandlers(root: string, toFile: (uri: string) => string): Handler[] {
  return [
    (req) => {
      if (req.method === "POST" && req.url === "/redfish/v1/SessionService/Sessions") {
        return { status: 201, headers: { "X-Auth-Token": "capture-token", Location: "/redfish/v1/SessionService/Sessions/cap1" }, body: {} };
      }
      if (req.method === "DELETE" && req.url === "/redfish/v1/SessionService/Sessions/cap1") return { status: 204 };
      if (req.method !== "GET") return { status: 405, body: redfishError("Base.1.18.OperationNotAllowed", "The capture is read-only.") };
      // Like many real BMCs, the file server ignores query parameters such as $expand.
      const uri = decodeURIComponent(req.url.split("?")[0]).replace(/\/+$/, "");
      if (!OPEN_PATHS.has(uri) && req.headers["x-auth-token"] !== "capture-token") {
        return { status: 401, body: redfishError("Base.1.18.NoValidSession", "No valid session.") };
      }
      const file = path.join(root, toFile(uri), "index.json");
      if (!file.startsWith(root) || !fs.existsSync(file)) return undefined;
      return { status: 200, body: JSON.parse(fs.readFileSync(file, "utf8")) };
    },
  ];
}

beforeAll(async () => {
  const pki = await makePki();
  caPem = pki.caPem;
  [capture, dmtf] = await Promise.all([
    startScriptedServer(pki, mockupHandlers(CAPTURE, (uri) => uri)),
    // DMTF's mockup folders start below /redfish/v1.
    startScriptedServer(pki, mockupHandlers(DMTF_SMARTNIC, (uri) => uri.replace(/^\/redfish\/v1/, ""))),
  ]);
});

afterAll(async () => {
  await Promise.all([capture?.close(), dmtf?.close()]);
});

function open(server: ScriptedServer = capture): RedfishClient {
  return RedfishClient.open({ url: server.url, caPem, username: "root", password: "capture-password" }, { clock: new InstantClock() });
}

describe("a real BlueField-3 BMC (captured)", () => {
  it("has the capture available", () => {
    expect(fs.existsSync(path.join(CAPTURE, "redfish/v1/index.json"))).toBe(true);
  });

  it("locates the DPU system, BMC, Bios, card and firmware by following links", async () => {
    const client = open();
    const where = await locate(client);
    expect(where).toMatchObject({
      // The real BMC types its Arm system "Physical" and exposes no host: found through the card chassis.
      dpuSystem: "/redfish/v1/Systems/Bluefield",
      hostSystem: undefined,
      dpuReset: "/redfish/v1/Systems/Bluefield/Actions/ComputerSystem.Reset",
      manager: "/redfish/v1/Managers/Bluefield_BMC",
      cardChassis: "/redfish/v1/Chassis/Card1",
      bios: "/redfish/v1/Systems/Bluefield/Bios",
      biosSettings: "/redfish/v1/Systems/Bluefield/Bios/Settings",
      nvidiaOem: "/redfish/v1/Systems/Bluefield/Oem/Nvidia",
      updateService: "/redfish/v1/UpdateService",
      firmware: {
        os: "/redfish/v1/UpdateService/FirmwareInventory/DPU_OS",
        nic: "/redfish/v1/UpdateService/FirmwareInventory/DPU_NIC",
        bmc: "/redfish/v1/UpdateService/FirmwareInventory/BMC_Firmware",
      },
      sessions: "/redfish/v1/SessionService/Sessions",
      accountService: "/redfish/v1/AccountService",
      // No virtual media and no SmartFleet OEM collections on this BMC: absent, not an error.
      virtualMedia: undefined,
      oem: { dpuOs: undefined, services: undefined, hostDevices: undefined, servicePairs: undefined, acceleratorShares: undefined },
    });
    await client.close();
  });

  it("reads SimpleUpdate's nested AllowableValues as SCP only", async () => {
    const client = open();
    const where = await locate(client);
    expect(where.simpleUpdate).toEqual({ target: "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", transferProtocols: ["SCP"] });
    expect(acceptsTransferProtocol(where.simpleUpdate, "scp")).toBe(true);
    expect(acceptsTransferProtocol(where.simpleUpdate, "HTTP")).toBe(false);
    await client.close();
  });

  it("reads the DPU's facts: trimmed serial, card model, unknown mode, firmware versions", async () => {
    const client = open();
    const facts = await readDpu(client);
    expect(facts).toEqual({
      serial: "MT2313XZ0L2P",
      model: "Bluefield 3 SmartNIC Main Card",
      manufacturer: "Nvidia",
      mode: null, // Bios has no NicMode and Oem/Nvidia Mode is ""
      pendingMode: null,
      hostPrivilege: null,
      pendingHostPrivilege: null,
      firmware: { os: "ion:", nic: "32.36.3062", bmc: "BF-23.10-5" },
      dpuPowerState: "On",
      hostPowerState: null,
      hostOs: null,
    });
    await client.close();
  });

  it("walks the port once per client and reads facts again with a handful of requests", async () => {
    const client = open();
    await readDpu(client);
    const afterFirst = client.requestCount;
    await readDpu(client);
    const second = client.requestCount - afterFirst;
    // system, Bios, Bios settings, 3 firmware items (no $expand here), card chassis, Oem/Nvidia
    expect(second).toBe(8);
    await client.close();
  });

  it("in a read pass, sees that the BMC ignores $expand, says so once and reads resource by resource", async () => {
    const lines: string[] = [];
    const client = RedfishClient.open({ url: capture.url, caPem, username: "root", password: "capture-password" }, { clock: new InstantClock(), log: (l) => lines.push(l) });
    const live = await readDpu(open());
    expect(await duringReadPass(() => readDpu(client))).toEqual(live);
    expect(await duringReadPass(() => readDpu(client))).toEqual(live);
    expect(lines.filter((l) => /ignored \$expand; reading resources one by one/.test(l))).toHaveLength(1);
    await client.close();
  });
});

describe("DMTF's public SmartNIC mockup (a different vendor's identity)", () => {
  it("tells the DPU system from the host by SystemType and finds the virtual CD under the manager", async () => {
    const client = open(dmtf);
    const where = await locate(client);
    expect(where).toMatchObject({
      dpuSystem: "/redfish/v1/Systems/Card1-SoC",
      hostSystem: "/redfish/v1/Systems/437XR1138R2",
      dpuReset: "/redfish/v1/Systems/Card1-SoC/Actions/ComputerSystem.Reset",
      hostReset: "/redfish/v1/Systems/437XR1138R2/Actions/ComputerSystem.Reset",
      manager: "/redfish/v1/Managers/BMC",
      virtualMedia: "/redfish/v1/Managers/BMC/VirtualMedia/CD1",
      updateService: undefined,
      firmware: {},
    });
    await client.close();
  });

  it("reads the DPU's facts from the system itself and the host's power state", async () => {
    const client = open(dmtf);
    expect(await readDpu(client)).toMatchObject({
      serial: "637XR7568R4",
      model: "9900",
      manufacturer: "Contoso",
      mode: null,
      firmware: { os: null, nic: null, bmc: null },
      hostPowerState: "On",
    });
    await client.close();
  });
});
