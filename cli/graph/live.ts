/**
 * The observed half of a live topology: each managed DPU's port read once, in parallel,
 * through the providers' Redfish client in a read pass (one `GET
 * /redfish/v1?$expand=*($levels=5)` answers every read after it), with Basic
 * authentication and nothing written. What the port shows becomes a `DpuObservation`;
 * `observeTopology` (model/topology.ts) compares it with the stack.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { DpuTarget } from "../../schemas/generated/common";
import { resourceDeclarations } from "../../model/declarations";
import { caFileOf, readEndpointsFile, routesOf } from "../../model/endpoints";
import type { LoadedStack } from "../../model/load";
import type { DpuObservation } from "../../model/topology";
import { endpointUrl } from "../../providers/common/dpu";
import { projectRoot } from "../../providers/common/settings";
import { asRecord, duringReadPass, linkOf, locate, readDpu, RedfishClient, RedfishError, type Locations, withFirstAcceptedPassword } from "../../providers/redfish";

/** One DPU to read. */
export interface ObservedTarget {
  /** `host/nic`. */
  id: string;
  target: DpuTarget;
  username: string;
  /** Passwords to try in order (the stack's management password, then the factory one). */
  passwords: string[];
}

type Body = Record<string, unknown>;

/** A stack's configuration that --live cannot do without, named so the user can fix it. */
export class LiveConfigError extends Error {}

/**
 * How to reach the DPUs of `loaded` as Pulumi stack `stackName` is configured: its
 * endpoints file (routes and CA), `smartfleet:caFile`, and the management password (a
 * secret, which is why this needs the Pulumi toolchain when nothing else in `graph` does).
 * `caFile` is the file the CA was read from (what `smartfleet certs rotate` tells the user to change).
 */
export async function liveTargets(stackName: string, loaded: LoadedStack, cwd = process.cwd()): Promise<{ targets: ObservedTarget[]; caPem: string; caFile: string }> {
  const root = projectRoot(cwd);
  if (!fs.existsSync(path.join(root, "Pulumi.yaml"))) throw new LiveConfigError(`no Pulumi.yaml in ${cwd} or above: --live reads the stack's configuration from the project`);
  // Loaded here only: the static picture must not need @pulumi/pulumi.
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  let config: Record<string, { value: string }>;
  try {
    // The workspace's read names the stack; selecting it would change the user's selected stack.
    config = await (await LocalWorkspace.create({ workDir: root })).getAllConfig(stackName);
  } catch (error) {
    throw new LiveConfigError(`cannot read the configuration of stack '${stackName}' in ${root}: ${firstLine(error)}`);
  }
  const get = (key: string): string | undefined => config[`smartfleet:${key}`]?.value;
  const endpointsFile = get("endpoints") ? path.resolve(root, get("endpoints") as string) : undefined;
  const endpoints = endpointsFile ? readOr(`the endpoints file ${endpointsFile}`, () => readEndpointsFile(endpointsFile)) : undefined;
  const caFile = get("caFile") ? path.resolve(root, get("caFile") as string) : endpointsFile && endpoints ? caFileOf(endpointsFile, endpoints) : undefined;
  if (!caFile) throw new LiveConfigError(`stack '${stackName}' sets neither smartfleet:caFile nor smartfleet:endpoints: nothing says how to trust the management ports`);
  const caPem = readOr(`the management ports' CA ${caFile}`, () => fs.readFileSync(caFile, "utf8"));
  const password = get("managementPassword");
  const targets = resourceDeclarations(loaded, { routes: endpoints ? routesOf(endpoints) : undefined }).flatMap((d) =>
    d.kind === "SmartNic"
      ? [
          {
            id: `${d.inputs.target.host}/${d.inputs.target.smartnic}`,
            target: d.inputs.target,
            username: d.account.username,
            passwords: [password, d.account.factoryPassword].filter((p): p is string => typeof p === "string" && p !== ""),
          },
        ]
      : [],
  );
  return { targets, caPem, caFile };
}

function readOr<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new LiveConfigError(`cannot read ${what}: ${firstLine(error)}`);
  }
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n").find((l) => l.trim() !== "") ?? "unknown error";
}

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** What else a caller reads of each port in the same read pass (from its snapshot: no request of its own), with the password that worked. */
export type AlsoRead<T> = (client: RedfishClient, password: string) => Promise<T>;

/**
 * Reads every target once; observations by `host/nic`, and the requests each port got.
 * With `also`, what it read of each port answering (by `host/nic`) in `extras`.
 */
