/**
 * `DpuOs`: the OS (hypervisor) on a DPU's Arm cores. Installs and upgrades go through
 * `UpdateService.SimpleUpdate` targeting the DPU's OS firmware item and are followed as
 * a task; hostname, NTP servers and cluster are PATCHed on the `Oem/SmartFleet/DpuOs`
 * resource. A task cut short is kept as `pendingTask` and resumed by the next run.
 */
import type { DpuOsInputs } from "../schemas/generated/dpu-os-inputs";
import { asRecord, fromFreshSnapshot, fromRecentSnapshot, RedfishError } from "./redfish";
import { connect, followTask, oemCollection, resumeTask, targetLabel, type DpuConnection, type ManagementCredentials } from "./common/dpu";
import { report } from "./common/progress";
import { readStandardOs } from "./common/standard-view";
import { defineKind, movedTargets } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { providerSettings } from "./common/settings";
import { finishInterruptedDisruption, holdForDisruption, rolloutOrLegacy } from "./rollout/hold";

/** DpuOs inputs: the kind schema's properties plus the account credentials. */
export interface DpuOsArgs extends DpuOsInputs, ManagementCredentials {}

/** DpuOs outputs: the inputs with image, version and settings as the DPU reports them. */
export interface DpuOsOutputs extends DpuOsArgs {
  /** `Enabled`, `Installing` or `Absent`, as last read. */
  state: string;
  /** URI of an install task an earlier run could not wait out; null when none. */
  pendingTask: string | null;
}

interface LiveOs {
  uri: string;
  image: string | null;
  version: string | null;
  hostname: string | null;
  ntp: string[];
  cluster: string | null;
  state: string;
  /** The ETag read with it, so a PATCH right after needs no read first. */
  etag?: string;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<DpuOsArgs, DpuOsOutputs>({
  kind: "DpuOs",
  outputOnly: ["state", "pendingTask"],
  credentials: ["username", "password"],
  replaces: (changed, olds, news) => movedTargets(changed, olds, news, ["target"]),
  deleteBeforeReplace: () => false,
  describe: (inputs) => `${targetLabel(inputs.target)} OS`,
  async create(inputs) {
    const id = `${inputs.target.serial}/os`;
    return { id, outs: await converge(id, inputs, null) };
  },
  async read(_id, olds) {
    const connection = await connect(olds.target, olds);
    return outputsFrom(olds, await readOsStandardFirst(connection, olds), olds.pendingTask);
  },
  async update(id, olds, news) {
    return converge(id, news, olds.pendingTask);
  },
  async delete(_id, olds) {
    // Release: the OS stays installed (the DPU needs one); the settings we made are undone.
    const connection = await connect(olds.target, olds);
    const live = await readOs(connection);
    if (live.state !== "Enabled") return;
    const undo: Record<string, unknown> = {};
    if (live.ntp.length > 0) undo.NtpServers = [];
    if (live.cluster !== null) undo.Cluster = null;
    if (Object.keys(undo).length > 0) await connection.client.patch(live.uri, undo, live.etag);
  },
});

/** Installs the image when another one (or none) runs, then sets hostname, NTP and cluster. */
async function converge(id: string, inputs: DpuOsArgs, pendingTask: string | null): Promise<DpuOsOutputs> {
  const connection = await connect(inputs.target, inputs);
  await resumeTask(connection, pendingTask);
  let live = await readOs(connection);
  // An install this stack holds no task for: a run killed between starting it and writing
  // its state. Wait for it to end, then converge from what it left.
  if (live.state === "Installing") live = await waitForRunningInstall(connection);
  if (live.state !== "Enabled" || live.image !== inputs.image || live.version !== inputs.version) {
    // Installing restarts the DPU: held to the host's rollout (budget, pairs, maintenance, health gate).
    await holdForDisruption({ connection, serial: inputs.target.serial, password: inputs.password, restartsDpu: true, reach: "dpu" }, rolloutOrLegacy(inputs.rollout, inputs.target.host), `installing ${inputs.image} ${inputs.version} on ${connection.label}`, () =>
      install(connection, id, inputs),
    );
    live = await readOs(connection);
    if (live.image !== inputs.image || live.version !== inputs.version || live.state !== "Enabled") {
      throw new Error(
        `${connection.label} reports OS ${live.image ?? "(none)"} ${live.version ?? ""} (${live.state}) after installing ${inputs.image} ${inputs.version}`,
      );
    }
  } else if (inputs.rollout) {
    // Installed already, e.g. by a killed run whose install went on: its host may still be in maintenance.
    await finishInterruptedDisruption({ connection, serial: inputs.target.serial, password: inputs.password, restartsDpu: true, reach: "dpu" }, inputs.rollout, `installing ${inputs.image} ${inputs.version} on ${connection.label}`);
  }
  const patch: Record<string, unknown> = {};
  if (inputs.hostname !== undefined && live.hostname !== inputs.hostname) patch.Hostname = inputs.hostname;
  if (JSON.stringify(live.ntp) !== JSON.stringify(inputs.ntp)) patch.NtpServers = inputs.ntp;
  if (inputs.cluster !== undefined && live.cluster !== inputs.cluster) patch.Cluster = inputs.cluster;
  if (Object.keys(patch).length > 0) {
    const answer = await connection.client.patch(live.uri, patch, live.etag);
    // A port that answers the PATCH with the resource (200) needs no read back.
    live = asRecord(answer.body)["@odata.id"] === live.uri ? liveOsFrom(live.uri, asRecord(answer.body), answer.etag) : await readOs(connection);
  }
  return outputsFrom(inputs, live, null);
}

/** Polls the DPU OS until it is no longer installing, within the operation timeout. */
async function waitForRunningInstall(connection: DpuConnection): Promise<LiveOs> {
  report(`${connection.label}: an OS install started by an earlier run is still running; waiting for it to end`);
  const deadline = Date.now() + providerSettings().operationTimeoutMs;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, INSTALL_POLL_MS));
    const live = await fromFreshSnapshot(() => readOs(connection));
    if (live.state !== "Installing") return live;
    if (Date.now() > deadline) throw new Error(`an OS install on ${connection.label} that this stack holds no task for is still running after the operation timeout; run again when it ends`);
  }
}

