/**
 * `holdForDisruption`: the one wrapper every provider puts around the part of its work
 * that disrupts a host (a DPU reboot, a host power cycle, a host OS install). In order:
 *
 * 1. take the host's group slot and every pair slot (waiting while the budget is spent;
 *    failing at once when this run halted the group);
 * 2. take the host into maintenance (`redfish` action or `command`), unless an interrupted
 *    run left it there;
 * 3. switch every protected pair whose active side is a DPU about to restart to its other side;
 * 4. do the work;
 * 5. pass the health gate (switching those pairs back to their primary);
 * 6. take the host out of maintenance, record it passed, free the slots.
 *
 * A failed gate fails the resource naming the host and what was unhealthy, and with
 * `onFailure: halt` no further host of the group starts in this run. When the work itself
 * fails, the host stays in maintenance (recorded, and said in the error). Slots are freed
 * whatever happens, except while work may still run on the DPU unseen (the engine is gone,
 * a task is left to the next run, a step into maintenance went out and was not seen to
 * end): then they lapse into orphans, held until the DPU shows the work over.
 */
import type { HostRollout } from "../../model/rollout";
import { connect, endpointUrl, targetLabel, type DpuConnection } from "../common/dpu";
import { RedfishError } from "../redfish";
import { UnfinishedOperationError } from "../common/errors";
import { report } from "../common/progress";
import { healthBefore, passGate } from "./health-gate";
import { engineGone } from "../common/engine-watch";
import { hostInMaintenance, MaintenanceRefusedError, maintenanceStep, type MaintenanceHost } from "./maintenance";
import { pairsOn, switchPair, type LivePair } from "./pairs";
import { currentRun, runningRuns, storeFile, storeFor } from "./run";
import { orphanWorkOver } from "./orphans";
import { acquireSlots, HaltedGroupError } from "./slots";
import { ENTERING_NOTE, ENTRY_FAILED_NOTE, entryConfirmed, failedNote, type LeaseDpu, type LeaseStore } from "./store";

/** Where the disruption happens. */
export interface DisruptionTargets {
  /** The DPU the work goes through: its port reaches the host system (maintenance) and is gated. */
  connection: DpuConnection;
  /** That DPU's serial. */
  serial: string;
  /** The stack's management password: reaches the host's other DPUs and its pairs' primaries. */
  password: string;
  /** Whether the work restarts that DPU's Arm system (pairs active on it switch over first). */
  restartsDpu: boolean;
  /**
   * What the work can break. `dpu`: that DPU alone (a DPU reboot, a DPU OS install): it
   * holds the slots of the pairs with a side on it, and the gate reads it and those pairs.
   * `host`: the whole host (a power cycle, a host OS install): every DPU of the host and
   * every pair with a side on one of them.
   */
  reach: "dpu" | "host";
}

/**
 * The part of the host's rollout a disruption of `reach` touches: for `dpu`, the pairs
 * with a side on that DPU (a pair without known sides, from older state, counts) and no
 * other DPU of the host. Group, budget and maintenance stay the host's.
 */
export function rolloutReach(rollout: HostRollout, serial: string, reach: DisruptionTargets["reach"]): HostRollout {
  if (reach === "host") return rollout;
  const sides = rollout.pairSides.filter((s) => s.primary.target.serial === serial || s.secondary.target.serial === serial);
  const known = new Set(rollout.pairSides.map((s) => s.pair));
  return {
    ...rollout,
    pairs: rollout.pairs.filter((p) => !known.has(p) || sides.some((s) => s.pair === p)),
    pairSides: sides,
    dpus: rollout.dpus.filter((d) => d.target.serial === serial),
  };
}

/** The rollout a resource is held to: its own, or for state that predates rollouts, its host alone, one at a time. */
export function rolloutOrLegacy(rollout: HostRollout | undefined, host: string, hostSerial = host): HostRollout {
  if (rollout) return rollout;
  return {
    stack: "default",
    host,
    hostSerial,
    group: `host:${host}`,
    groupSize: 1,
    budget: 1,
    canary: 0,
    pairs: [],
    dpus: [],
    pairSides: [],
    hostMaintenance: { mode: "none" },
    healthGate: { settleSeconds: 0, timeoutSeconds: 600 },
    onFailure: "continue",
    allowHostPowerCycle: false,
  };
}

/** Waits, slots, gates: on the resource whose disruption this is (its provider call is running). */
const log = (line: string): void => report(line);

