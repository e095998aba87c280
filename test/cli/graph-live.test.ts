import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { observeDpus, type ObservedTarget } from "../../cli/graph/live";
import { NEW_PASSWORD, startTestFleet, testInventory, type TestFleet } from "../emulator/helpers";

/**
 * `smartfleet graph --live` reads each DPU's port once through the providers' Redfish
 * client: against the emulated test fleet (a random address block, as the emulator tests
 * draw), claimed, unclaimed, with a wrong password and with nobody listening.
 */
let fleet: TestFleet;
let inventory: ReturnType<typeof testInventory>;
beforeAll(async () => {
  inventory = testInventory();
  fleet = await startTestFleet({ inventory });
  await fleet.claim("NV1");
  await fleet.claim("NV2");
});
afterAll(async () => {
  await fleet?.emu.stop();
});

/** A target for the DPU with `serial`, read with `passwords`. */
function target(serial: string, passwords: string[]): ObservedTarget {
  const host = inventory.hosts.find((h) => h.smartnics.some((n) => n.serial === serial));
  const nic = host?.smartnics.find((n) => n.serial === serial);
  if (!host || !nic) throw new Error(`no DPU ${serial}`);
  const url = new URL(fleet.url(serial));
  return {
    id: `${host.name}/${nic.name}`,
    target: { host: host.name, smartnic: nic.name, serial, address: url.hostname, port: Number(url.port) },
    username: nic.factoryCredentials.username,
    passwords,
  };
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("observeDpus", () => {
  it("reads a claimed DPU with one request: mode, privilege, power, no DPU OS, no services yet", async () => {
    const { observed, requests } = await observeDpus([target("NV1", [NEW_PASSWORD]), target("NV2", [NEW_PASSWORD])], fleet.emu.caPem);
    expect(observed["h1/nic1"]).toEqual({
      reachable: true,
      mode: "dpu",
      hostPrivilege: expect.stringMatching(/^(privileged|restricted)$/),
      powerState: "On",
      dpuOs: null,
      hostOs: null,
      services: {},
      devices: {},
      pairs: {},
      // Nothing running: the port's tasks come from the same snapshot (still one request).
      tasks: [],
    });
    // h3's DPU ships in NIC mode (testInventory's factoryState).
    expect(observed["h3/nic1"]).toMatchObject({ reachable: true, mode: "nic" });
    expect(requests).toEqual({ "h1/nic1": 1, "h3/nic1": 1 });
  });

  it("tries the next password after a refused one, and says why a DPU could not be read", async () => {
    const nowhere = { ...target("IPU1", ["x"]), id: "h9/nic1", target: { ...target("IPU1", ["x"]).target, address: "127.0.0.1", port: await closedPort() } };
    const { observed } = await observeDpus(
      [target("NV1", ["wrong-password", NEW_PASSWORD]), target("AMD1", ["N0tSecret"]), target("NV2", ["wrong-password"]), target("IPU1", []), nowhere],
      fleet.emu.caPem,
      { callTimeoutMs: 3_000 },
    );
    expect(observed["h1/nic1"]).toMatchObject({ reachable: true });
    expect(observed["h2/nic1"]).toEqual({ reachable: false, reason: "not claimed yet" });
    expect(observed["h3/nic1"]).toEqual({ reachable: false, reason: "password refused" });
    expect(observed["h4/nic1"]).toEqual({ reachable: false, reason: "no password to read it with" });
    expect(observed["h9/nic1"]).toEqual({ reachable: false, reason: "unreachable" });
  });
});
