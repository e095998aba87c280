/**
 * `DpuService`: a service offloaded onto a DPU (NSX DFW, vSAN, firewall...), an
 * `Oem/SmartFleet/Services` member that reserves Arm cores and memory there. Version,
 * size and config change in place; a new type, name or DPU is a new service.
 */
import type { Service } from "../schemas/generated/common";
import type { DpuServiceInputs } from "../schemas/generated/dpu-service-inputs";
import { connect, targetLabel, type ManagementCredentials } from "./common/dpu";
import { defineKind, movedTargets, sameDpu } from "./common/kind";
import { kindResource } from "./common/kind-resource";
import { createOrAdopt, memberLifecycle, patchMember, readMemberAt, serviceFromBody, type LiveMember } from "./common/members";
import { readApplication } from "./common/standard-view";

/** DpuService inputs: the kind schema's properties plus the account credentials. */
export interface DpuServiceArgs extends DpuServiceInputs, ManagementCredentials {}

/** DpuService outputs: the inputs with the service as the DPU reports it. */
export interface DpuServiceOutputs extends DpuServiceArgs {
  /** The member URI on the management port. */
  uri: string;
  /** `Deploying`, `Enabled` or `Failed`, as last read. */
  state: string;
}

/** The implementation the lazy provider loads in the provider process. */
export const implementation = defineKind<DpuServiceArgs, DpuServiceOutputs>({
  kind: "DpuService",
  outputOnly: ["uri", "state"],
  credentials: ["username", "password"],
  replaces: (changed, olds, news) => [
    ...movedTargets(changed, olds, news, ["target"]),
    ...(changed.includes("name") ? ["name"] : []),
    ...(changed.includes("service") && olds.service?.type !== news.service.type ? ["service"] : []),
  ],
  // On the same DPU the old and new service would share its name and its cores.
  deleteBeforeReplace: (olds, news) => sameDpu(olds.target, news.target),
  describe: (inputs) => `${inputs.name} on ${targetLabel(inputs.target)}`,
  ...memberLifecycle<DpuServiceArgs, DpuServiceOutputs>({
    home: (inputs) => inputs.target,
    id: (inputs) => `${inputs.target.serial}/services/${inputs.name}`,
    takeOver,
    outputsFrom,
    converge: (connection, member, news) => patchMember(connection, member, desiredBody(news.service)),
  }),
  read: readService,
});

/**
 * A refresh: whether the service still runs, its version and state from its Application
 * when the port has the standard view; cores, memory and config (DMTF has no property for
 * them) from the OEM member when the port offers the OEM collection, else as last known.
 */
async function readService(_id: string, olds: DpuServiceOutputs): Promise<DpuServiceOutputs | undefined> {
  const connection = await connect(olds.target, olds);
  const app = await readApplication(connection, olds.name);
  const member = app === undefined || connection.where.oem.services ? await readMemberAt(connection, olds.uri) : undefined;
  if (app === undefined) return member ? outputsFrom(olds, member) : undefined;
  if (app === null) return undefined;
  const outs = member ? outputsFrom(olds, member) : { ...olds };
  return { ...outs, service: { ...outs.service, version: app.version ?? outs.service.version }, state: app.state };
}

/** Deploys the service, or adopts the one of that name the DPU already runs when it is of the same type. */
async function takeOver(inputs: DpuServiceArgs): Promise<DpuServiceOutputs> {
  const connection = await connect(inputs.target, inputs);
  const member = await createOrAdopt(
    connection,
    "services",
    { Id: inputs.name, Name: inputs.name, ServiceType: inputs.service.type, ...desiredBody(inputs.service) },
    `deploying ${inputs.service.type} '${inputs.name}'`,
    (existing) => {
      if (existing.body.ServiceType !== inputs.service.type) {
        throw new Error(`${connection.label} already runs a service '${inputs.name}' of type ${String(existing.body.ServiceType)}; remove it or rename this one`);
      }
      return patchMember(connection, existing, desiredBody(inputs.service));
    },
  );
  return outputsFrom(inputs, member);
}

function desiredBody(service: Service): Record<string, unknown> {
  return { Version: service.version, Cores: service.cores, MemoryGiB: service.memoryGiB, Config: service.config ?? {}, StorageGiB: service.storageGiB ?? null };
}

function outputsFrom(inputs: DpuServiceArgs, member: LiveMember): DpuServiceOutputs {
  const b = member.body;
  return {
    ...inputs,
    service: serviceFromBody(b),
    uri: member.uri,
    state: String(b.State ?? ""),
  };
}

/** A service on a DPU, as a Pulumi resource; devices it backs take its `name` output, so a replacement of the service replaces them too. */
export const DpuService = kindResource(implementation);
/** A declared DpuService resource. */
export type DpuService = InstanceType<typeof DpuService>;