export async function observeDpus<T = never>(
  targets: ObservedTarget[],
  caPem: string,
  opts: { callTimeoutMs?: number; also?: AlsoRead<T> } = {},
): Promise<{ observed: Record<string, DpuObservation>; requests: Record<string, number>; extras: Record<string, T> }> {
  const observed: Record<string, DpuObservation> = {};
  const requests: Record<string, number> = {};
  const extras: Record<string, T> = {};
  const { also } = opts;
  await Promise.all(
    targets.map(async (t) => {
      requests[t.id] = 0;
      if (t.passwords.length === 0) {
        observed[t.id] = { reachable: false, reason: "no password to read it with" };
        return;
      }
      const options = { callTimeoutMs: opts.callTimeoutMs ?? 10_000, operationTimeoutMs: 20_000, retries: 0 };
      const port = { url: endpointUrl(t.target), caPem, username: t.username };
      try {
        observed[t.id] = await withFirstAcceptedPassword(port, t.passwords, options, async (client, password) => {
          const observation = await duringReadPass(() => readOne(client));
          // After the DPU's own reads, so a port that cannot give the extra still counts as read.
          if (also) await duringReadPass(() => also(client, password)).then((x) => (extras[t.id] = x), () => undefined);
          return observation;
        }, (n) => (requests[t.id] += n));
      } catch (error) {
        const status = error instanceof RedfishError ? error.status : undefined;
        // 403: the port shows nothing but its own account until the factory password is changed.
        observed[t.id] = { reachable: false, reason: status === 401 ? "password refused" : status === 403 ? "not claimed yet" : "unreachable" };
      }
    }),
  );
  return { observed, requests, extras };
}

async function readOne(client: RedfishClient): Promise<DpuObservation> {
  const facts = await readDpu(client);
  const where = await locate(client);
  const [dpuOs, services, devices, pairs, tasks] = await Promise.all([
    where.oem.dpuOs ? client.get<Body>(where.oem.dpuOs).then((r) => asRecord(r.body)) : undefined,
    members(client, where, "services"),
    members(client, where, "hostDevices"),
    members(client, where, "servicePairs"),
    runningTasks(client),
  ]);
  const byId = <T>(list: Body[], shape: (b: Body) => T): Record<string, T> => Object.fromEntries(list.map((b) => [String(b.Id ?? b.Name ?? ""), shape(b)]));
  return {
    reachable: true,
    mode: facts.mode,
    hostPrivilege: facts.hostPrivilege,
    powerState: facts.dpuPowerState,
    dpuOs: dpuOs && dpuOs.State !== "Absent" ? { image: text(dpuOs.Image), version: text(dpuOs.Version), state: text(dpuOs.State) } : null,
    hostOs: facts.hostOs,
    services: services && byId(services, (b) => ({ state: text(b.State), version: text(b.Version) })),
    devices: devices && byId(devices, (b) => ({ kind: text(b.Kind), function: text(b.Function) })),
    pairs: pairs && byId(pairs, (b) => ({ state: text(b.State), protected: b.Protected === true })),
    tasks,
  };
}

/** Task states of work not finished yet (DMTF Task.TaskState). */
const UNFINISHED = new Set(["New", "Starting", "Running", "Pending", "Suspended", "Stopping", "Interrupted", "Service"]);

/**
 * The port's unfinished tasks (TaskService → Tasks, inside the snapshot: no request of its
 * own), each with its PercentComplete; none when the port has no TaskService.
 */
async function runningTasks(client: RedfishClient): Promise<Array<{ name: string; percent: number | null }>> {
  const service = linkOf((await client.serviceRoot()).Tasks);
  if (!service) return [];
  const tasks = linkOf(asRecord((await client.get<Body>(service)).body).Tasks);
  if (!tasks) return [];
  return (await client.getCollection<Body>(tasks))
    .map((m) => asRecord(m.body))
    .filter((t) => UNFINISHED.has(String(t.TaskState)))
    .map((t) => ({ name: text(t.Name) ?? String(t.Id ?? "task"), percent: typeof t.PercentComplete === "number" ? t.PercentComplete : null }));
}

/** The members of one of the port's OEM collections; null when the port lacks it (a BMC with the DMTF view only). */
async function members(client: RedfishClient, where: Locations, collection: "services" | "hostDevices" | "servicePairs"): Promise<Body[] | null> {
  const uri = where.oem[collection];
  if (!uri) return null;
  return (await client.getCollection<Body>(uri)).map((m) => asRecord(m.body));
}
