import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { startEmulator, type FleetInventory } from "../../emulator";
import {
  ConnectionError,
  InstantClock,
  RedfishClient,
  RedfishError,
  TaskFailedError,
  acceptsTransferProtocol,
  claimAccount,
  clientFor,
  closeAllClients,
  fromPrivilege,
  locate,
  readDpu,
  taskReference,
} from "../../providers/redfish";

/**
 * The client against the emulated fleet: one DPU of each vendor (each with its own
 * Redfish identity), claimed and read purely by following links.
 */

const MANAGED = "Managed-Passw0rd!";
// A port range of its own per worker process, so concurrent test files do not collide.
const BASE_PORT = 20_000 + (process.pid % 2_000) * 10;
const OS_IMAGE = "http://images.lab/doca-2.9.0.bfb";

const dpus = [
  { host: "h-nv", serial: "MT2334X00001", vendor: "nvidia", model: "bluefield-3", address: "127.0.1.11", expectModel: "BlueField-3 DPU" },
  { host: "h-amd", serial: "PEN-00001", vendor: "amd", model: "pensando-dsc2", address: "127.0.1.12", expectModel: "Pensando DSC2-200" },
  { host: "h-int", serial: "IPU-00001", vendor: "intel", model: "ipu-e2000", address: "127.0.1.13", expectModel: "IPU E2000" },
] as const;

const inventory = {
  apiVersion: "smartfleet.dev/v1",
  kind: "Fleet",
  metadata: { name: "client-test" },
  images: [
    { name: "doca", version: "2.9.0", uri: OS_IMAGE, sha256: createHash("sha256").update(`smartfleet image ${OS_IMAGE}\n`).digest("hex") },
  ],
  hosts: dpus.map((d, i) => ({
    name: d.host,
    serial: `HOST-${i}`,
    vendor: "dell",
    model: "PowerEdge R760",
    cpus: 64,
    memoryGiB: 512,
    smartnics: [
      {
        name: "nic1",
        serial: d.serial,
        slot: 1,
        vendor: d.vendor,
        model: d.model,
        armCores: 16,
        memoryGiB: 32,
        management: { address: d.address, port: BASE_PORT + i },
        factoryCredentials: { username: "root", password: "0penBmc" },
      },
    ],
  })),
} as unknown as FleetInventory;

let emulator: Awaited<ReturnType<typeof startEmulator>>;
let stateDir: string;

beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-redfish-client-"));
  emulator = await startEmulator({ inventory, stateDir, timeScale: 0 });
});

