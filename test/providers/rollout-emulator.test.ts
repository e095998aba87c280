import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HostRollout } from "../../model/rollout";
import { implementation as dpuOs, type DpuOsArgs, type DpuOsOutputs } from "../../providers/dpu-os";
import { implementation as dpuService } from "../../providers/dpu-service";
import { implementation as smartNic } from "../../providers/smart-nic";
import { setRolloutTimings, startNewRun } from "../../providers/rollout/run";
import { closeAllClients } from "../../providers/redfish";
import type { LoggedDisruption } from "../support/disruptions";
import { admin, credentials, dump, image, rolloutOf, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

const overlap = (a: LoggedDisruption, b: LoggedDisruption) => a.start < (b.end ?? Infinity) && b.start < (a.end ?? Infinity);

/** What the emulated fleet itself records: reboots, maintenance, outages, faults that fail a health gate. */
describe("rollout enforcement, scored by the emulator's disruption log", () => {
  let fleet: Fleet;
  const hosts = ["h1", "h2"];
  const version = new Map<string, string>();
  const outs = new Map<string, DpuOsOutputs>();
  const serial = (host: string) => target(fleet.inventory, host).serial;
  const args = (host: string, v: string, rollout?: HostRollout): DpuOsArgs => ({
    target: target(fleet.inventory, host),
    image: "esxi-arm",
    version: v,
    ...image(fleet.inventory, "esxi-arm", v),
    ntp: [],
    ...credentials(fleet.inventory, host),
    ...(rollout ? { rollout } : {}),
  });
  const flip = async (host: string, rollout: HostRollout) => {
    const next = version.get(host) === "8.0.3" ? "8.0.2" : "8.0.3";
    const result = await dpuOs.update(`${serial(host)}/os`, outs.get(host) as DpuOsOutputs, args(host, next, rollout));
    version.set(host, next);
    outs.set(host, result.outs as DpuOsOutputs);
  };
  const log = async (since: number) => (await admin<LoggedDisruption[]>(fleet, "GET", `/admin/v1/disruptions?since=${since}`)).filter((d) => d.start >= since);
  const group = (name: string, extra: Partial<HostRollout> = {}) => (host: string) =>
    rolloutOf(host, { group: name, groupSize: hosts.length, healthGate: { settleSeconds: 0, timeoutSeconds: 10 }, ...extra });

  beforeAll(async () => {
    fleet = await startFleet(
      (inventory) => {
        for (const h of inventory.hosts) (h as { workloads?: unknown }).workloads = { count: 5, evacuationSeconds: 120 };
      },
      { timeScale: 0.002 },
    );
    setRolloutTimings({ pollMs: 50, gatePollMs: 100 });
    await Promise.all(
      hosts.map(async (h) => {
        await smartNic.create(smartNicArgs(fleet.inventory, h));
        outs.set(h, (await dpuOs.create(args(h, "8.0.2"))).outs as DpuOsOutputs);
        version.set(h, "8.0.2");
      }),
    );
  });
  afterAll(() => fleet?.stop());

  it("budget 1: the log shows the two DPU reboots one after the other", async () => {
    const t0 = Date.now();
    const rollout = group("cluster:one", { budget: 1 });
    await Promise.all(hosts.map((h) => flip(h, rollout(h))));
    const reboots = (await log(t0)).filter((d) => d.kind === "dpu-reboot");
    expect(reboots.map((d) => d.host).sort()).toEqual(["h1", "h2"]);
    expect(overlap(reboots[0], reboots[1])).toBe(false);
  });

  it("redfish maintenance: each host is evacuated before its reboot and back after; no workload outage", async () => {
    const t0 = Date.now();
    const rollout = group("cluster:maint", { budget: 1, hostMaintenance: { mode: "redfish" } });
    await Promise.all(hosts.map((h) => flip(h, rollout(h))));
    const records = await log(t0);
    expect(records.filter((d) => d.kind === "workload-outage")).toEqual([]);
    for (const h of hosts) {
      const maintenance = records.find((d) => d.kind === "maintenance" && d.host === h);
      const reboot = records.find((d) => d.kind === "dpu-reboot" && d.host === h);
      expect(maintenance && reboot).toBeTruthy();
      expect(maintenance?.start).toBeLessThanOrEqual(reboot?.start ?? 0);
      expect(maintenance?.end).toBeGreaterThanOrEqual(reboot?.end ?? Infinity);
    }
    const state = (await dump(fleet, serial("h1"))) as unknown as { host: { maintenance: { state: string; workloadsRunning: number } } };
    expect(state.host.maintenance).toEqual({ state: "off", workloadsRunning: 5 });
  });

  it("services that fail after the reboot fail the gate and halt the group; fixing the fault and a new run completes", async () => {
    await dpuService.create({
      target: target(fleet.inventory, "h1"),
      name: "dfw",
      service: { type: "nsx-dfw", version: "4.2.1", cores: 1, memoryGiB: 2, config: {} },
      ...credentials(fleet.inventory, "h1"),
    });
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    const rollout = group("cluster:east", { budget: 1, hostMaintenance: { mode: "redfish" }, healthGate: { settleSeconds: 0, timeoutSeconds: 1 } });
    const [h1, h2] = await Promise.allSettled([flip("h1", rollout("h1")), new Promise((r) => setTimeout(r, 100)).then(() => flip("h2", rollout("h2")))]);
    expect(String((h1 as PromiseRejectedResult).reason)).toMatch(/h1: health gate failed after 1 s: service nic1\/dfw is Failed; no further host of cluster:east starts in this run/);
    expect(String((h2 as PromiseRejectedResult).reason)).toMatch(/h2: not started .*h1: health gate failed/);
    // The work finished, so h1 left maintenance; h2 was never touched.
    const state = (await dump(fleet, serial("h1"))) as unknown as { host: { maintenance: { state: string } } };
    expect(state.host.maintenance.state).toBe("off");
    version.set("h1", version.get("h1") === "8.0.3" ? "8.0.2" : "8.0.3");
    outs.set("h1", (await dpuOs.read(`${serial("h1")}/os`, outs.get("h1") as DpuOsOutputs)).props as DpuOsOutputs);
    await admin(fleet, "DELETE", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    startNewRun();
    await Promise.all(hosts.map((h) => flip(h, rollout(h))));
  });

  it("on a port with only DMTF's view (Oem/SmartFleet hidden) the gate reads OperatingSystem and Applications: a service failing after a DPU reboot still fails it", async () => {
    await admin(fleet, "PUT", "/admin/v1/oem-view", { hidden: true });
    // New clients: the ports' locations are found again, without the OEM tree.
    await closeAllClients();
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    try {
      startNewRun();
      // A host privilege flip: a DPU reboot through the standard Bios settings and reset.
      const rollout = group("cluster:standard", { budget: 1, healthGate: { settleSeconds: 0, timeoutSeconds: 1 } })("h1");
      const nic = smartNicArgs(fleet.inventory, "h1", "nic1", { hostPrivilege: "privileged", rollout });
      await expect(smartNic.update(serial("h1"), { ...nic, hostPrivilege: "restricted", claim: "already-claimed" } as never, nic)).rejects.toThrow(
        /h1: health gate failed after 1 s: service nic1\/dfw is Failed/,
      );
    } finally {
      await admin(fleet, "DELETE", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
      await admin(fleet, "PUT", "/admin/v1/oem-view", { hidden: false });
      await closeAllClients();
    }
  });
});
