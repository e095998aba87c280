/**
 * `Host`: a physical server claimed by serial through one of its DPUs. Taking it under
 * management checks that the DPU's port sees the expected host and powers it on;
 * releasing it clears any boot override left behind and leaves it running.
 */
import type { HostInputs } from "../schemas/generated/host-inputs";
import { connect, targetLabel, type ManagementCredentials } from "./common/dpu";
import { report } from "./common/progress";
import { readHostSystem, requireHostSerial, resetHost, type HostSystemFacts } from "./common/host-system";
import { defineKind } from "./common/kind";
import { kindResource } from "./common/kind-resource";

/** Host inputs: the kind schema's properties plus the credentials of the DPU it is reached through. */
export interface HostArgs extends HostInputs, ManagementCredentials {}

/** Host outputs: the inputs plus its power state and installed OS. */
export interface HostOutputs extends HostArgs {
  /** `On` or `Off`, as last read. */
  powerState: string;
  /** The OS installed through the DPU, or null. */
  installedOs: { image: string; version: string } | null;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<HostArgs, HostOutputs>({
  kind: "Host",
  outputOnly: ["powerState", "installedOs"],
  credentials: ["username", "password"],
  // The serial is the host; which DPU reaches it may change in place.
  replaces: (changed) => changed.filter((k) => k === "name" || k === "serial"),
  deleteBeforeReplace: () => false,
  drifted: (olds) => olds.powerState !== "On",
  describe: (inputs) => `${inputs.name} (${inputs.serial}) via ${targetLabel(inputs.via)}`,
  async create(inputs) {
    return { id: inputs.serial, outs: await converge(inputs) };
  },
  async read(_id, olds) {
    const connection = await connect(olds.via, olds);
    const facts = await readHostSystem(connection);
    requireHostSerial(connection, facts, olds.serial);
    return outputsFrom(olds, facts);
  },
  async update(_id, _olds, news) {
    return converge(news);
  },
  async delete(_id, olds) {
    const connection = await connect(olds.via, olds);
    const facts = await readHostSystem(connection);
    if (facts.boot.enabled !== "Disabled") {
      await connection.client.patch(facts.uri, { Boot: { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" } });
    }
  },
});

/** Checks the host's serial and powers it on when it is off. */
async function converge(inputs: HostArgs): Promise<HostOutputs> {
  const connection = await connect(inputs.via, inputs);
  let facts = await readHostSystem(connection);
  requireHostSerial(connection, facts, inputs.serial);
  if (facts.powerState !== "On") {
    report(`host ${inputs.name}: powering on through ${connection.label}`);
    await resetHost(connection, "On", `powering on host ${inputs.name}`);
    facts = await readHostSystem(connection);
  }
  return outputsFrom(inputs, facts);
}

function outputsFrom(inputs: HostArgs, facts: HostSystemFacts): HostOutputs {
  return { ...inputs, powerState: facts.powerState, installedOs: facts.os };
}

/** A server under management, as a Pulumi resource. */
export const Host = kindResource(implementation);
/** A declared Host resource. */
export type Host = InstanceType<typeof Host>;
