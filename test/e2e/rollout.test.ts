import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admin, fleetState, labStack, spawnEmulator, type EmulatorProcess } from "./lab";
import { HOST_UNAVAILABLE_KINDS, peakDisruptedHosts, type LoggedDisruption } from "../support/disruptions";
import {
  clearLog,
  disruptionLog,
  kindsOf,
  makeRolloutFleet,
  pairsBothDown,
  peakPerCluster,
  processTree,
  pulumiRun,
  smartfleetRun,
  spawnUp,
  unconverged,
  waitFor,
  worstCluster,
  type CliResult,
  type RolloutFleet,
  type RolloutPolicy,
} from "./rollout-fleet";
import { alive } from "../support/processes";

/**
 * Emulated durations 200x faster than hardware: a DPU OS install (480 s) takes 2.4 s, a
 * host's evacuation (60 s) 0.3 s, so a rollout of 16 hosts takes seconds but every
 * interval of the disruption log is long against the providers' polling.
 */
const TIME_SCALE = 0.005;
const STACK = "rollout";
const PARALLEL = ["--parallel", "64"];
/** Hosts per cluster, clusters. */
const CLUSTER_HOSTS = 4;
const CLUSTERS = 4;
/** The two DPU OS versions the inventory offers (with the checksums the emulator's image server serves). */
const V1 = "8.0.2";
const V2 = "8.0.3";

/**
 * Bring-up: a fleet that is not in service yet (the test clears the log after it and
 * scores only what follows) gets every DPU claimed and installed at once: the whole fleet
 * one group, every host of it at a time, no settle wait. Under the production rollout the
 * bring-up alone would take four hosts' installs in a row per cluster, for nothing to protect.
 */
const BRING_UP: RolloutPolicy = { maxUnavailable: "100%", groupBy: "fleet", hostMaintenance: { mode: "none" }, healthGate: { settleSeconds: 0, timeoutSeconds: 60 } };
/** The production rollout: one host at a time per cluster, evacuated first over Redfish. */
const BUDGETED: RolloutPolicy = { maxUnavailable: 1, groupBy: "cluster", hostMaintenance: { mode: "redfish" }, healthGate: { settleSeconds: 0, timeoutSeconds: 60 } };
/** No budget: every host at once (pairs still one side at a time), no maintenance. */
const UNBUDGETED: RolloutPolicy = { maxUnavailable: "100%", groupBy: "fleet", hostMaintenance: { mode: "none" }, healthGate: { settleSeconds: 0, timeoutSeconds: 60 } };

/**
 * A fleet of 4 clusters of 4 hosts (one DPU each, 3 workloads per host), witness pairs
 * within each cluster (hosts 1-2, 3-4 of it) and across clusters (the last host of each
 * cluster with the first of the next, in a ring), under the real `pulumi up` and the
 * emulated fleet in a process of its own. Every figure comes from the fleet's disruption
 * log and state dumps, never from Pulumi's output.
 */
