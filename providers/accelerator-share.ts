/**
 * `AcceleratorShare`: an FPGA in one host used by another host through their DPUs. It is
 * created on the source host's DPU port naming the consumer DPU by serial, with the
 * consumer's consent asked for on the consumer's own port just before (an existing share
 * is adopted without one); the consumer then presents an `fpga` host device. An accelerator has one consumer at a time, so a
 * new consumer replaces the share with the old one deleted first.
 */
import type { AcceleratorShareInputs } from "../schemas/generated/accelerator-share-inputs";
import { connect, targetLabel } from "./common/dpu";
import { defineKind, movedTargets } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { consentOf, createMember, memberLifecycle, readMember, type LiveMember, type PeerCredentials } from "./common/members";

/** AcceleratorShare inputs: the kind schema's properties plus the source's account and the consumer's user name (the stack's password on both). */
export interface AcceleratorShareArgs extends AcceleratorShareInputs, PeerCredentials {}

/** AcceleratorShare outputs: the inputs plus where the consumer host sees the device. */
export interface AcceleratorShareOutputs extends AcceleratorShareArgs {
  /** The member URI on the source DPU's port. */
  uri: string;
  /** PCI address of the fpga device on the consumer host. */
  hostPciAddress: string;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<AcceleratorShareArgs, AcceleratorShareOutputs>({
  kind: "AcceleratorShare",
  outputOnly: ["uri", "hostPciAddress"],
  credentials: ["username", "password"],
  replaces: (changed, olds, news) => [
    ...movedTargets(changed, olds, news, ["source", "consumer"]),
    ...changed.filter((k) => ["name", "sourceHost", "accelerator"].includes(k)),
  ],
  // One consumer at a time: the old share must end before the new one starts.
  deleteBeforeReplace: () => true,
  describe: (inputs) => `${inputs.name} (${inputs.sourceHost}/${inputs.accelerator} to ${targetLabel(inputs.consumer)})`,
  validate(inputs) {
    return inputs.consumer.host === inputs.sourceHost
      ? [{ property: "consumer", reason: `the consumer must be a DPU in another host than ${inputs.sourceHost}` }]
      : [];
  },
  ...memberLifecycle<AcceleratorShareArgs, AcceleratorShareOutputs>({
    home: (inputs) => inputs.source,
    id: (inputs) => `${inputs.source.serial}/shares/${inputs.name}`,
    // The consumer's device shows in the standard view (a host PCIeFunction); the share itself only in the OEM one.
    oemOnly: "acceleratorShares",
    takeOver,
    outputsFrom,
  }),
});

/** Adopts the share of that name (same accelerator and consumer) or creates it. */
async function takeOver(inputs: AcceleratorShareArgs): Promise<AcceleratorShareOutputs> {
  const connection = await connect(inputs.source, inputs);
  const existing = await readMember(connection, "acceleratorShares", inputs.name);
  if (existing) {
    const consumer = (existing.body.Consumer as { Serial?: string } | undefined)?.Serial;
    if (existing.body.Accelerator !== inputs.accelerator || consumer !== inputs.consumer.serial) {
      throw new Error(
        `${connection.label} already holds a share '${inputs.name}' of ${String(existing.body.Accelerator)} to ${consumer}; remove it or rename this one`,
      );
    }
    return outputsFrom(inputs, existing);
  }
  // The consumer gives its consent on its own port, for exactly this share (new for every create).
  const consent = await consentOf(inputs.consumer, inputs, inputs.source, { Purpose: "AcceleratorShareConsumer", ResourceId: inputs.name, Accelerator: inputs.accelerator });
  const member = await createMember(
    connection,
    "acceleratorShares",
    { Id: inputs.name, Name: inputs.name, Accelerator: inputs.accelerator, Consumer: { Serial: inputs.consumer.serial }, ConsentToken: consent },
    `sharing ${inputs.accelerator} with ${targetLabel(inputs.consumer)}`,
  );
  return outputsFrom(inputs, member);
}

function outputsFrom(inputs: AcceleratorShareArgs, member: LiveMember): AcceleratorShareOutputs {
  return { ...inputs, uri: member.uri, hostPciAddress: String(member.body.HostPciAddress ?? "") };
}

/** An accelerator shared between hosts, as a Pulumi resource. */
export const AcceleratorShare = kindResource(implementation);
/** A declared AcceleratorShare resource. */
export type AcceleratorShare = InstanceType<typeof AcceleratorShare>;