/** Runs `work` holding `rollout`'s budget for its host; see the file comment. */
export async function holdForDisruption<T>(targets: DisruptionTargets, hostRollout: HostRollout, what: string, work: () => Promise<T>, resuming = false): Promise<T> {
  const rollout = rolloutReach(hostRollout, targets.serial, targets.reach);
  const store = storeFor(rollout.stack);
  await reportInterruptedRuns(store, rollout.stack);
  let held;
  try {
    held = await acquireSlots(store, rollout, what, log, leaseDpu(targets, rollout), (orphan) => orphanWorkOver(orphan, targets.password));
  } catch (error) {
    if (error instanceof HaltedGroupError) throw new Error(`${rollout.host}: not started (${what}): ${error.message}`);
    throw error;
  }
  if (held.canary) log(`${rollout.host}: goes first in ${rollout.group} as a canary; the rest of the group waits for its health gate`);
  const mHost: MaintenanceHost = { host: rollout.host, hostSerial: rollout.hostSerial, stack: rollout.stack, group: rollout.group };
  let workDone = false;
  let inMaintenance = false;
  let workMayRun = false;
  try {
    // Inside the try: a peer that cannot be reached fails this host and frees its slots.
    const peers = await peersOf(targets, rollout);
    const connections = [targets.connection, ...peers.map((p) => p.connection)];
    inMaintenance = await enterMaintenance(store, rollout, mHost, targets.connection);
    const before = await healthBefore(connections, rollout.pairs);
    const switched = targets.restartsDpu ? await switchOverActive(targets, before.pairs, rollout) : resuming ? await leftOnSecondary(targets, peers, rollout) : [];
    const result = await work();
    workDone = true;
    const gate = await passGate(rollout.healthGate, connections, rollout.pairs, switched.map((p) => p.name), rollout.host, before.baseline);
    if (!gate.passed) {
      const halting = rollout.onFailure === "halt";
      const reason = `${rollout.host}: health gate failed after ${rollout.healthGate.timeoutSeconds} s: ${gate.problems.join("; ")}${halting ? `; no further host of ${rollout.group} starts in this run` : ""}`;
      await store.finish(held.run, rollout.group, rollout.host, "failed");
      if (halting) await store.halt(held.run, rollout.group, reason, Date.now());
      throw new GateFailedError(reason);
    }
    if (inMaintenance) await leaveMaintenance(store, rollout, mHost, targets.connection);
    inMaintenance = false;
    await store.finish(held.run, rollout.group, rollout.host, "passed");
    return result;
  } catch (error) {
    workMayRun = engineGone() !== undefined || error instanceof UnfinishedOperationError || error instanceof EntryUnseenError;
    if (!(error instanceof GateFailedError)) {
      await store.finish(held.run, rollout.group, rollout.host, "failed");
      if (rollout.onFailure === "halt") {
        await store.halt(held.run, rollout.group, `${rollout.host}: ${what} failed: ${(error as Error).message}; no further host of ${rollout.group} starts in this run`, Date.now());
      }
    }
    if (inMaintenance && workDone) {
      try {
        await leaveMaintenance(store, rollout, mHost, targets.connection);
      } catch (exitError) {
        throw new Error(`${(error as Error).message}; and taking host ${rollout.host} out of maintenance failed: ${(exitError as Error).message}`, { cause: error });
      }
    } else if (inMaintenance) {
      stillInMaintenance(rollout.host);
      await store.markMaintenance(rollout.host, { run: held.run, since: maintenanceSince.get(rollout.host) ?? Date.now(), note: failedNote(what), group: rollout.group });
      if (error instanceof UnfinishedOperationError) {
        // Kept as it is: the task lands in state and the next run resumes it, in maintenance still.
        log(`${rollout.host}: left in maintenance while ${what} is unfinished`);
        throw error;
      }
      throw new Error(`${(error as Error).message}; host ${rollout.host} is left in maintenance (take it out once it is repaired, or run again)`, { cause: error });
    }
    throw error;
  } finally {
    await (workMayRun ? held.abandon() : held.release());
  }
}

/**
 * For a resource with nothing left to disrupt on its host: when another run left the host
 * in maintenance (a killed `up` whose install has ended since), takes it out as that
 * disruption would have: holding its slots, through the health gate. Until then the host
 * counts against its group's budget. Nothing to do without maintenance, or when no other
 * run left the host there.
 */
