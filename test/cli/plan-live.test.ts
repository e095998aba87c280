import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readLive } from "../../cli/plan/live";
import { credentials, dump, MANAGED_PASSWORD, startClaimedFleet, target, type Fleet } from "../support/provider-harness";

/** `smartfleet plan`'s live read against the emulated fleet: one request per port, nothing written. */
describe("smartfleet plan: reading a port once", () => {
  let fleet: Fleet;
  beforeAll(async () => {
    fleet = await startClaimedFleet(["h1"]);
  });
  afterAll(async () => {
    await fleet?.stop();
  });

  it("reads a claimed DPU with one snapshot request: mode, privilege, NIC firmware, DPU OS, host OS", async () => {
    const t = target(fleet.inventory, "h1");
    const before = await dump(fleet, t.serial);
    const { live, requests } = await readLive([{ id: "h1/nic1", target: t, username: credentials(fleet.inventory, "h1").username, passwords: [MANAGED_PASSWORD] }], fleet.emulator.caPem);
    expect(requests).toEqual({ "h1/nic1": 1 });
    expect(live["h1/nic1"]).toMatchObject({ source: "port", mode: before.bios.mode, hostPrivilege: before.bios.hostPrivilege, firmware: before.firmware.nic, dpuOs: { image: "esxi-arm", version: "8.0.3" }, hostOs: null });
    const after = await dump(fleet, t.serial);
    expect({ ...after, sessions: [], generation: 0 }).toEqual({ ...before, sessions: [], generation: 0 });
  });

  it("falls back to the factory state for a DPU still on its factory password (its port shows nothing else)", async () => {
    const t = target(fleet.inventory, "h2");
    const nic = fleet.inventory.hosts.find((h) => h.name === "h2")?.smartnics[0];
    const factory = { username: nic?.factoryCredentials.username as string, password: nic?.factoryCredentials.password as string };
    const { live } = await readLive([{ id: "h2/nic1", target: t, username: factory.username, passwords: [MANAGED_PASSWORD, factory.password] }], fleet.emulator.caPem);
    expect(live["h2/nic1"]).toEqual({ source: "factory" });
  });

  it("names the DPU and URL of a port that does not answer", async () => {
    const t = { ...target(fleet.inventory, "h1"), address: "127.0.0.1", port: 1 };
    await expect(readLive([{ id: "h1/nic1", target: t, username: "root", passwords: [MANAGED_PASSWORD] }], fleet.emulator.caPem)).rejects.toThrow(/^h1\/nic1 \(.+\) at https:\/\/127\.0\.0\.1:1 is unreachable/);
  });
});
