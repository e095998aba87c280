/**
 * The health gate a host passes before its rollout slot frees: after `settleSeconds`, the
 * DPUs the disruption could break are read until every DPU OS that is installed is
 * `Enabled`, every offloaded service is `Enabled` and every service pair found on those
 * ports is protected, or `timeoutSeconds` pass. Each poll reads only what it checks (the
 * DPU OS, the services and the pairs, in expanded requests), not the
 * whole port: a port's full snapshot costs it and us several times as much. The OS and
 * services come from DMTF's `OperatingSystem` and its `Applications` in one request where
 * the port offers them, else from our OEM view (pairs are ours alone). Pairs switched
 * over for the disruption are switched back to their primary as soon as the DPUs are
 * healthy, and must then show protected too. What was already unhealthy before the
 * disruption (a pair whose other side is down, a service an operator left failed) does
 * not hold the gate: the gate asks that the disruption broke nothing, not that the fleet
 * be perfect.
 */
import type { HealthGate } from "../../schemas/generated/common";
import { asRecord, outsideReadPass, RedfishError, writeGeneration } from "../redfish";
import type { DpuConnection } from "../common/dpu";
import { applicationState, osState } from "../common/standard-view";
import { livePair, switchPair, type LivePair } from "./pairs";
import { rolloutTimings } from "./run";

/** What the gate found wrong on its last read; empty when healthy. */
export type Problems = string[];

/** What is unhealthy, by what it is about (`os:<dpu label>`, `service:<dpu label>/dfw`, `pair:witness`, `dpu:<dpu label>`). */
export type ProblemsByKey = Map<string, string>;

/** The gate's answer. */
export interface GateResult {
  /** True when the host became healthy in time. */
  passed: boolean;
  /** What was unhealthy at the last read (empty when passed). */
  problems: Problems;
}

/** Short name of a DPU in messages: `nic1` of `host/nic1 (serial)`. */
function dpuName(connection: DpuConnection): string {
  const place = connection.label.split(" ")[0];
  return place.includes("/") ? place.slice(place.indexOf("/") + 1) : place;
}

type Body = Record<string, unknown>;

/**
 * The DPU OS's state and each service's: DMTF's `OperatingSystem` with its `Applications`
 * in one expanded request where the port offers both (a service pair's sides are
 * Applications too), else our OEM resources, else what of the standard view there is.
 */
async function osAndServices(connection: DpuConnection): Promise<{ os: string; services: Array<{ id: string; state: string }> }> {
  const { client, where } = connection;
  const { operatingSystem, applications } = where.standard;
  if (operatingSystem && applications && (await client.supportsExpand())) {
    let body: Body;
    try {
      body = asRecord((await client.get<Body>(`${operatingSystem}?$expand=.($levels=2)`)).body);
    } catch (error) {
      // No OperatingSystem resource: no OS installed (and no services on it).
      if (error instanceof RedfishError && error.status === 404) return { os: "Absent", services: [] };
      throw error;
    }
    const members = asRecord(body.Applications).Members;
    if (Array.isArray(members) && members.every((m) => Object.keys(asRecord(m)).length > 1)) {
      return { os: osState(body.Status), services: members.map(asRecord).map((m) => ({ id: String(m.Id ?? ""), state: applicationState(m.Status) })) };
    }
  }
  const osUri = where.oem.dpuOs ?? operatingSystem;
  const osBody = osUri ? asRecord((await client.get<Body>(osUri)).body) : {};
  const os = typeof osBody.State === "string" ? osBody.State : osBody.Status !== undefined ? osState(osBody.Status) : "Absent";
  const servicesUri = where.oem.services ?? applications;
  const services = servicesUri
    ? (await client.getCollection<Body>(servicesUri)).map((m) => {
        const b = asRecord(m.body);
        return { id: String(b.Id ?? m.uri.split("/").pop()), state: typeof b.State === "string" ? b.State : applicationState(b.Status) };
      })
    : [];
  return { os, services };
}

/** What one read of a DPU found: its problems, and every pair on its port when pairs were asked for. */
interface DpuHealth {
  problems: Array<[string, string]>;
  pairs: LivePair[] | undefined;
}

/** A DPU's last health read in this process, with the port's write generation when it was taken. */
interface RememberedRead extends DpuHealth {
  generation: number;
  at: number;
}

/**
 * Each DPU's last read, which stands in for a baseline read for `baselineReuseMs` while this
 * process wrote nothing to its port: a host's second disruption (its DPU OS after its mode)
 * would otherwise read again what its first one's gate read a moment before. Only a read
 * that found nothing wrong is reused, so such a baseline can only be stricter: what broke
 * since counts as broken by the disruption and holds the gate; nothing fixed since is
 * excused by it.
 */
const lastReads = new Map<string, RememberedRead>();

