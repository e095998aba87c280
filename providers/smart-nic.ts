/**
 * `SmartNic`: a DPU taken under management. Claiming logs in with the factory password
 * and sets the stack's management password; converging sets mode and host privilege
 * through the DPU system's Bios settings. Host privilege needs a DPU reboot; a mode
 * change also needs a host power cycle, which is refused unless the stack allows it.
 */
import type { SmartNicInputs } from "../schemas/generated/smartnic-inputs";
import { claimAccount, fromFreshSnapshot, fromMode, fromPrivilege, fromRecentSnapshot, readDpu, releaseClient, type DpuFacts } from "./redfish";
import { clientForTarget, connect, endpointUrl, followTask, targetLabel, type DpuConnection, type ManagementCredentials } from "./common/dpu";
import { report } from "./common/progress";
import { RefusedChangeError } from "./common/errors";
import { defineKind, movedTargets } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { providerSettings } from "./common/settings";
import { finishInterruptedDisruption, holdForDisruption, rolloutOrLegacy } from "./rollout/hold";
import { classify, disruptsHost } from "../model/disruption";

/** SmartNic inputs: the kind schema's properties plus the account credentials. */
export interface SmartNicArgs extends SmartNicInputs, ManagementCredentials {
  /** The factory password from the inventory (a secret input too). */
  factoryPassword: string;
}

