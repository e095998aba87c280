/**
 * `ServicePair`: a service protected by fault tolerance across two DPUs, created on the
 * primary's port and naming the secondary by serial, with the secondary's consent asked
 * for on the secondary's own port just before (an existing pair is adopted without one;
 * a new secondary, size or type replaces the pair, so it is consented to anew). A failed primary makes the
 * secondary active and the pair unprotected; that shows as drift on refresh, and the
 * next update moves the active side back to the primary, which restores protection.
 */
import type { ServicePairInputs } from "../schemas/generated/service-pair-inputs";
import { connect, targetLabel } from "./common/dpu";
import { defineKind, movedTargets, sameDpu } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { report } from "./common/progress";
import { consentOf, createMember, memberLifecycle, patchMember, readMember, readMemberAt, serviceFromBody, type LiveMember, type PeerCredentials } from "./common/members";
import { readApplication } from "./common/standard-view";

/** ServicePair inputs: the kind schema's properties plus the primary's account and the secondary's user name (the stack's password on both). */
export interface ServicePairArgs extends ServicePairInputs, PeerCredentials {}

/** ServicePair outputs: the inputs plus which side serves and whether the pair is protected. */
export interface ServicePairOutputs extends ServicePairArgs {
  /** The member URI on the primary's port. */
  uri: string;
  /** `primary` or `secondary`: the side serving now. */
  activeSide: string;
  /** True when both sides run and the primary serves. */
  protected: boolean;
  /** `Deploying`, `Enabled` or `Failed`. */
  state: string;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<ServicePairArgs, ServicePairOutputs>({
  kind: "ServicePair",
  outputOnly: ["uri", "activeSide", "protected", "state"],
  credentials: ["username", "password"],
  replaces: (changed, olds, news) => [
    ...movedTargets(changed, olds, news, ["primary", "secondary"]),
    ...(changed.includes("name") ? ["name"] : []),
    // The port changes a pair's version and config in place, not its type or size.
    ...(changed.includes("service") &&
    (olds.service?.type !== news.service.type || olds.service?.cores !== news.service.cores || olds.service?.memoryGiB !== news.service.memoryGiB)
      ? ["service"]
      : []),
  ],
  // The same primary cannot hold two pairs of one name, and both sides reserve capacity.
  deleteBeforeReplace: (olds, news) => sameDpu(olds.primary, news.primary) || sameDpu(olds.secondary, news.secondary),
  drifted: (olds) => olds.activeSide !== "primary" || olds.protected === false,
  describe: (inputs) => `${inputs.name} (${targetLabel(inputs.primary)} + ${targetLabel(inputs.secondary)})`,
  validate(inputs) {
    return inputs.primary.serial === inputs.secondary.serial
      ? [{ property: "secondary", reason: "primary and secondary must be different DPUs" }]
      : [];
  },
  ...memberLifecycle<ServicePairArgs, ServicePairOutputs>({
    home: (inputs) => inputs.primary,
    id: (inputs) => `${inputs.primary.serial}/pairs/${inputs.name}`,
    takeOver,
    outputsFrom,
    converge,
  }),
  read: readPair,
});

/** Adopts the pair of that name (same type and secondary) or deploys it. */
async function takeOver(inputs: ServicePairArgs): Promise<ServicePairOutputs> {
  const connection = await connect(inputs.primary, inputs);
  const existing = await readMember(connection, "servicePairs", inputs.name);
  if (existing) {
    const secondary = (existing.body.Secondary as { Serial?: string } | undefined)?.Serial;
    if (existing.body.ServiceType !== inputs.service.type || secondary !== inputs.secondary.serial) {
      throw new Error(
        `${connection.label} already holds a pair '${inputs.name}' (${String(existing.body.ServiceType)} with secondary ${secondary}); remove it or rename this one`,
      );
    }
    return outputsFrom(inputs, await converge(connection, existing, inputs));
  }
  // The secondary gives its consent on its own port, for exactly this pair (new for every create).
  const consent = await consentOf(inputs.secondary, inputs, inputs.primary, {
    Purpose: "ServicePairSecondary",
    ResourceId: inputs.name,
    ServiceType: inputs.service.type,
    Cores: inputs.service.cores,
    MemoryGiB: inputs.service.memoryGiB,
  });
  const member = await createMember(
    connection,
    "servicePairs",
    {
      Id: inputs.name,
      Name: inputs.name,
      ServiceType: inputs.service.type,
      Version: inputs.service.version,
      Cores: inputs.service.cores,
      MemoryGiB: inputs.service.memoryGiB,
      Config: inputs.service.config ?? {},
      Secondary: { Serial: inputs.secondary.serial },
      ConsentToken: consent,
    },
    `deploying the ${inputs.service.type} pair '${inputs.name}'`,
  );
  return outputsFrom(inputs, member);
}

/** Version and config in place; the active side back to the primary (restores protection). */
async function converge(connection: Awaited<ReturnType<typeof connect>>, member: LiveMember, inputs: ServicePairArgs): Promise<LiveMember> {
  const wanted: Record<string, unknown> = { Version: inputs.service.version, Config: inputs.service.config ?? {} };
  if (member.body.ActiveSide !== "primary") {
    report(`pair ${inputs.name}: moving the active side back to the primary ${connection.label}`);
    wanted.ActiveSide = "primary";
  }
  return patchMember(connection, member, wanted);
}

/**
 * A refresh: whether the pair is still there, its version, state, active side and
 * protection from its Application on the primary's port (`Enabled` there: the primary
 * serves; `StandbySpare`: the secondary does; `Health: OK`: protected) when the port has
 * the standard view; the size, config and peer from the OEM member when the port offers
 * the OEM collection, else as last known. A port with neither keeps the pair as last known.
 */
async function readPair(_id: string, olds: ServicePairOutputs): Promise<ServicePairOutputs | undefined> {
  const connection = await connect(olds.primary, olds);
  const app = await readApplication(connection, olds.name);
  const oem = connection.where.oem.servicePairs !== undefined;
  const member = oem ? await readMemberAt(connection, olds.uri) : undefined;
  if (app === undefined) return member ? outputsFrom(olds, member) : oem ? undefined : olds;
  if (app === null) return undefined;
  const outs = member ? outputsFrom(olds, member) : { ...olds };
  const deployed = app.state === "Enabled";
  return {
    ...outs,
    service: { ...outs.service, version: app.version ?? outs.service.version },
    state: app.state,
    activeSide: deployed ? (app.standby ? "secondary" : "primary") : outs.activeSide,
    protected: deployed && app.healthy,
  };
}

function outputsFrom(inputs: ServicePairArgs, member: LiveMember): ServicePairOutputs {
  const b = member.body;
  return {
    ...inputs,
    service: serviceFromBody(b),
    uri: member.uri,
    activeSide: String(b.ActiveSide ?? ""),
    protected: b.Protected === true,
    state: String(b.State ?? ""),
  };
}

/** A fault-tolerant service across two DPUs, as a Pulumi resource. */
export const ServicePair = kindResource(implementation);
/** A declared ServicePair resource. */
export type ServicePair = InstanceType<typeof ServicePair>;
