import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, endpointUrl } from "../../providers/common/dpu";
import { orphanWorkOver } from "../../providers/rollout/orphans";
import { DEFAULT_TIMINGS, setRolloutTimings } from "../../providers/rollout/run";
import { acquireSlots } from "../../providers/rollout/slots";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";
import type { OrphanLease } from "../../providers/rollout/store";
import { implementation as dpuOs } from "../../providers/dpu-os";
import { implementation as smartNic } from "../../providers/smart-nic";
import { admin, credentials, image, MANAGED_PASSWORD, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

/**
 * A run that died mid-work leaves its leases as orphans; a waiter frees one only when the
 * orphan's DPU shows no task running. Against the emulated fleet at a time scale where a
 * DPU OS install takes about a second.
 */
describe("orphan leases: the work a dead run left running holds its slots until it ends", () => {
  let fleet: Fleet;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-orphans-"));

  beforeAll(async () => {
    // A DPU OS install (480 s on hardware) takes about a second.
    fleet = await startFleet(undefined, { timeScale: 0.002 });
    setRolloutTimings({ pollMs: 50, orphanCheckMs: 100 });
    await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
    await dpuOs.create({ target: target(fleet.inventory, "h1"), image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...credentials(fleet.inventory, "h1") });
  }, 60_000);
  afterAll(async () => {
    setRolloutTimings(DEFAULT_TIMINGS);
    await fleet?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const orphanOn = (host: string): OrphanLease => {
    const t = target(fleet.inventory, host);
    return { holder: "dead/h1/1", host, run: "dead", since: Date.now(), dpu: { url: endpointUrl(t), serial: t.serial, username: credentials(fleet.inventory, host).username, label: `${host}/nic1` } };
  };

  /** Starts a DPU OS install on h1 the way a run does (SimpleUpdate), and does not wait for it. */
  const startInstall = async () => {
    const connection = await connect(target(fleet.inventory, "h1"), credentials(fleet.inventory, "h1"));
    const { uri } = image(fleet.inventory, "esxi-arm", "8.0.2");
    await connection.client.post(connection.where.simpleUpdate?.target as string, { ImageURI: uri, Targets: [connection.where.firmware.os] });
  };

  it("a waiter keeps away while the dead run's install runs on its DPU and goes once the DPU shows no task running", async () => {
    const store = new SqliteLeaseStore(path.join(dir, "store.db"));
    const slot = { host: "h2", group: "g", groupSize: 2, budget: 1, canary: 0, pairs: [] };
    const orphan = orphanOn("h1");
    await store.acquire({ run: "dead", holder: orphan.holder, host: "h1", group: "g", groupSize: 2, canary: 0, slots: [{ scope: "group:g", limit: 1 }], ttlMs: 1, now: Date.now() - 1_000, dpu: orphan.dpu });
    await startInstall();
    const started = Date.now();
    expect(await orphanWorkOver(orphan, MANAGED_PASSWORD)).toBe(false);
    const lines: string[] = [];
    const held = await acquireSlots(store, slot, "installing", (l) => lines.push(l), undefined, (o) => orphanWorkOver(o, MANAGED_PASSWORD));
    const waited = Date.now() - started;
    const tasks = (await admin<{ tasks: Array<{ endTime: number | null }> }>(fleet, "GET", `/admin/v1/dpus/${target(fleet.inventory, "h1").serial}/state`)).tasks;
    expect(tasks.every((t) => t.endTime !== null)).toBe(true);
    expect(waited).toBeGreaterThan(300);
    expect(lines.join("\n")).toMatch(/h2: waiting for group:g \(1 of 1 held: h1; held by a run that is gone while its work may still run on h1\/nic1\)/);
    expect(lines.join("\n")).toMatch(/h1: the rollout slot of a run that is gone \(dead\) is free again: its work on h1\/nic1 is over/);
    await held.release();
    store.close();
  }, 60_000);

  it("a DPU that does not answer keeps the orphan's slots", async () => {
    const orphan = orphanOn("h1");
    await admin(fleet, "PATCH", `/admin/v1/dpus/${orphan.dpu.serial}/faults`, { portDown: true });
    try {
      expect(await orphanWorkOver(orphan, MANAGED_PASSWORD)).toBe(false);
    } finally {
      await admin(fleet, "DELETE", `/admin/v1/dpus/${orphan.dpu.serial}/faults`);
    }
    expect(await orphanWorkOver(orphan, MANAGED_PASSWORD)).toBe(true);
  });
});