/** SmartNic outputs: the inputs with mode and host privilege as the DPU reports them. */
export interface SmartNicOutputs extends SmartNicArgs {
  /** Firmware versions the DPU reports. */
  firmwareVersions: { os: string | null; nic: string | null; bmc: string | null };
  /** `rotated` when this run changed the factory password, `already-claimed` when it was set before. */
  claim: "rotated" | "already-claimed";
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<SmartNicArgs, SmartNicOutputs>({
  kind: "SmartNic",
  outputOnly: ["firmwareVersions", "claim"],
  credentials: ["username", "password", "factoryPassword"],
  // Another serial is another piece of hardware; an address change is just a new route.
  replaces: (changed, olds, news) => movedTargets(changed, olds, news, ["target"]),
  deleteBeforeReplace: () => false,
  describe: (inputs) => targetLabel(inputs.target),
  refuseChange: (olds, news) =>
    olds.mode && olds.mode !== news.mode && !news.rollout?.allowHostPowerCycle
      ? `the DPU is in ${olds.mode} mode and the stack asks for ${news.mode} mode; a mode change reboots the DPU and power-cycles its host: set maintenance.allowHostPowerCycle: true in the stack to allow it`
      : undefined,
  async create(inputs) {
    // The pooled client makes the claim's logins and keeps its session for converging.
    // A DPU a create takes under management is usually fresh from the factory.
    const claim = await claimAccount(
      { url: endpointUrl(inputs.target), caPem: providerSettings().caPem, username: inputs.username },
      inputs.factoryPassword,
      inputs.password,
      { ...clientOptions(), factoryFirst: true },
      clientForTarget(inputs.target, inputs),
    );
    const outs = await converge(inputs);
    return { id: inputs.target.serial, outs: { ...outs, claim } };
  },
  async read(_id, olds) {
    const connection = await connect(olds.target, olds);
    return outputsFrom(olds, await readDpu(connection.client), olds.claim);
  },
  async update(_id, olds, news) {
    if (olds.password !== news.password || olds.username !== news.username) {
      // Rotating the management password: the old one logs in and sets the new one.
      await claimAccount(
        { url: endpointUrl(news.target), caPem: providerSettings().caPem, username: news.username },
        olds.password,
        news.password,
        clientOptions(),
        clientForTarget(news.target, news),
      );
    }
    return { ...(await converge(news)), claim: olds.claim };
  },
  async delete(_id, olds) {
    // Release: the DPU keeps its mode, privilege and the managed password (nothing is
    // rotated back to factory); only our sessions end.
    await releaseClient(endpointUrl(olds.target), olds.username);
  },
});

function clientOptions(): { callTimeoutMs: number; operationTimeoutMs: number; retries?: number; log: (line: string) => void } {
  const { callTimeoutMs, operationTimeoutMs, retries } = providerSettings();
  // The claim's own lines (a locked-out account, the wait) and its factory client's retries.
  return { callTimeoutMs, operationTimeoutMs, retries, log: (line) => report(line) };
}

/** Brings mode and host privilege to the inputs, then reads back what the DPU reports. */
async function converge(inputs: SmartNicArgs): Promise<SmartNicOutputs> {
  const connection = await connect(inputs.target, inputs);
  // What to change is decided on the snapshot connecting just took, if any; the result is read live.
  const facts = await fromRecentSnapshot(() => readDpu(connection.client));
  const modeChange = facts.mode !== inputs.mode;
  const privilegeChange = facts.hostPrivilege !== inputs.hostPrivilege;
  if (modeChange && !inputs.rollout?.allowHostPowerCycle) {
    throw new RefusedChangeError(
      `DPU ${connection.label} is in ${facts.mode ?? "an unknown"} mode and the stack asks for ${inputs.mode} mode; a mode change reboots the DPU and power-cycles its host`,
      "set maintenance.allowHostPowerCycle: true in the stack to allow it",
    );
  }
  const changes = [
    ...(modeChange ? [{ property: "mode", from: facts.mode, to: inputs.mode }] : []),
    ...(privilegeChange ? [{ property: "hostPrivilege", from: facts.hostPrivilege, to: inputs.hostPrivilege }] : []),
  ];
  const disruption = classify("SmartNic", "update", changes);
  if (disruptsHost(disruption)) {
    // A DPU reboot (and, for a mode change, a host power cycle): held to the host's rollout.
    await holdForDisruption(
      { connection, serial: inputs.target.serial, password: inputs.password, restartsDpu: true, reach: modeChange ? "host" : "dpu" },
      rolloutOrLegacy(inputs.rollout, inputs.target.host),
      `${modeChange ? `changing the mode of ${connection.label} to ${inputs.mode}` : `setting host privilege ${inputs.hostPrivilege} on ${connection.label}`} (${disruption})`,
      () => applyBiosSettings(connection, inputs, facts, modeChange),
    );
  } else if (modeChange || privilegeChange) {
    await applyBiosSettings(connection, inputs, facts, modeChange);
  } else if (inputs.rollout) {
    // Nothing to change, e.g. a killed run's reboot went through: its host may still be in maintenance.
    await finishInterruptedDisruption({ connection, serial: inputs.target.serial, password: inputs.password, restartsDpu: true, reach: "dpu" }, inputs.rollout, `setting mode ${inputs.mode}, host privilege ${inputs.hostPrivilege} on ${connection.label}`);
  }
  // Read back from one fresh snapshot: one request instead of one per resource.
  const after = modeChange || privilegeChange ? await fromFreshSnapshot(() => readDpu(connection.client)) : facts;
  if (after.mode !== inputs.mode || after.hostPrivilege !== inputs.hostPrivilege) {
    throw new Error(
      `DPU ${connection.label} reports mode ${after.mode} / host privilege ${after.hostPrivilege} after the change, expected ${inputs.mode} / ${inputs.hostPrivilege}`,
    );
  }
  if (inputs.firmware !== undefined && after.firmware.nic !== inputs.firmware) {
    throw new Error(
      `DPU ${connection.label} runs NIC firmware ${after.firmware.nic ?? "(unknown)"}, the stack asks for ${inputs.firmware}; update it with the vendor's tool or change the stack`,
    );
  }
  return outputsFrom(inputs, after, "already-claimed");
}

/** PATCHes the pending Bios settings, reboots the DPU, and power-cycles the host for a mode change. */
async function applyBiosSettings(connection: DpuConnection, inputs: SmartNicArgs, facts: DpuFacts, modeChange: boolean): Promise<void> {
  const { client, where, label } = connection;
  if (!where.biosSettings || !where.dpuReset) {
    throw new Error(`the management port of ${label} offers no Bios settings object or DPU reset action`);
  }
  await client.patch(
    where.biosSettings,
    { Attributes: { NicMode: fromMode(inputs.mode), HostPrivilegeLevel: fromPrivilege(inputs.hostPrivilege) } },
    facts.biosSettingsEtag,
  );
  report(`${label}: rebooting the DPU to apply mode ${inputs.mode}, host privilege ${inputs.hostPrivilege}`);
  const reboot = await client.post(where.dpuReset, { ResetType: "GracefulRestart" });
  await followTask(connection, reboot.location, "the DPU reboot");
  if (!modeChange) return;
  if (!where.hostReset) throw new Error(`the management port of ${label} offers no host reset action for the mode change`);
  report(`${label}: power-cycling the host to finish the mode change`);
  const cycle = await client.post(where.hostReset, { ResetType: facts.hostPowerState === "Off" ? "On" : "PowerCycle" });
  await followTask(connection, cycle.location, "the host power cycle");
}

function outputsFrom(inputs: SmartNicArgs, facts: DpuFacts, claim: SmartNicOutputs["claim"]): SmartNicOutputs {
  return {
    ...inputs,
    // Live values under the input names, so a refresh shows drift and the next up repairs it.
    mode: facts.mode ?? inputs.mode,
    hostPrivilege: facts.hostPrivilege ?? inputs.hostPrivilege,
    firmwareVersions: facts.firmware,
    claim,
  };
}

/** A DPU under management, as a Pulumi resource. */
export const SmartNic = kindResource(implementation);
/** A declared SmartNic resource. */
export type SmartNic = InstanceType<typeof SmartNic>;