export async function finishInterruptedDisruption(targets: DisruptionTargets, rollout: HostRollout, what: string): Promise<void> {
  if (rollout.hostMaintenance.mode === "none") return;
  const left = (await storeFor(rollout.stack).maintenance()).find((m) => m.host === rollout.host);
  if (left === undefined || left.run === currentRun()) return;
  await holdForDisruption({ ...targets, restartsDpu: false, reach: "host" }, rollout, `${what}, done already: taking host ${rollout.host} out of maintenance`, async () => undefined, true);
}

/**
 * Pairs whose primary is one of the host's DPUs left serving on their secondary: what an
 * interrupted disruption of the host switched over and never switched back. The gate
 * switches them back once the host is healthy.
 */
async function leftOnSecondary(targets: DisruptionTargets, peers: readonly Peer[], rollout: HostRollout): Promise<LivePair[]> {
  const hostDpus = new Set([targets.serial, ...rollout.dpus.map((d) => d.target.serial)]);
  const ports = [targets.connection, ...peers.map((p) => p.connection)];
  return (await pairsOn(ports, rollout.pairs)).filter((pair) => {
    const sides = rollout.pairSides.find((side) => side.pair === pair.name);
    return pair.activeSide === "secondary" && sides !== undefined && hostDpus.has(sides.primary.target.serial);
  });
}

/** The DPU the work goes through, kept with the leases (see `LeaseDpu`). */
function leaseDpu(targets: DisruptionTargets, rollout: HostRollout): LeaseDpu {
  const access = rollout.dpus.find((d) => d.target.serial === targets.serial);
  const url = access ? endpointUrl(access.target) : targets.connection.client.endpoint;
  return { url, serial: targets.serial, username: access?.username ?? targets.connection.client.username, label: targets.connection.label };
}

/** A failed health gate (already recorded). */
class GateFailedError extends Error {}

/** A step into maintenance that went out and was not seen to end (the host stays recorded). */
class EntryUnseenError extends Error {}

/** When this process took each host into maintenance (or found it there). */
const maintenanceSince = new Map<string, number>();
/** Disruptions of each host in maintenance now, in this process: the last one out takes it out. */
const maintenanceUsers = new Map<string, { count: number; entering: Promise<void> }>();

/** Takes the host into maintenance (once per host in this process); true when it is in maintenance now. */
async function enterMaintenance(store: LeaseStore, rollout: HostRollout, host: MaintenanceHost, connection: DpuConnection): Promise<boolean> {
  if (rollout.hostMaintenance.mode === "none") return false;
  const users = maintenanceUsers.get(rollout.host);
  if (users) {
    users.count++;
    try {
      await users.entering;
    } catch (error) {
      users.count--;
      throw error;
    }
    return true;
  }
  const entering = (async () => {
    const left = (await store.maintenance()).find((m) => m.host === rollout.host);
    // Over Redfish the host says whether it is in maintenance (a record of a run killed while
    // entering does not make it so); a command's host has only the record to go by, and a
    // record of a step that was never seen to end is asked again.
    const live = rollout.hostMaintenance.mode === "redfish" ? await hostInMaintenance(connection) : undefined;
    const already = live ?? (left !== undefined && entryConfirmed(left.note));
    if (already) {
      const since = left ? ` since ${new Date(left.since).toISOString()}` : "";
      log(`${rollout.host}: already in maintenance${since}${left && left.run !== currentRun() ? " (left there by an earlier run)" : ""}; continuing from there`);
      maintenanceSince.set(rollout.host, left?.since ?? Date.now());
    } else {
      // Recorded before the hardware is asked: a run killed during the evacuation leaves the
      // host counted against its group's budget by the next run.
      const since = left?.since ?? Date.now();
      await store.markMaintenance(rollout.host, { run: currentRun(), since, note: ENTERING_NOTE, group: rollout.group });
      try {
        await maintenanceStep(rollout.hostMaintenance, "enter", host, connection);
      } catch (error) {
        if (error instanceof MaintenanceRefusedError) {
          // The host is as it was: so is its record.
          await store.markMaintenance(rollout.host, left);
          throw error;
        }
        // The step went out and its end was not seen (a lost connection, a dead engine): the
        // host may be on its way in. Forgetting it here let the next run take a second host
        // of the group down beside it.
        await store.markMaintenance(rollout.host, { run: currentRun(), since, note: ENTRY_FAILED_NOTE, group: rollout.group });
        throw new EntryUnseenError(`${(error as Error).message}; host ${rollout.host} may be on its way into maintenance: it counts against ${rollout.group}'s budget until a run takes it out (run again)`, { cause: error });
      }
      maintenanceSince.set(rollout.host, since);
    }
    await store.markMaintenance(rollout.host, { run: currentRun(), since: maintenanceSince.get(rollout.host) as number, note: "", group: rollout.group });
  })();
  const entry = { count: 1, entering };
  maintenanceUsers.set(rollout.host, entry);
  try {
    await entering;
  } catch (error) {
    maintenanceUsers.delete(rollout.host);
    throw error;
  }
  return true;
}