async function readDpu(connection: DpuConnection, pairNames: readonly string[]): Promise<DpuHealth> {
  const nic = dpuName(connection);
  const generation = writeGeneration(connection.client.endpoint);
  const problems: Array<[string, string]> = [];
  let pairs: LivePair[] | undefined;
  await outsideReadPass(async () => {
    const { os, services } = await osAndServices(connection);
    // A DPU with no OS installed has none to check (the stack declares none for it).
    if (os !== "Enabled" && os !== "Absent") problems.push([`os:${connection.label}`, `the OS of ${nic} is ${os}`]);
    for (const service of services) {
      if (service.state !== "Enabled") problems.push([`service:${connection.label}/${service.id}`, `service ${nic}/${service.id} is ${service.state}`]);
    }
    const { servicePairs } = connection.where.oem;
    if (servicePairs && pairNames.length > 0) {
      pairs = [];
      for (const m of await connection.client.getCollection<Record<string, unknown>>(servicePairs)) {
        pairs.push(livePair(connection, { uri: m.uri, body: asRecord(m.body), etag: m.etag }));
      }
    }
  });
  lastReads.set(connection.client.endpoint, { problems, pairs, generation, at: Date.now() });
  return { problems, pairs };
}

/** This process's last read of the DPU, when it may stand in for a baseline read now. */
function recentRead(connection: DpuConnection, pairNames: readonly string[]): DpuHealth | undefined {
  const read = lastReads.get(connection.client.endpoint);
  if (!read || read.generation !== writeGeneration(connection.client.endpoint) || Date.now() - read.at > rolloutTimings().baselineReuseMs) return undefined;
  if (read.problems.length > 0 || read.pairs?.some((p) => !p.protected)) return undefined;
  const { servicePairs } = connection.where.oem;
  if (servicePairs && pairNames.length > 0 && !read.pairs) return undefined;
  return read;
}

/**
 * One read of the DPUs: what is unhealthy, and the pairs among `pairNames` as they are now.
 * With `reuseRecent`, a DPU this process read a moment ago and wrote nothing to since is
 * not read again.
 */
export async function readHealth(connections: readonly DpuConnection[], pairNames: readonly string[], reuseRecent = false): Promise<{ problems: ProblemsByKey; pairs: LivePair[]; unreachable: string[] }> {
  const problems: ProblemsByKey = new Map();
  const pairs: LivePair[] = [];
  const unreachable: string[] = [];
  for (const connection of connections) {
    try {
      const health = (reuseRecent && recentRead(connection, pairNames)) || (await readDpu(connection, pairNames));
      for (const [key, text] of health.problems) problems.set(key, text);
      for (const pair of health.pairs ?? []) if (pairNames.includes(pair.name)) pairs.push(pair);
    } catch (error) {
      const nic = dpuName(connection);
      // Keyed by the whole label: a pair's primary on another host may have the same nic name.
      problems.set(`dpu:${connection.label}`, `${nic} does not answer: ${(error as Error).message}`);
      unreachable.push(`${connection.label} does not answer: ${(error as Error).message}`);
    }
  }
  return { problems, pairs, unreachable };
}

/**
 * What is unhealthy on the DPUs now, pairs included: the baseline a disruption must not
 * make worse; and the pairs as read (what the switch-over before the work acts on). A DPU
 * read a moment ago with nothing written to it since is taken as read then.
 * Throws when a port does not answer: its pairs could be neither switched nor checked.
 */
export async function healthBefore(connections: readonly DpuConnection[], pairNames: readonly string[]): Promise<{ baseline: ReadonlySet<string>; pairs: LivePair[] }> {
  const { problems, pairs, unreachable } = await readHealth(connections, pairNames, true);
  if (unreachable.length) throw new Error(`${unreachable.join("; ")}; nothing was disrupted`);
  return { baseline: new Set([...problems.keys(), ...pairs.filter((p) => !p.protected).map((p) => `pair:${p.name}`)]), pairs };
}

/** A pair's trouble in words, or undefined when it is protected. */
function pairProblem(pair: LivePair): string | undefined {
  if (pair.protected) return undefined;
  return `pair ${pair.name} is not protected (${pair.state}, active side ${pair.activeSide || "unknown"})`;
}

/**
 * Waits out the settle time, then polls until the host is healthy or the gate's time is
 * up. `switchBack` are the pairs the disruption switched over: they move back to their
 * primary once the DPUs are healthy.
 */
export async function passGate(
  gate: HealthGate,
  connections: readonly DpuConnection[],
  pairNames: readonly string[],
  switchBack: readonly string[],
  host: string,
  baseline: ReadonlySet<string> = new Set(),
): Promise<GateResult> {
  if (gate.settleSeconds > 0) await sleep(gate.settleSeconds * 1000);
  const deadline = Date.now() + gate.timeoutSeconds * 1000;
  const pending = new Set(switchBack);
  let problems: Problems = [];
  for (;;) {
    const health = await readHealth(connections, pairNames);
    problems = [...health.problems].filter(([key]) => !baseline.has(key)).map(([, text]) => text);
    if (problems.length === 0 && pending.size > 0) {
      for (const name of [...pending]) {
        const pair = health.pairs.find((p) => p.name === name);
        pending.delete(name);
        if (!pair || pair.activeSide === "primary") continue;
        try {
          await switchPair(pair, "primary", `now that host ${host} passed its checks`);
        } catch (error) {
          problems.push((error as Error).message);
        }
      }
      // Read again at once: the pairs must now show protected.
      if (problems.length === 0) continue;
    }
    for (const pair of health.pairs) {
      const problem = baseline.has(`pair:${pair.name}`) ? undefined : pairProblem(pair);
      if (problem) problems.push(problem);
    }
    if (problems.length === 0) return { passed: true, problems };
    if (Date.now() >= deadline) return { passed: false, problems };
    await sleep(Math.min(rolloutTimings().gatePollMs, Math.max(0, deadline - Date.now())));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