/** How often a running install the stack holds no task for is looked at. */
const INSTALL_POLL_MS = 1_000;

async function install(connection: DpuConnection, id: string, inputs: DpuOsArgs): Promise<void> {
  const { client, where, label } = connection;
  if (!where.simpleUpdate || !where.firmware.os) {
    throw new Error(`the management port of ${label} offers no SimpleUpdate action or OS firmware item`);
  }
  report(`${label}: installing ${inputs.image} ${inputs.version} from ${inputs.uri}`);
  const started = await client.post(where.simpleUpdate.target, { ImageURI: inputs.uri, Targets: [where.firmware.os] });
  await followTask(connection, started.location, `installing ${inputs.image} ${inputs.version}`, {
    id,
    properties: { ...inputs, state: "Installing" },
  });
}

async function readOs(connection: DpuConnection): Promise<LiveOs> {
  const uri = oemCollection(connection, "dpuOs");
  const read = await fromRecentSnapshot(() => connection.client.get<Record<string, unknown>>(uri));
  return liveOsFrom(uri, asRecord(read.body), read.etag);
}

/**
 * The OS for a refresh: image, version, state and hostname from the standard view
 * (`OperatingSystem`, its software image, the system's `HostName`) when the port has it;
 * NTP servers and cluster, which DMTF does not describe, from `Oem/SmartFleet/DpuOs` when
 * the port offers that, else as last known. A port without the standard view is read
 * through the OEM resource alone.
 */
async function readOsStandardFirst(connection: DpuConnection, olds: DpuOsOutputs): Promise<LiveOs> {
  const standard = await readStandardOs(connection);
  if (!standard) return readOs(connection);
  const oem = connection.where.oem.dpuOs ? await readOs(connection).catch(unlessGone) : undefined;
  return {
    uri: oem?.uri ?? "",
    ...standard,
    // A port that names no image: the OEM resource's, else the one last known.
    image: standard.image ?? (standard.state === "Absent" ? null : (oem?.image ?? (olds.image || null))),
    ntp: oem ? oem.ntp : olds.ntp,
    cluster: oem ? oem.cluster : (olds.cluster ?? null),
  };
}

/** Undefined for a 404 (the port stopped showing the OEM resource), else the error again. */
function unlessGone(error: unknown): undefined {
  if (error instanceof RedfishError && error.status === 404) return undefined;
  throw error;
}

function liveOsFrom(uri: string, body: Record<string, unknown>, etag: string | undefined): LiveOs {
  const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);
  return {
    uri,
    image: text(body.Image),
    version: text(body.Version),
    hostname: text(body.Hostname),
    ntp: Array.isArray(body.NtpServers) ? body.NtpServers.filter((s): s is string => typeof s === "string") : [],
    cluster: text(body.Cluster),
    state: text(body.State) ?? "Absent",
    etag,
  };
}

function outputsFrom(inputs: DpuOsArgs, live: LiveOs, pendingTask: string | null): DpuOsOutputs {
  const outs: DpuOsOutputs = {
    ...inputs,
    // Live values under the input names, so a refresh shows drift.
    image: live.image ?? "",
    version: live.version ?? "",
    ntp: live.ntp,
    state: live.state,
    pendingTask,
  };
  // Settings the stack leaves alone stay out of the outputs, or they would always differ.
  if (inputs.hostname !== undefined) outs.hostname = live.hostname ?? "";
  if (inputs.cluster !== undefined) outs.cluster = live.cluster ?? "";
  return outs;
}

/** The OS on a DPU, as a Pulumi resource. */
export const DpuOs = kindResource(implementation);
/** A declared DpuOs resource. */
export type DpuOs = InstanceType<typeof DpuOs>;