/** Takes the host out of maintenance when this is its last disruption in progress here. */
async function leaveMaintenance(store: LeaseStore, rollout: HostRollout, host: MaintenanceHost, connection: DpuConnection): Promise<void> {
  const users = maintenanceUsers.get(rollout.host);
  if (users && --users.count > 0) return;
  maintenanceUsers.delete(rollout.host);
  await maintenanceStep(rollout.hostMaintenance, "exit", host, connection);
  maintenanceSince.delete(rollout.host);
  await store.markMaintenance(rollout.host, undefined);
}

/** A disruption of the host ends leaving it in maintenance: the next one here finds it there. */
function stillInMaintenance(host: string): void {
  const users = maintenanceUsers.get(host);
  if (users && users.count > 0) users.count--;
}

/**
 * Switches every protected pair (of `pairs`, as just read) whose active side is the DPU
 * about to restart over to its other side. A pair lives on its primary's port, which may
 * be another host's DPU.
 */
async function switchOverActive(targets: DisruptionTargets, pairs: readonly LivePair[], rollout: HostRollout): Promise<LivePair[]> {
  const switched: LivePair[] = [];
  for (const pair of pairs) {
    const sides = rollout.pairSides.find((s) => s.pair === pair.name);
    const activeSerial = pair.activeSide === "secondary" ? sides?.secondary.target.serial : sides?.primary.target.serial;
    // Without the sides (state from an older version) only the port's own pairs are known: their primary is this DPU.
    const activeHere = sides ? activeSerial === targets.serial : pair.activeSide === "primary" && pair.connection === targets.connection;
    if (!activeHere) continue;
    if (!pair.protected) {
      log(`${rollout.host}: pair ${pair.name} is not protected (${pair.state}); restarting its active side ${targets.connection.label} interrupts it`);
      continue;
    }
    switched.push(await switchPair(pair, pair.activeSide === "secondary" ? "primary" : "secondary", `before ${targets.connection.label} restarts`));
  }
  return switched;
}

/** Another DPU the disruption involves: one of the host's, or a pair's primary. */
interface Peer {
  serial: string;
  connection: DpuConnection;
}

/**
 * Connects to the host's other DPUs and to the primaries of its pairs (each once). A port
 * that refuses the stack's management password (401) is a DPU this stack has not claimed
 * yet (a bring-up, where a pair's secondary may be claimed before its primary): it can
 * hold none of the stack's pairs yet, so it is left out, said once. Any other failure fails.
 */
async function peersOf(targets: DisruptionTargets, rollout: HostRollout): Promise<Peer[]> {
  const wanted = [...rollout.dpus, ...rollout.pairSides.map((s) => s.primary)];
  const seen = new Set([targets.serial]);
  const peers: Peer[] = [];
  for (const access of wanted) {
    if (seen.has(access.target.serial)) continue;
    seen.add(access.target.serial);
    try {
      peers.push({ serial: access.target.serial, connection: await connect(access.target, { username: access.username, password: targets.password }) });
    } catch (error) {
      if (!(error instanceof RedfishError && error.status === 401)) throw error;
      log(`${rollout.host}: ${targetLabel(access.target)} refuses the management password (not claimed yet); the disruption goes on without reading or switching it`);
    }
  }
  return peers;
}

/** Stores whose interrupted runs were reported by this run. */
const reported = new Set<string>();

/** Once per run and store: says which hosts an interrupted run left in maintenance. */
async function reportInterruptedRuns(store: LeaseStore, stack: string): Promise<void> {
  const key = `${currentRun()}\u0000${storeFile(stack)}`;
  if (reported.has(key)) return;
  reported.add(key);
  const live = await runningRuns(store);
  for (const m of await store.maintenance()) {
    if (m.run === currentRun() || live.has(m.run)) continue;
    log(
      `host ${m.host} is in maintenance since ${new Date(m.since).toISOString()}, left there by an interrupted or failed run${m.note ? ` (${m.note})` : ""}; its next disruption in this run continues from there and takes it out`,
    );
  }
}