afterAll(async () => {
  await closeAllClients();
  await emulator?.stop();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

function endpointOf(serial: string): { url: string; caPem: string; username: string } {
  const ep = emulator.endpoints.dpus.find((d) => d.serial === serial);
  if (!ep) throw new Error(`no endpoint for ${serial}`);
  return { url: ep.url, caPem: emulator.caPem, username: ep.factoryUsername };
}

function managed(serial: string): RedfishClient {
  return clientFor({ ...endpointOf(serial), password: MANAGED });
}

describe.each(dpus)("an emulated $vendor DPU", (dpu) => {
  it("is claimed: the factory password is rotated once, then it is already claimed", async () => {
    // The client of the new password goes on in the session the factory login opened: the
    // port lifts its restriction once the password changed, so no second login is needed.
    const lines: string[] = [];
    const client = RedfishClient.open({ ...endpointOf(dpu.serial), password: MANAGED }, { log: (l) => lines.push(l) });
    await expect(claimAccount(endpointOf(dpu.serial), "0penBmc", MANAGED, {}, client)).resolves.toBe("rotated");
    const sessions = await client.getCollection<{ UserName: string }>("/redfish/v1/SessionService/Sessions");
    expect(sessions.map((s) => s.body.UserName)).toEqual([endpointOf(dpu.serial).username]);
    expect(lines).toEqual([]);
    await client.close();
    await expect(claimAccount(endpointOf(dpu.serial), "0penBmc", MANAGED)).resolves.toBe("already-claimed");
  });

  it("is located by links: DPU and host systems, Bios settings, CD, SimpleUpdate, firmware, OEM collections", async () => {
    const where = await locate(managed(dpu.serial));
    expect(where.hostSystem).toMatch(/\/Systems\/Host$/);
    expect(where.dpuSystem).not.toBe(where.hostSystem);
    expect(where.biosSettings).toBeDefined();
    expect(where.insertMedia).toBeDefined();
    expect(where.hostReset).toBeDefined();
    expect(acceptsTransferProtocol(where.simpleUpdate, "HTTP")).toBe(true);
    expect(Object.values(where.firmware).filter(Boolean)).toHaveLength(3);
    expect(new Set(Object.values(where.firmware)).size).toBe(3);
    expect(Object.values(where.oem).every((uri) => typeof uri === "string")).toBe(true);
  });

  it("is read: serial, model, factory mode and privilege, firmware versions, host power", async () => {
    const facts = await readDpu(managed(dpu.serial));
    expect(facts).toMatchObject({
      serial: dpu.serial,
      model: dpu.expectModel,
      mode: "dpu",
      pendingMode: null,
      hostPrivilege: "privileged",
      pendingHostPrivilege: null,
    });
    expect(facts.firmware.os).toEqual(expect.any(String));
    expect(facts.firmware.nic).toEqual(expect.any(String));
    expect(facts.firmware.bmc).toEqual(expect.any(String));
    expect(facts.hostPowerState).toEqual(expect.any(String));
  });
});

describe("changing an emulated DPU", () => {
  const serial = dpus[0].serial;

  it("refreshes a DPU with four requests once its port has been walked", async () => {
    const client = managed(serial);
    await readDpu(client);
    const before = client.requestCount;
    await readDpu(client);
    // systems (expanded), Bios, Bios settings, firmware inventory (expanded)
    expect(client.requestCount - before).toBe(4);
  });

  it("shows a Bios change as pending until the DPU reboots", async () => {
    const client = managed(serial);
    const where = await locate(client);
    await client.patch(where.biosSettings as string, { Attributes: { HostPrivilegeLevel: fromPrivilege("restricted") } });
    expect(await readDpu(client)).toMatchObject({ hostPrivilege: "privileged", pendingHostPrivilege: "restricted" });
  });

  it("fails if the ETag is stale: 412 with Base PreconditionFailed", async () => {
    const client = managed(serial);
    const where = await locate(client);
    const err = (await client.patch(where.biosSettings as string, { Attributes: { HostPrivilegeLevel: "Privileged" } }, '"stale"').catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(412);
    expect(err.is("PreconditionFailed")).toBe(true);
    expect(err.endpoint).toBe(endpointOf(serial).url);
  });

  it("installs a DPU OS through SimpleUpdate and follows the task to Completed", async () => {
    const client = managed(serial);
    const where = await locate(client);
    const started = await client.post(where.simpleUpdate?.target as string, { ImageURI: OS_IMAGE, Targets: [where.firmware.os] });
    const ref = taskReference(started);
    expect(ref?.uri).toMatch(/\/TaskService\//);
    const task = await client.waitForTask(ref?.uri as string);
    expect(task.state).toBe("Completed");
    expect((await readDpu(client)).firmware.os).toContain("2.9.0");
  });

  it("fails if the image is not offered: the task ends Exception with the port's message", async () => {
    const client = managed(serial);
    const where = await locate(client);
    const started = await client.post(where.simpleUpdate?.target as string, { ImageURI: "http://images.lab/missing.bfb", Targets: [where.firmware.os] });
    const err = (await client.waitForTask(taskReference(started)?.uri as string).catch((e: unknown) => e)) as TaskFailedError;
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err.task.state).toBe("Exception");
    expect(err.message).toContain("missing.bfb");
  });

  it("fails if the managed password is wrong, naming the port and not the password", async () => {
    const wrong = clientFor({ ...endpointOf(dpus[1].serial), password: "Not-The-Password-1" });
    const err = (await wrong.login().catch((e: unknown) => e)) as RedfishError;
    expect(err).toBeInstanceOf(RedfishError);
    expect(err.status).toBe(401);
    expect(err.message).toContain(endpointOf(dpus[1].serial).url);
    expect(err.message).not.toContain("Not-The-Password-1");
  });
});

describe("an emulated port misbehaving", () => {
  const serial = dpus[2].serial;

  async function setFaults(faults: Record<string, unknown> | null): Promise<void> {
    const res = await fetch(`${emulator.adminUrl}/admin/v1/dpus/${serial}/faults`, {
      method: faults ? "PATCH" : "DELETE",
      headers: { Authorization: `Bearer ${emulator.adminToken}`, "Content-Type": "application/json" },
      body: faults ? JSON.stringify(faults) : undefined,
    });
    expect(res.ok).toBe(true);
  }

  function freshClient(retries?: number): { client: RedfishClient; clock: InstantClock } {
    const clock = new InstantClock();
    return { client: RedfishClient.open({ ...endpointOf(serial), password: MANAGED }, { clock, retries }), clock };
  }

  it("waits out a port that answers 503 to most requests, honouring its Retry-After", async () => {
    await setFaults({ errorRate: 0.6 });
    const { client, clock } = freshClient(20);
    try {
      for (let i = 0; i < 5; i++) expect((await readDpu(client)).serial).toBe(serial);
      expect(clock.sleeps.length).toBeGreaterThan(0);
      expect(clock.sleeps.every((ms) => ms >= 1000)).toBe(true);
    } finally {
      await setFaults(null);
      await client.close();
    }
  });

  it("fails if the port is down, with a ConnectionError naming the port", async () => {
    await setFaults({ portDown: true });
    const { client } = freshClient(2);
    try {
      const err = (await client.login().catch((e: unknown) => e)) as ConnectionError;
      expect(err).toBeInstanceOf(ConnectionError);
      // Dropped before TLS: a wire failure worth retrying, not a certificate problem.
      expect(err.failure).toBe("reset");
      expect(client.requestCount).toBe(3);
      expect(err.endpoint).toBe(endpointOf(serial).url);
      expect(err.message).toContain(endpointOf(serial).url);
    } finally {
      await setFaults(null);
      await client.close();
    }
  });
});
