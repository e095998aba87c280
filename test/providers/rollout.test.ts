import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { HostRollout } from "../../model/rollout";
import { implementation as dpuOs, type DpuOsArgs, type DpuOsOutputs } from "../../providers/dpu-os";
import { implementation as dpuService } from "../../providers/dpu-service";
import { implementation as servicePair } from "../../providers/service-pair";
import { implementation as smartNic } from "../../providers/smart-nic";
import { setRolloutTimings, startNewRun, storeFor } from "../../providers/rollout/run";
import { pairsOn, switchPair } from "../../providers/rollout/pairs";
import { connect } from "../../providers/common/dpu";
import { admin, credentials, dump, image, rolloutOf, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

/** An OS install as the emulator ran it: clock ms. */
interface Interval {
  serial: string;
  start: number;
  end: number;
}

const overlap = (a: Interval, b: Interval) => a.start < b.end && b.start < a.end;

/** How long a healthy read stands in for a baseline in these tests. */
const BASELINE_REUSE_MS = 300;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rollout enforcement during up (DpuOs upgrades against the emulated fleet)", () => {
  let fleet: Fleet;
  const hosts = ["h1", "h2", "h4"];
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
  const other = (v: string | undefined) => (v === "8.0.3" ? "8.0.2" : "8.0.3");
  /** Upgrades (or downgrades) `host` to the other image version under `rollout`. */
  const flip = async (host: string, rollout: HostRollout) => {
    const next = other(version.get(host));
    const result = await dpuOs.update(`${serial(host)}/os`, outs.get(host) as DpuOsOutputs, args(host, next, rollout));
    version.set(host, next);
    outs.set(host, result.outs as DpuOsOutputs);
  };
  /** OS installs the emulator ran on `host` since `t0`. */
  const installs = async (host: string, t0: number): Promise<Interval[]> => {
    const state = await admin<{ tasks: Array<{ kind: { type: string; target?: string }; startTime: number; endTime: number | null }> }>(fleet, "GET", `/admin/v1/dpus/${serial(host)}/state`);
    return state.tasks
      .filter((t) => t.kind.type === "firmware-update" && t.kind.target === "os" && t.startTime >= t0)
      .map((t) => ({ serial: serial(host), start: t.startTime, end: t.endTime ?? Number.POSITIVE_INFINITY }));
  };
  const group = (name: string, extra: Partial<HostRollout> = {}) => (host: string) =>
    rolloutOf(host, { group: name, groupSize: hosts.length, healthGate: { settleSeconds: 0, timeoutSeconds: 10 }, ...extra });

  beforeAll(async () => {
    // 480 s installs take about 1 s.
    fleet = await startFleet(undefined, { timeScale: 0.002 });
    setRolloutTimings({ pollMs: 50, gatePollMs: 100, baselineReuseMs: BASELINE_REUSE_MS });
    await Promise.all(
      hosts.map(async (h) => {
        await smartNic.create(smartNicArgs(fleet.inventory, h));
        const created = await dpuOs.create(args(h, "8.0.2"));
        version.set(h, "8.0.2");
        outs.set(h, created.outs as DpuOsOutputs);
      }),
    );
  });
  afterAll(() => fleet?.stop());

  it("budget 1: two hosts of one group started together upgrade one after the other", async () => {
    const t0 = Date.now();
    const rollout = group("cluster:one", { budget: 1 });
    await Promise.all(["h1", "h2"].map((h) => flip(h, rollout(h))));
    const [a, b] = [...(await installs("h1", t0)), ...(await installs("h2", t0))];
    expect(a && b).toBeTruthy();
    expect(overlap(a, b)).toBe(false);
  });

  it("budget 2: they upgrade together", async () => {
    const t0 = Date.now();
    const rollout = group("cluster:two", { budget: 2 });
    await Promise.all(["h1", "h2"].map((h) => flip(h, rollout(h))));
    const [a, b] = [...(await installs("h1", t0)), ...(await installs("h2", t0))];
    expect(overlap(a, b)).toBe(true);
  });

  it("a service pair with a side on each host: never both at once even with budget 2; the active side switches over and back", async () => {
    await servicePair.create({
      name: "p1",
      service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4, config: {} },
      primary: target(fleet.inventory, "h1"),
      secondary: target(fleet.inventory, "h2"),
      ...credentials(fleet.inventory, "h1"),
      peerUsername: credentials(fleet.inventory, "h2").username,
    });
    const logged = vi.spyOn(console, "error");
    try {
      const t0 = Date.now();
      const rollout = group("cluster:pair", { budget: 2, pairs: ["p1"] });
      await Promise.all(["h1", "h2"].map((h) => flip(h, rollout(h))));
      const [a, b] = [...(await installs("h1", t0)), ...(await installs("h2", t0))];
      expect(overlap(a, b)).toBe(false);
      const lines = logged.mock.calls.map((c) => String(c[0]));
      expect(lines.some((l) => /pair p1: switching over to its secondary before h1\/nic1/.test(l))).toBe(true);
      expect(lines.some((l) => /pair p1: switching over to its primary now that host h1 passed/.test(l))).toBe(true);
    } finally {
      logged.mockRestore();
    }
    expect((await dump(fleet, serial("h1"))).servicePairs).toMatchObject([{ id: "p1", activeSide: "primary" }]);
  });

  it("canary: the first host of the group goes alone and the rest start once it passed its gate, then together", async () => {
    const t0 = Date.now();
    const rollout = group("cluster:canary", { budget: 3, canary: 1 });
    await Promise.all(hosts.map((h) => flip(h, rollout(h))));
    const all = (await Promise.all(hosts.map((h) => installs(h, t0)))).flat().sort((x, y) => x.start - y.start);
    expect(all).toHaveLength(3);
    const [first, ...rest] = all;
    for (const later of rest) expect(later.start).toBeGreaterThanOrEqual(first.end);
    expect(overlap(rest[0], rest[1])).toBe(true);
  });

  it("halt: a failed health gate fails the host naming what is unhealthy; the next host of the group is refused at once; a new run goes on", async () => {
    await dpuService.create({
      target: target(fleet.inventory, "h1"),
      name: "dfw",
      service: { type: "nsx-dfw", version: "4.2.1", cores: 1, memoryGiB: 2, config: {} },
      ...credentials(fleet.inventory, "h1"),
    });
    // The reboot breaks the service (a service already broken before would not hold the gate).
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    const rollout = group("cluster:halt", { budget: 1, healthGate: { settleSeconds: 0, timeoutSeconds: 1 } });
    await expect(flip("h1", rollout("h1"))).rejects.toThrow(
      /h1: health gate failed after 1 s: service nic1\/dfw is Failed; no further host of cluster:halt starts in this run/,
    );
    // The install itself happened: the provider's next read shows the new version.
    version.set("h1", other(version.get("h1")));
    outs.set("h1", (await dpuOs.read(`${serial("h1")}/os`, outs.get("h1") as DpuOsOutputs)).props as DpuOsOutputs);
    const t0 = Date.now();
    await expect(flip("h2", rollout("h2"))).rejects.toThrow(/h2: not started .*: h1: health gate failed after 1 s: service nic1\/dfw is Failed/);
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await installs("h2", t0)).toHaveLength(0);
    // Fixing the fault and running up again completes.
    await admin(fleet, "DELETE", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    startNewRun();
    await flip("h2", rollout("h2"));
    await flip("h1", rollout("h1"));
  });

  it("a service already broken before the disruption does not hold the gate: the disruption must break nothing new", async () => {
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/drift`, { kind: "changeService", id: "dfw", state: "Failed" });
    // Past the time the last healthy read of h1 stands in for its baseline.
    await sleep(BASELINE_REUSE_MS);
    await flip("h1", group("cluster:baseline", { budget: 1, healthGate: { settleSeconds: 0, timeoutSeconds: 1 } })("h1"));
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/drift`, { kind: "changeService", id: "dfw", state: "Enabled" });
  });

  it("a DPU read healthy a moment ago is not read again for the next baseline; a service that failed since then holds the gate", async () => {
    const rollout = group("cluster:reuse", { budget: 1, healthGate: { settleSeconds: 0, timeoutSeconds: 1 } });
    setRolloutTimings({ baselineReuseMs: 60_000 });
    try {
      await flip("h1", rollout("h1"));
      // Nothing this process sent changed h1 since its gate read it healthy: that read is its baseline.
      await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/drift`, { kind: "changeService", id: "dfw", state: "Failed" });
      await expect(flip("h1", rollout("h1"))).rejects.toThrow(/h1: health gate failed .*service nic1\/dfw is Failed/);
    } finally {
      setRolloutTimings({ baselineReuseMs: BASELINE_REUSE_MS });
      await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/drift`, { kind: "changeService", id: "dfw", state: "Enabled" });
    }
    // A read older than the window is not reused: the same failure is then the baseline's and does not hold the gate.
    version.set("h1", other(version.get("h1")));
    outs.set("h1", (await dpuOs.read(`${serial("h1")}/os`, outs.get("h1") as DpuOsOutputs)).props as DpuOsOutputs);
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/drift`, { kind: "changeService", id: "dfw", state: "Failed" });
    await sleep(BASELINE_REUSE_MS);
    await flip("h1", group("cluster:reuse-expired", { budget: 1, healthGate: { settleSeconds: 0, timeoutSeconds: 1 } })("h1"));
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/drift`, { kind: "changeService", id: "dfw", state: "Enabled" });
  });

  it("onFailure continue: a failed gate fails only that host", async () => {
    await admin(fleet, "POST", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    const rollout = group("cluster:continue", { budget: 1, onFailure: "continue", healthGate: { settleSeconds: 0, timeoutSeconds: 1 } });
    const [h1, h2] = await Promise.allSettled(["h1", "h2"].map((h) => flip(h, rollout(h))));
    expect(h1.status).toBe("rejected");
    expect(String((h1 as PromiseRejectedResult).reason)).not.toMatch(/no further host/);
    expect(h2.status).toBe("fulfilled");
    await admin(fleet, "DELETE", `/admin/v1/dpus/${serial("h1")}/faults/services-fail-after-reboot`);
    version.set("h1", other(version.get("h1")));
    outs.set("h1", (await dpuOs.read(`${serial("h1")}/os`, outs.get("h1") as DpuOsOutputs)).props as DpuOsOutputs);
  });

  it("a pair whose other side is not claimed yet (it refuses the management password, as in a bring-up) does not stop the disruption, which frees its slots", async () => {
    // h3 still has its factory password: the stack's management password is refused there.
    const side = (host: string) => ({ target: target(fleet.inventory, host), username: credentials(fleet.inventory, host).username });
    const rollout = group("cluster:bringup", { budget: 1, pairs: ["px"], pairSides: [{ pair: "px", primary: side("h3"), secondary: side("h1") }] })("h1");
    const logged = vi.spyOn(console, "error");
    try {
      await flip("h1", rollout);
      expect(logged.mock.calls.map((c) => String(c[0])).join("\n")).toMatch(/h1: h3\/nic1 \(NV2\) refuses the management password \(not claimed yet\)/);
    } finally {
      logged.mockRestore();
    }
    expect(await storeFor("test").liveRuns(Date.now())).toEqual([]);
  });

  it("a peer port that does not answer fails the host before anything is disrupted and frees its slots", async () => {
    const t0 = Date.now();
    const side = (host: string) => ({ target: target(fleet.inventory, host), username: credentials(fleet.inventory, host).username });
    const rollout = group("cluster:peerdown", { budget: 1, onFailure: "continue", pairs: ["py"], pairSides: [{ pair: "py", primary: side("h2"), secondary: side("h1") }] })("h1");
    await admin(fleet, "PATCH", `/admin/v1/dpus/${serial("h2")}/faults`, { portDown: true });
    try {
      await expect(flip("h1", rollout)).rejects.toThrow(/dropped the connection|refused|ECONNRESET|socket/);
    } finally {
      await admin(fleet, "DELETE", `/admin/v1/dpus/${serial("h2")}/faults`);
    }
    expect(await installs("h1", t0)).toHaveLength(0);
    expect(await storeFor("test").liveRuns(Date.now())).toEqual([]);
    await flip("h1", rollout);
  });

  it("a lease of a dead holder blocks the slot until it expires, then the waiter starts", async () => {
    const store = storeFor("test");
    const now = Date.now();
    await store.acquire({ run: "dead-run", holder: "dead-run/h9/x", host: "h9", group: "cluster:stale", groupSize: 2, canary: 0, slots: [{ scope: "group:cluster:stale", limit: 1 }], ttlMs: 800, now });
    await flip("h1", group("cluster:stale", { budget: 1 })("h1"));
    const [install] = await installs("h1", now);
    expect(install.start).toBeGreaterThanOrEqual(now + 800);
  });

  describe("host maintenance by command", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-maint-"));
    const logFile = path.join(dir, "maintenance.log");
    const script = path.join(dir, "maintenance.sh");
    fs.writeFileSync(script, `echo "$1 $SMARTFLEET_HOST $SMARTFLEET_SERIAL" >> ${logFile}\n`);
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const withCommands = (enter: string) => group("cluster:maint", { budget: 1, hostMaintenance: { mode: "command", enter, exit: `sh ${script} exit` } });
    const lines = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, "utf8").trim().split("\n") : []);

    it("runs enter before and exit after the disruption with the host's name and serial", async () => {
      fs.rmSync(logFile, { force: true });
      await flip("h1", withCommands(`sh ${script} enter`)("h1"));
      expect(lines()).toEqual(["enter h1 H1", "exit h1 H1"]);
    });

    it("a failing enter fails the host with the command's stderr, disrupts nothing and frees the slot", async () => {
      const t0 = Date.now();
      await expect(flip("h2", withCommands("echo 'vcenter: host has running VMs' >&2; exit 3")("h2"))).rejects.toThrow(
        /host h2: the maintenance enter command .* exited 3: vcenter: host has running VMs/,
      );
      expect(await installs("h2", t0)).toHaveLength(0);
      startNewRun();
      fs.rmSync(logFile, { force: true });
      await flip("h1", withCommands(`sh ${script} enter`)("h1"));
      expect(lines()).toEqual(["enter h1 H1", "exit h1 H1"]);
    });

    it("an enter command ended by a signal leaves the host counted (it may be on its way in): the group's next host is refused in this run; the next run asks enter again", async () => {
      const t0 = Date.now();
      startNewRun();
      await expect(flip("h2", { ...withCommands("kill -TERM $$")("h2"), onFailure: "continue" })).rejects.toThrow(
        /host h2: the maintenance enter command .* was killed \(SIGTERM\).*; host h2 may be on its way into maintenance: it counts against cluster:maint's budget until a run takes it out/,
      );
      expect(await installs("h2", t0)).toHaveLength(0);
      expect((await storeFor("test").maintenance()).map((m) => [m.host, m.note])).toEqual([["h2", "entering maintenance failed"]]);
      // Nothing in this run takes h2 out: its group's next host is refused rather than left waiting.
      await expect(flip("h1", { ...withCommands(`sh ${script} enter`)("h1"), onFailure: "continue" })).rejects.toThrow(/h2 failed in this run and is left in maintenance, using cluster:maint's budget of 1/);
      startNewRun();
      fs.rmSync(logFile, { force: true });
      await flip("h2", withCommands(`sh ${script} enter`)("h2"));
      await flip("h1", withCommands(`sh ${script} enter`)("h1"));
      expect(lines()).toEqual(["enter h2 H2", "exit h2 H2", "enter h1 H1", "exit h1 H1"]);
      expect(await storeFor("test").maintenance()).toEqual([]);
    });

    it("a host an interrupted run left in maintenance is reported, and its next disruption continues from there", async () => {
      const since = Date.now() - 60_000;
      await storeFor("test").markMaintenance("h2", { run: "killed-run", since, note: "" });
      startNewRun();
      fs.rmSync(logFile, { force: true });
      const logged = vi.spyOn(console, "error");
      try {
        await flip("h2", withCommands(`sh ${script} enter`)("h2"));
        const text = logged.mock.calls.map((c) => String(c[0])).join("\n");
        expect(text).toContain(`host h2 is in maintenance since ${new Date(since).toISOString()}, left there by an interrupted or failed run`);
      } finally {
        logged.mockRestore();
      }
      expect(lines()).toEqual(["exit h2 H2"]);
      expect(await storeFor("test").maintenance()).toEqual([]);
    });

    it("a host a killed run left in maintenance after its install ended, its pair on the secondary: with nothing left to install, the next run switches the pair back and takes the host out through the gate", async () => {
      // As the killed run left them: h1 in maintenance, pair p1 (primary h1) switched over to h2.
      await storeFor("test").markMaintenance("h1", { run: "killed-run", since: Date.now() - 1_000, note: "", group: "cluster:maint" });
      const [p1] = await pairsOn([await connect(target(fleet.inventory, "h1"), credentials(fleet.inventory, "h1"))], ["p1"]);
      await switchPair(p1, "secondary", "as a killed run left it");
      startNewRun();
      fs.rmSync(logFile, { force: true });
      const t0 = Date.now();
      const side = (host: string) => ({ target: target(fleet.inventory, host), username: credentials(fleet.inventory, host).username });
      const rollout = { ...withCommands(`sh ${script} enter`)("h1"), pairs: ["p1"], pairSides: [{ pair: "p1", primary: side("h1"), secondary: side("h2") }] };
      const same = await dpuOs.update(`${serial("h1")}/os`, outs.get("h1") as DpuOsOutputs, args("h1", version.get("h1") as string, rollout));
      outs.set("h1", same.outs as DpuOsOutputs);
      expect(await installs("h1", t0)).toHaveLength(0);
      expect(lines()).toEqual(["exit h1 H1"]);
      expect(await storeFor("test").maintenance()).toEqual([]);
      expect((await dump(fleet, serial("h1"))).servicePairs).toMatchObject([{ id: "p1", activeSide: "primary" }]);
    });

    it("a SmartNic whose reboot a killed run finished takes the host that run left in maintenance out, without rebooting again", async () => {
      await storeFor("test").markMaintenance("h2", { run: "killed-run", since: Date.now() - 1_000, note: "", group: "cluster:maint" });
      startNewRun();
      fs.rmSync(logFile, { force: true });
      const t0 = Date.now();
      const rollout = withCommands(`sh ${script} enter`)("h2");
      const nic = smartNicArgs(fleet.inventory, "h2", "nic1", { rollout });
      await smartNic.update(serial("h2"), { ...nic, claim: "already-claimed" } as never, nic);
      expect(lines()).toEqual(["exit h2 H2"]);
      expect(await storeFor("test").maintenance()).toEqual([]);
      const reboots = (await admin<{ tasks: Array<{ kind: { type: string }; startTime: number }> }>(fleet, "GET", `/admin/v1/dpus/${serial("h2")}/state`)).tasks.filter((t) => t.startTime >= t0);
      expect(reboots).toEqual([]);
    });
  });
});
