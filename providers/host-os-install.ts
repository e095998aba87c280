/**
 * `HostOsInstall`: an OS installed on a host through its DPU, whatever the host runs:
 * the image goes into the manager's virtual CD, the host boots once from CD (a reset,
 * which the stack must allow), and the install is watched until the host reports the
 * new version. A task cut short is kept as `pendingTask` and resumed by the next run.
 */
import type { HostOsInstallInputs } from "../schemas/generated/host-os-install-inputs";
import { RedfishError, unfinishedTasks } from "./redfish";
import { connect, resumeTask, targetLabel, type DpuConnection, type ManagementCredentials } from "./common/dpu";
import { report } from "./common/progress";
import { RefusedChangeError } from "./common/errors";
import { readHostSystem, requireHostSerial, resetHost, type HostSystemFacts } from "./common/host-system";
import { defineKind } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { finishInterruptedDisruption, holdForDisruption, rolloutOrLegacy } from "./rollout/hold";

/** HostOsInstall inputs: the kind schema's properties plus the DPU's account credentials. */
export interface HostOsInstallArgs extends HostOsInstallInputs, ManagementCredentials {}

/** HostOsInstall outputs: image and version as the host reports them. */
export interface HostOsInstallOutputs extends HostOsInstallArgs {
  /** URI of an install task an earlier run could not wait out; null when none. */
  pendingTask: string | null;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<HostOsInstallArgs, HostOsInstallOutputs>({
  kind: "HostOsInstall",
  outputOnly: ["pendingTask"],
  credentials: ["username", "password"],
  // Another host is another install; image, version and the DPU used change in place.
  replaces: (changed) => changed.filter((k) => k === "host" || k === "hostSerial"),
  deleteBeforeReplace: () => false,
  describe: (inputs) => `${inputs.image} ${inputs.version} on ${inputs.host} via ${targetLabel(inputs.via)}`,
  async create(inputs) {
    const id = `${inputs.hostSerial}/os`;
    return { id, outs: await converge(id, inputs, null) };
  },
  async read(_id, olds) {
    const connection = await connect(olds.via, olds);
    const facts = await readHostSystem(connection);
    requireHostSerial(connection, facts, olds.hostSerial);
    // A port that does not say which OS the host runs shows no drift of it: kept as last known.
    return facts.osReported ? outputsFrom(olds, facts, olds.pendingTask) : olds;
  },
  async update(id, olds, news) {
    return converge(id, news, olds.pendingTask);
  },
  async delete(_id, olds) {
    // Release: the OS stays; the media and boot override this resource used are cleared.
    const connection = await connect(olds.via, olds);
    await cleanUp(connection, await readHostSystem(connection));
  },
});

async function converge(id: string, inputs: HostOsInstallArgs, pendingTask: string | null): Promise<HostOsInstallOutputs> {
  const connection = await connect(inputs.via, inputs);
  await resumeTask(connection, pendingTask);
  // A killed run's reset or install whose pending create recover cleared goes on on the port:
  // its end decides what is installed, instead of a second reset meeting it (409 ResourceInUse).
  for (const task of (await unfinishedTasks(connection.client)) ?? []) await resumeTask(connection, task);
  let facts = await readHostSystem(connection);
  requireHostSerial(connection, facts, inputs.hostSerial);
  if (!isInstalled(facts, inputs)) {
    if (!inputs.rollout?.allowHostPowerCycle) {
      throw new RefusedChangeError(
        `host ${inputs.host} runs ${facts.os ? `${facts.os.image} ${facts.os.version}` : "no OS"} and the stack asks for ${inputs.image} ${inputs.version}; installing resets the host`,
        "set maintenance.allowHostPowerCycle: true in the stack to allow it",
      );
    }
    // Installing resets the host: held to its rollout (budget, pairs, maintenance, health gate).
    await holdForDisruption({ connection, serial: inputs.via.serial, password: inputs.password, restartsDpu: false, reach: "host" }, rolloutOrLegacy(inputs.rollout, inputs.host, inputs.hostSerial), `installing ${inputs.image} ${inputs.version} on host ${inputs.host}`, () =>
      install(connection, id, inputs, facts),
    );
    facts = await readHostSystem(connection);
    if (!isInstalled(facts, inputs)) {
      throw new Error(
        `host ${inputs.host} reports ${facts.os ? `${facts.os.image} ${facts.os.version}` : "no OS"} after installing ${inputs.image} ${inputs.version}`,
      );
    }
  } else if (inputs.rollout) {
    // Installed already, e.g. by a killed run whose install went on: its host may still be in maintenance.
    await finishInterruptedDisruption({ connection, serial: inputs.via.serial, password: inputs.password, restartsDpu: false, reach: "host" }, inputs.rollout, `installing ${inputs.image} ${inputs.version} on host ${inputs.host}`);
  }
  await cleanUp(connection, facts);
  return outputsFrom(inputs, facts, null);
}

function isInstalled(facts: HostSystemFacts, inputs: HostOsInstallArgs): boolean {
  return facts.os?.image === inputs.image && facts.os.version === inputs.version;
}

/** Media in, boot once from CD, reset (or power on) the host, follow the install task. */
async function install(connection: DpuConnection, id: string, inputs: HostOsInstallArgs, facts: HostSystemFacts): Promise<void> {
  const { client, where, label } = connection;
  if (!where.insertMedia) throw new Error(`the management port of ${label} offers no virtual CD to install from`);
  await ejectQuietly(connection);
  await client.post(where.insertMedia, { Image: inputs.uri, Inserted: true });
  await client.patch(facts.uri, { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Cd" } });
  report(`host ${inputs.host}: installing ${inputs.image} ${inputs.version} through ${label}`);
  await resetHost(connection, facts.powerState === "On" ? "ForceRestart" : "On", `installing ${inputs.image} ${inputs.version} on host ${inputs.host}`, {
    id,
    properties: { ...inputs, pendingTask: null },
  });
}

/** Ejects the install media and clears a boot override that is still set. */
async function cleanUp(connection: DpuConnection, facts: HostSystemFacts): Promise<void> {
  await ejectQuietly(connection);
  if (facts.boot.enabled !== "Disabled") {
    await connection.client.patch(facts.uri, { Boot: { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" } });
  }
}

async function ejectQuietly(connection: DpuConnection): Promise<void> {
  const target = connection.where.ejectMedia;
  if (!target) return;
  try {
    await connection.client.post(target, {});
  } catch (error) {
    // "No media is inserted" is the state we want; anything else is a real failure.
    if (!(error instanceof RedfishError && error.status !== undefined && error.status >= 400 && error.status < 500 && error.status !== 401 && error.status !== 403)) {
      throw error;
    }
  }
}

function outputsFrom(inputs: HostOsInstallArgs, facts: HostSystemFacts, pendingTask: string | null): HostOsInstallOutputs {
  // Live image and version under the input names, so a refresh shows drift.
  return { ...inputs, image: facts.os?.image ?? "", version: facts.os?.version ?? "", pendingTask };
}

/** An OS installed on a host through its DPU, as a Pulumi resource. */
export const HostOsInstall = kindResource(implementation);
/** A declared HostOsInstall resource. */
export type HostOsInstall = InstanceType<typeof HostOsInstall>;