describe("rolling a fleet-wide DPU OS change over 4 clusters × 4 hosts with service pairs", () => {
  let fleet: RolloutFleet;
  let emulator: EmulatorProcess;
  const figures: string[] = [];

  const up = async (): Promise<CliResult & { ms: number }> => {
    const t0 = Date.now();
    const result = await pulumiRun(fleet, ["up", "--yes", "--skip-preview", ...PARALLEL, "--stack", STACK]);
    return { ...result, ms: Date.now() - t0 };
  };
  const expectUp = async (what: string): Promise<number> => {
    const result = await up();
    expect(result.code, `${what}:\n${result.stdout.slice(-6000)}\n${result.stderr.slice(-3000)}`).toBe(0);
    return result.ms;
  };
  const previewChanges = async (): Promise<string[]> => {
    const result = await pulumiRun(fleet, ["preview", "--json", ...PARALLEL, "--stack", STACK]);
    expect(result.code, result.stderr).toBe(0);
    const summary = (JSON.parse(result.stdout) as { changeSummary: Record<string, number> }).changeSummary;
    return Object.keys(summary).filter((k) => k !== "same");
  };
  const outages = (log: readonly LoggedDisruption[]) => log.filter((d) => d.kind === "workload-outage");
  const hostsOfCluster = (cluster: string) => fleet.hosts.filter((h) => fleet.clusterOf.get(h) === cluster);

  beforeAll(async () => {
    const hosts = CLUSTERS * CLUSTER_HOSTS;
    fleet = await makeRolloutFleet(209, {
      name: STACK,
      dpus: hosts,
      nicsPerHost: 1,
      vendors: ["nvidia"],
      fpgaEvery: 0,
      clusterHosts: CLUSTER_HOSTS,
      services: { dfw: { type: "nsx-dfw", version: "4.2.1", cores: 2, memoryGiB: 4 } },
      devices: { vnic0: { kind: "vnic", function: "vf", backing: { service: "dfw" } } },
      // Within each cluster: hosts 0-1 and 2-3 of it.
      pairEvery: 2,
      // Across clusters: the last host of each with the first of the next (a ring).
      pairsBetween: Array.from({ length: CLUSTERS }, (_, c) => [c * CLUSTER_HOSTS + CLUSTER_HOSTS - 1, ((c + 1) % CLUSTERS) * CLUSTER_HOSTS] as const),
      workloads: { count: 3, evacuationSeconds: 60 },
      allowHostPowerCycle: true,
    });
    emulator = await spawnEmulator(fleet, TIME_SCALE);
    await labStack(fleet, STACK, emulator.endpointsFile);
  }, 120_000);

  afterAll(async () => {
    await emulator?.kill("SIGKILL");
    fleet?.cleanup();
    if (figures.length) console.log(`rollout figures:\n  ${figures.join("\n  ")}`);
  });

  it("brings the fleet up: every DPU claimed, on its OS, services and pairs protected", async () => {
    expect(new Set(fleet.clusterOf.values()).size).toBe(CLUSTERS);
    expect(fleet.pairs.filter((p) => fleet.clusterOf.get(p.primaryHost) !== fleet.clusterOf.get(p.secondaryHost))).toHaveLength(CLUSTERS);
    fleet.writeStack(V1, BRING_UP);
    const ms = await expectUp("bring-up");
    expect(await unconverged(fleet, emulator, V1)).toEqual([]);
    figures.push(`bring-up: ${fleet.hosts.length} hosts, ${fleet.pairs.length} pairs, ${(ms / 1000).toFixed(1)} s`);
  }, 180_000);

  it("budget 1 per cluster with Redfish maintenance: never two hosts of a cluster at once, no workload outage, never both sides of a pair; without a budget several hosts of a cluster go at once and workloads go down", async () => {
    await clearLog(emulator);
    fleet.writeStack(V2, BUDGETED);
    const budgetedMs = await expectUp("budgeted upgrade");
    const budgeted = await disruptionLog(emulator);
    const budgetedPeaks = peakPerCluster(fleet, budgeted);
    const budgetedReboots = budgeted.filter((d) => d.kind === "dpu-reboot");
    figures.push(
      `budgeted (maxUnavailable 1, cluster, redfish): ${(budgetedMs / 1000).toFixed(1)} s; max hosts down per cluster ${JSON.stringify(budgetedPeaks)}; ` +
        `workload outages ${outages(budgeted).length}; pairs both down ${pairsBothDown(fleet, budgeted).length}; log ${JSON.stringify(kindsOf(budgeted))}`,
    );
    // Every host was rebooted, once, inside its maintenance.
    expect(new Set(budgetedReboots.map((d) => d.host)).size).toBe(fleet.hosts.length);
    for (const host of fleet.hosts) {
      const reboot = budgetedReboots.find((d) => d.host === host) as LoggedDisruption;
      const maintenance = budgeted.filter((d) => d.kind === "maintenance" && d.host === host);
      expect(maintenance.some((m) => m.start <= reboot.start && (m.end ?? Infinity) >= (reboot.end ?? Infinity)), `${host}: reboot inside maintenance`).toBe(true);
    }
    expect(Object.keys(budgetedPeaks).sort()).toEqual([...new Set(fleet.clusterOf.values())].sort());
    for (const [cluster, max] of Object.entries(budgetedPeaks)) expect(max, `${cluster}: hosts unavailable at once`).toBe(1);
    expect(outages(budgeted)).toEqual([]);
    expect(pairsBothDown(fleet, budgeted)).toEqual([]);
    expect(await unconverged(fleet, emulator, V2)).toEqual([]);

    // The same change back with no budget: the contrast the budget makes.
    await clearLog(emulator);
    fleet.writeStack(V1, UNBUDGETED);
    const freeMs = await expectUp("unbudgeted change back");
    const free = await disruptionLog(emulator);
    const freePeaks = peakPerCluster(fleet, free);
    figures.push(
      `no budget (100%, fleet, no maintenance): ${(freeMs / 1000).toFixed(1)} s; max hosts down per cluster ${JSON.stringify(freePeaks)}; ` +
        `workload outages ${outages(free).length} (hosts ${new Set(outages(free).map((d) => d.host)).size}); pairs both down ${pairsBothDown(fleet, free).length}; log ${JSON.stringify(kindsOf(free))}`,
    );
    expect(worstCluster(freePeaks), "without a budget, several hosts of a cluster at once").toBeGreaterThan(1);
    expect(outages(free).length, "without maintenance, workloads go down with their hosts").toBeGreaterThan(0);
    // The pair slots hold whatever the budget: one side at a time.
    expect(pairsBothDown(fleet, free)).toEqual([]);
    expect(await unconverged(fleet, emulator, V1)).toEqual([]);
  }, 240_000);

  it("canary 1: a canary whose services fail after its reboot fails up naming it and what failed; no other host of its group is touched; fixed, the next up completes", async () => {
    const group = "cluster:c2";
    const members = hostsOfCluster(group);
    expect(members).toHaveLength(CLUSTER_HOSTS);
    // Whichever host of the group takes the slot first is the canary: the fault is armed on all of them.
    for (const host of members) await admin(emulator, "POST", `/admin/v1/dpus/${fleet.serialOf.get(host)}/faults/services-fail-after-reboot`);
    await clearLog(emulator);
    // Without the canary every host of the group could go at once (100%).
    fleet.writeStack(V2, { ...BUDGETED, maxUnavailable: "100%", canary: 1, healthGate: { settleSeconds: 0, timeoutSeconds: 8 } });
    const failed = await up();
    const log = await disruptionLog(emulator);
    const touched = [...new Set(log.filter((d) => HOST_UNAVAILABLE_KINDS.includes(d.kind) && members.includes(d.host)).map((d) => d.host))];
    figures.push(`canary: up exited ${failed.code} after ${(failed.ms / 1000).toFixed(1)} s; hosts of ${group} disrupted: ${touched.join(", ") || "none"}`);
    expect(failed.code, "up fails").not.toBe(0);
    expect(touched, `only the canary of ${group} was disrupted`).toHaveLength(1);
    const [canary] = touched;
    const output = failed.stdout + failed.stderr;
    expect(output).toMatch(new RegExp(`${canary}: health gate failed after 8 s: service nic1/\\S+ is Failed; no further host of ${group} starts in this run`));
    const states = await fleetState(emulator);
    for (const host of members.filter((h) => h !== canary)) {
      expect(states[fleet.serialOf.get(host) as string].dpuOs.version, `${host} keeps its OS`).toBe(V1);
      const label = `${host}/nic1 \\(${fleet.serialOf.get(host)}\\)`;
      expect(output, `${host} is refused`).toMatch(new RegExp(`${host}: not started \\(installing esxi-arm ${V2} on ${label}\\): ${canary}: health gate failed`));
    }
    expect(states[fleet.serialOf.get(canary) as string].host.maintenance.state, "the canary's work finished: out of maintenance").toBe("off");

    for (const host of members) await admin(emulator, "DELETE", `/admin/v1/dpus/${fleet.serialOf.get(host)}/faults/services-fail-after-reboot`);
    const ms = await expectUp("up after the fault is cleared");
    figures.push(`canary: up after clearing the fault ${(ms / 1000).toFixed(1)} s`);
    expect(await unconverged(fleet, emulator, V2)).toEqual([]);
    expect(await previewChanges()).toEqual([]);
  }, 240_000);

  /** When the kill lands: both leave work on the fleet that the next run must count against the budget. */
  const killMoments: Array<[string, string, (log: readonly LoggedDisruption[]) => Promise<boolean>]> = [
    // Some hosts done, some rebooting now.
    ["while DPUs reboot", V1, async (log) => log.filter((d) => d.kind === "dpu-reboot").length >= 6 && log.some((d) => d.kind === "dpu-reboot" && d.end === null)],
    // A host's evacuation under way: the killed run has asked for it and not seen it end.
    [
      "while a host is being evacuated",
      V2,
      async (log) => log.filter((d) => d.kind === "dpu-reboot").length >= 2 && Object.values(await fleetState(emulator)).some((s) => s.host.maintenance.state === "entering"),
    ],
  ];

  it.each(killMoments)("kill -9 of up mid-rollout %s, recover, up: converges, the budget held across both runs, no host left in maintenance", async (moment, version, killNow) => {
    await clearLog(emulator);
    fleet.writeStack(version, BUDGETED);
    const t0 = Date.now();
    const cli = spawnUp(fleet, [...PARALLEL, "--stack", STACK]);
    await waitFor(
      async () => {
        if (cli.exited()) throw new Error(`up ended before the kill:\n${cli.output()}`);
        return killNow(await disruptionLog(emulator));
      },
      120_000,
      "the rollout under way",
    );
    const tree = processTree(cli.child.pid as number);
    process.kill(cli.child.pid as number, "SIGKILL");
    const killedAt = Date.now();
    await waitFor(() => tree.every((pid) => !alive(pid)), 15_000, "every process of the killed up gone");
    const atKill = await disruptionLog(emulator);
    const states = await fleetState(emulator);
    const hostsIn = fleet.hosts.filter((h) => states[fleet.serialOf.get(h) as string].host.maintenance.state !== "off");
    const inMaintenance = hostsIn.length;
    figures.push(
      `kill ${moment}: after ${((killedAt - t0) / 1000).toFixed(1)} s, ${atKill.filter((d) => d.kind === "dpu-reboot").length} reboots begun, ` +
        `${atKill.filter((d) => d.kind === "dpu-reboot" && d.end === null).length} going on, ${inMaintenance} hosts in maintenance`,
    );

    // The kill left work on the fleet for the next run to respect: hosts in maintenance or rebooting.
    expect(inMaintenance + atKill.filter((d) => d.kind === "dpu-reboot" && d.end === null).length).toBeGreaterThan(0);
    const recovered = await smartfleetRun(fleet, ["recover", "--stack", STACK, "--cwd", fleet.workDir]);
    expect(recovered.code, recovered.output).toBe(0);
    expect(recovered.output).toMatch(/removed the lock of pid \d+/);
    // Every host the kill left in (or on its way into) maintenance is on record: it counts against its group's budget.
    for (const host of hostsIn) expect(recovered.output, `${host} is in maintenance`).toContain(`host ${host} is in maintenance since`);
    const ms = await expectUp("up after recover");
    const log = await disruptionLog(emulator);
    const peaks = peakPerCluster(fleet, log);
    const left = await unconverged(fleet, emulator, version);
    figures.push(
      `kill ${moment}: up after recover ${(ms / 1000).toFixed(1)} s; across both runs max hosts down per cluster ${JSON.stringify(peaks)}; ` +
        `workload outages ${outages(log).length}; pairs both down ${pairsBothDown(fleet, log).length}; not converged: ${left.join("; ") || "none"}`,
    );
    for (const [cluster, peak] of peakDisruptedHosts(log, (h) => fleet.clusterOf.get(h) as string)) {
      const around = log.filter((d) => peak.hosts.includes(d.host) && HOST_UNAVAILABLE_KINDS.includes(d.kind)).map((d) => `${d.kind} ${d.host} [${d.start - t0}, ${d.end === null ? "-" : d.end - t0}]`);
      expect(peak.max, `${cluster}: hosts unavailable at once across both runs: ${peak.hosts.join(", ")} at ${(peak.at ?? t0) - t0} ms (kill at ${killedAt - t0} ms): ${around.join("; ")}`).toBe(1);
    }
    expect(outages(log)).toEqual([]);
    expect(pairsBothDown(fleet, log)).toEqual([]);
    expect(log.filter((d) => d.start >= t0 && d.kind === "dpu-reboot").length).toBeGreaterThanOrEqual(fleet.hosts.length);
    // Converged, nothing left in maintenance (state and log), nothing left to change.
    expect(left).toEqual([]);
    expect(log.filter((d) => d.kind === "maintenance" && d.end === null)).toEqual([]);
    expect(await previewChanges()).toEqual([]);
  }, 240_000);
});
