/**
 * `HostDevice`: a virtual PCIe function a DPU presents to its host (`vnic`, `nvme`,
 * `virtio-blk`, `fpga`), an `Oem/SmartFleet/HostDevices` member. Its output is the
 * host-side PCI address. An `fpga` device is created by the accelerator share that
 * backs it; this resource then only takes it under watch (and releases nothing).
 */
import type { HostDeviceInputs } from "../schemas/generated/host-device-inputs";
import { asRecord } from "./redfish";
import { connect, oemCollection, targetLabel, type DpuConnection, type ManagementCredentials } from "./common/dpu";
import { defineKind, movedTargets, sameDpu, UNKNOWN_VALUE } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { createOrAdopt, memberLifecycle, patchMember, readMemberAt, type LiveMember } from "./common/members";
import { readStandardDevice } from "./common/standard-view";

/** HostDevice inputs: the kind schema's properties plus the account credentials. */
export interface HostDeviceArgs extends HostDeviceInputs, ManagementCredentials {}

/** HostDevice outputs: the inputs plus where the host sees the device. */
export interface HostDeviceOutputs extends HostDeviceArgs {
  /** The member URI on the management port. */
  uri: string;
  /** The PCI address on the host, e.g. `0000:3b:00.2`. */
  hostPciAddress: string;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<HostDeviceArgs, HostDeviceOutputs>({
  kind: "HostDevice",
  outputOnly: ["uri", "hostPciAddress"],
  credentials: ["username", "password"],
  replaces: (changed, olds, news) => [
    ...movedTargets(changed, olds, news, ["target"]),
    // A block device's capacity is fixed when it is presented: another size is another device.
    ...changed.filter((k) => ["name", "kind", "function", "backingAccelerator", "sizeGiB"].includes(k)),
    // Unknown only while the backing service is replaced delete-before-replace: the port
    // refuses to delete a service that backs a device, so the device goes first and comes back after.
    ...(changed.includes("backingService") && news.backingService === UNKNOWN_VALUE ? ["backingService"] : []),
  ],
  // On the same DPU the old and new device would share a name.
  deleteBeforeReplace: (olds, news) => sameDpu(olds.target, news.target),
  describe: (inputs) => `${inputs.name} on ${targetLabel(inputs.target)}`,
  validate(inputs) {
    if (inputs.kind === "fpga" && !inputs.backingAccelerator) {
      return [{ property: "backingAccelerator", reason: "an fpga device is presented by an accelerator share: name it in backingAccelerator" }];
    }
    if (inputs.kind !== "fpga" && inputs.backingAccelerator) {
      return [{ property: "backingAccelerator", reason: `only fpga devices are backed by an accelerator share, this one is ${inputs.kind}` }];
    }
    if (inputs.sizeGiB !== undefined && inputs.kind !== "nvme" && inputs.kind !== "virtio-blk") {
      return [{ property: "sizeGiB", reason: `only nvme and virtio-blk devices have a size, this one is ${inputs.kind}` }];
    }
    return [];
  },
  ...memberLifecycle<HostDeviceArgs, HostDeviceOutputs>({
    home: (inputs) => inputs.target,
    id: (inputs) => `${inputs.target.serial}/devices/${inputs.name}`,
    takeOver,
    outputsFrom,
    // An fpga device is its share's: nothing of it changes in place, and it goes away with the share.
    converge: async (connection, member, news) => (news.kind === "fpga" ? member : patchMember(connection, member, { BackingService: news.backingService ?? null })),
    owns: (olds) => olds.kind !== "fpga",
  }),
  read: readDevice,
});

/**
 * A refresh: whether the device is still presented, and its host address, from the
 * standard view (NetworkDeviceFunction, Volume, the host's PCIeFunction) when the port
 * has it; the backing service (DMTF has no link for it) from the OEM member when the port
 * offers the OEM collection, else as last known.
 */
async function readDevice(_id: string, olds: HostDeviceOutputs): Promise<HostDeviceOutputs | undefined> {
  const connection = await connect(olds.target, olds);
  const id = decodeURIComponent(olds.uri.split("/").pop() ?? olds.name);
  const standard = await readStandardDevice(connection, id, olds.kind);
  const member = standard === undefined || connection.where.oem.hostDevices ? await readMemberAt(connection, olds.uri) : undefined;
  if (standard === undefined) return member ? outputsFrom(olds, member) : undefined;
  if (standard === null) return undefined;
  const outs = member ? outputsFrom(olds, member) : { ...olds };
  return withLiveSize({ ...outs, hostPciAddress: standard.hostPciAddress || outs.hostPciAddress }, standard.sizeGiB);
}

/** Adopts the device of that name (same kind and function) or creates it; fpga devices are found by their share. */
async function takeOver(inputs: HostDeviceArgs): Promise<HostDeviceOutputs> {
  const connection = await connect(inputs.target, inputs);
  if (inputs.kind === "fpga") return outputsFrom(inputs, await sharedFpga(connection, inputs.backingAccelerator ?? ""));
  const member = await createOrAdopt(
    connection,
    "hostDevices",
    {
      Id: inputs.name,
      Name: inputs.name,
      Kind: inputs.kind,
      Function: inputs.function,
      ...(inputs.sizeGiB !== undefined ? { SizeGiB: inputs.sizeGiB } : {}),
      ...(inputs.backingService ? { BackingService: inputs.backingService } : {}),
    },
    `presenting ${inputs.kind} '${inputs.name}'`,
    (existing) => {
      if (existing.body.Kind !== inputs.kind || existing.body.Function !== inputs.function) {
        throw new Error(
          `${connection.label} already presents a device '${inputs.name}' as ${String(existing.body.Kind)}/${String(existing.body.Function)}; remove it or rename this one`,
        );
      }
      // A device presented without a size (before sizes existed) is adopted as it is; one of another size is not this device.
      if (typeof existing.body.SizeGiB === "number" && inputs.sizeGiB !== undefined && existing.body.SizeGiB !== inputs.sizeGiB) {
        throw new Error(`${connection.label} already presents a ${inputs.kind} device '${inputs.name}' of ${existing.body.SizeGiB} GiB, not ${inputs.sizeGiB} GiB; remove it or rename this one`);
      }
      return patchMember(connection, existing, { BackingService: inputs.backingService ?? null });
    },
  );
  return outputsFrom(inputs, member);
}

/** The fpga device an accelerator share named `share` created on this DPU (its Id ends with the share's). */
async function sharedFpga(connection: DpuConnection, share: string): Promise<LiveMember> {
  const members = await connection.client.getCollection<Record<string, unknown>>(oemCollection(connection, "hostDevices"));
  const hit = members.find((m) => asRecord(m.body).Kind === "fpga" && String(asRecord(m.body).Id ?? "").endsWith(`-${share}`));
  if (!hit) throw new Error(`${connection.label} presents no fpga device from the accelerator share '${share}'; the share must exist first`);
  return { uri: hit.uri, body: asRecord(hit.body) };
}

function outputsFrom(inputs: HostDeviceArgs, member: LiveMember): HostDeviceOutputs {
  const b = member.body;
  const outs: HostDeviceOutputs = { ...inputs, uri: member.uri, hostPciAddress: String(b.HostPciAddress ?? "") };
  if (inputs.kind !== "fpga") {
    // Live backing under the input name, so a refresh shows drift.
    if (typeof b.BackingService === "string") outs.backingService = b.BackingService;
    else delete outs.backingService;
  }
  return withLiveSize(outs, typeof b.SizeGiB === "number" ? b.SizeGiB : null);
}

/** The live capacity under the input name, so a refresh shows drift; a port that reports none leaves the declared one. */
function withLiveSize(outs: HostDeviceOutputs, live: number | null): HostDeviceOutputs {
  return live === null ? outs : { ...outs, sizeGiB: live };
}

/** A device a DPU presents to its host, as a Pulumi resource. */
export const HostDevice = kindResource(implementation);
/** A declared HostDevice resource. */
export type HostDevice = InstanceType<typeof HostDevice>;
