import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { implementation as dpuOs, type DpuOsOutputs } from "../../providers/dpu-os";
import { implementation as dpuService, type DpuServiceArgs, type DpuServiceOutputs } from "../../providers/dpu-service";
import { implementation as host, type HostOutputs } from "../../providers/host";
import { implementation as hostDevice, type HostDeviceOutputs } from "../../providers/host-device";
import { implementation as smartNic, type SmartNicOutputs } from "../../providers/smart-nic";
import { connect } from "../../providers/common/dpu";
import { closeAllClients, duringReadPass, fromFreshSnapshot, fromRecentSnapshot, InstantClock, RedfishClient, RedfishError } from "../../providers/redfish";
import { RECENT_SNAPSHOT_MS, SNAPSHOT_TTL_MS } from "../../providers/redfish/snapshot";
import { admin, credentials, image, MANAGED_PASSWORD, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

/**
 * A refresh reads every resource of a DPU from one expanded read of its port
 * (`providers/redfish/snapshot.ts`): the "≤ 1 management request per DPU".
 */
describe("reading a port from one snapshot during a read pass", () => {
  let fleet: Fleet;
  let outputs: Array<{ read: (id: string, olds: never) => Promise<{ props?: unknown }>; id: string; olds: Record<string, unknown> }>;
  let dfw: DpuServiceOutputs;
  const serviceArgs = (version: string): DpuServiceArgs => ({
    target: target(fleet.inventory, "h1"),
    name: "dfw",
    service: { type: "nsx-dfw", version, cores: 2, memoryGiB: 4, config: {} },
    ...credentials(fleet.inventory, "h1"),
  });

  /** Management requests the emulator counted on h1's port since the last call. */
  async function requestsOnH1(): Promise<number> {
    const counters = await admin<Record<string, { requests: number }>>(fleet, "GET", "/admin/v1/counters");
    const t = target(fleet.inventory, "h1");
    await admin(fleet, "DELETE", "/admin/v1/counters");
    return counters[`${t.address}:${t.port}`]?.requests ?? 0;
  }

  beforeAll(async () => {
    fleet = await startFleet();
    const via = target(fleet.inventory, "h1");
    const creds = credentials(fleet.inventory, "h1");
    let nic = (await smartNic.create(smartNicArgs(fleet.inventory, "h1"))).outs as SmartNicOutputs;
    const os = (await dpuOs.create({ target: via, image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...creds })).outs as DpuOsOutputs;
    // The OS install changed the firmware versions the SmartNic reports.
    nic = (await smartNic.update("NV1", nic, smartNicArgs(fleet.inventory, "h1"))).outs as SmartNicOutputs;
    dfw = (await dpuService.create(serviceArgs("4.2.1"))).outs as DpuServiceOutputs;
    const vnic = (await hostDevice.create({ target: via, name: "vnic0", kind: "vnic", function: "vf", backingService: "dfw", ...creds })).outs as HostDeviceOutputs;
    const server = (await host.create({ name: "h1", serial: "H1", vendor: "dell", model: "PowerEdge R760", cpus: 64, memoryGiB: 512, via, ...creds })).outs as HostOutputs;
    outputs = [
      { read: smartNic.read as never, id: "NV1", olds: nic as never },
      { read: dpuOs.read as never, id: "NV1", olds: os as never },
      { read: dpuService.read as never, id: "dfw", olds: dfw as never },
      { read: hostDevice.read as never, id: "vnic0", olds: vnic as never },
      { read: host.read as never, id: "H1", olds: server as never },
    ];
  });
  afterAll(() => fleet?.stop());

  it("refreshes every resource of a DPU with one management request, and reads what the port has", async () => {
    await closeAllClients(); // a fresh provider process: no session, no cached locations
    await requestsOnH1();
    const read = await Promise.all(outputs.map((o) => o.read(o.id, o.olds as never)));
    expect(await requestsOnH1()).toBe(1);
    outputs.forEach((o, i) => expect(read[i].props).toEqual(o.olds));
  });

  it("drops the snapshot when this process changes the port, so the next read sees the change", async () => {
    await closeAllClients();
    await smartNic.read("NV1", outputs[0].olds as never);
    dfw = (await dpuService.update("dfw", dfw, serviceArgs("4.2.2"))).outs as DpuServiceOutputs;
    await requestsOnH1();
    const after = (await dpuService.read("dfw", { ...dfw, service: { ...dfw.service, version: "4.2.1" } })).props as DpuServiceOutputs;
    expect(after.service.version).toBe("4.2.2");
    expect(await requestsOnH1()).toBe(1);
  });

  it("locates a port's resources and checks its serial with one request before a change", async () => {
    await closeAllClients();
    await requestsOnH1();
    const connection = await connect(target(fleet.inventory, "h1"), credentials(fleet.inventory, "h1"));
    expect(connection.where.oem.services).toBe("/redfish/v1/Oem/SmartFleet/Services");
    expect(await requestsOnH1()).toBe(1);
  });

  it("never answers reads outside a read pass from a snapshot", async () => {
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD });
    await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield"));
    await requestsOnH1();
    await client.get("/redfish/v1/Systems/Bluefield");
    await client.get("/redfish/v1/Systems/Bluefield/Bios");
    expect(await requestsOnH1()).toBeGreaterThanOrEqual(2); // a login may come first
    await client.close();
  });

  it("takes a new snapshot once the old one is older than its time limit", async () => {
    const clock = new InstantClock(Date.now());
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD }, { clock });
    await requestsOnH1();
    await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield"));
    await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield/Bios"));
    expect(await requestsOnH1()).toBe(1);
    await clock.sleep(31_000);
    await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield/Bios"));
    expect(await requestsOnH1()).toBe(1);
    await client.close();
  });

  it("lets go of a snapshot when its time limit has passed, so a long run does not hold every port's", async () => {
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD });
    await requestsOnH1();
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield"));
      vi.advanceTimersByTime(SNAPSHOT_TTL_MS - 1_000);
      await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield/Bios"));
      expect(await requestsOnH1(), "still held").toBe(1);
      vi.advanceTimersByTime(1_000);
    } finally {
      vi.useRealTimers();
    }
    // The client's clock says the snapshot is 0 s old: only the release makes this read go to the port.
    await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield/Bios"));
    expect(await requestsOnH1(), "let go").toBe(1);
    await client.close();
  });

  it("lets go of a snapshot taken to locate a port as soon as only a refresh could still use it, which it may not", async () => {
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD });
    const bios = "/redfish/v1/Systems/Bluefield/Bios";
    await requestsOnH1();
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      await fromRecentSnapshot(() => client.get("/redfish/v1/Systems/Bluefield"), { take: true });
      vi.advanceTimersByTime(RECENT_SNAPSHOT_MS - 1_000);
      await fromRecentSnapshot(() => client.get(bios));
      expect(await requestsOnH1(), "still held").toBe(1);
      vi.advanceTimersByTime(1_000);
    } finally {
      vi.useRealTimers();
    }
    // By the clock the snapshot is under a second old: only the release sends this read to the port.
    await fromRecentSnapshot(() => client.get(bios));
    expect(await requestsOnH1(), "let go: a login and the GET itself").toBe(2);
    await client.close();
  });

  it("lets a change decide on a snapshot only when it was just taken, and never takes one for it", async () => {
    const clock = new InstantClock(Date.now());
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD }, { clock });
    const bios = "/redfish/v1/Systems/Bluefield/Bios";
    // The service root is read once per port between its clients (another test's may have).
    await client.serviceRoot();
    const start = client.requestCount;
    await fromRecentSnapshot(() => client.get(bios));
    expect(client.requestCount - start).toBe(2); // no snapshot taken: a login and the GET itself
    await duringReadPass(() => client.get(bios));
    const before = client.requestCount;
    await fromRecentSnapshot(() => client.get(bios));
    expect(client.requestCount).toBe(before);
    await clock.sleep(6_000);
    await fromRecentSnapshot(() => client.get(bios));
    expect(client.requestCount).toBe(before + 1);
    await client.close();
  });

  it("reads a port's open service root once between the clients of the port (the managed account's, a claim's factory login)", async () => {
    const open = () => RedfishClient.open({ url: fleet.emulator.endpoints.dpus[1].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD });
    const [managed, other] = [open(), open()];
    await managed.serviceRoot();
    expect(await other.serviceRoot()).toEqual(await managed.serviceRoot());
    expect(other.requestCount).toBe(0);
    await Promise.all([managed.close(), other.close()]);
  });

  it("answers a refresh only from snapshots taken for refreshes, and a fresh read only from its own", async () => {
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD }, { clock: new InstantClock(Date.now()) });
    const bios = "/redfish/v1/Systems/Bluefield/Bios";
    const count = async (fn: () => Promise<unknown>): Promise<number> => {
      const before = client.requestCount;
      await fn();
      return client.requestCount - before;
    };
    expect(await count(() => fromRecentSnapshot(() => client.get(bios), { take: true }))).toBe(1);
    expect(await count(() => duringReadPass(() => client.get(bios)))).toBe(1);
    expect(await count(() => duringReadPass(() => client.get(bios)))).toBe(0);
    expect(await count(() => fromFreshSnapshot(() => Promise.all([client.get(bios), client.get(`${bios}/Settings`)])))).toBe(1);
    expect(await count(() => fromRecentSnapshot(() => client.get(bios)))).toBe(0);
    await client.close();
  });

  it("keeps each fresh read's own snapshot while another fresh read of the same port runs (no retaking each other's)", async () => {
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: MANAGED_PASSWORD }, { clock: new InstantClock(Date.now()) });
    const bios = "/redfish/v1/Systems/Bluefield/Bios";
    let releaseA!: () => void;
    const afterB = new Promise<void>((resolve) => (releaseA = resolve));
    const before = client.requestCount;
    await Promise.all([
      fromFreshSnapshot(async () => {
        await client.get(bios);
        await afterB;
        await client.get(`${bios}/Settings`);
      }),
      fromFreshSnapshot(async () => {
        await client.get(bios);
        releaseA();
        await client.get(`${bios}/Settings`);
      }),
    ]);
    // One snapshot per read, taken when it began; before, each replaced the other's and every read took a new one.
    expect(client.requestCount - before).toBe(2);
    await client.close();
  });

  it("fails with the port's 401 when the password is wrong, naming the account and no secret", async () => {
    const client = RedfishClient.open({ url: fleet.emulator.endpoints.dpus[0].url, caPem: fleet.emulator.caPem, username: "root", password: "Wrong-Pa55word!" });
    const error = await duringReadPass(() => client.get("/redfish/v1/Systems/Bluefield")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedfishError);
    expect((error as RedfishError).status).toBe(401);
    expect(String(error)).toMatch(/reading the port as 'root' refused/);
    expect(String(error)).not.toContain("Wrong-Pa55word!");
    await client.close();
  });
});
