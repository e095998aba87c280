/**
 * Resources that live as members of an `Oem/SmartFleet` collection (services, host
 * devices, service pairs, accelerator shares). Their collection member `Id` is the name
 * the stack gives them, so a re-run (or a run after a crash between the POST and the
 * state write) finds and adopts what an earlier run created instead of duplicating it.
 */
import type { DpuTarget, Service } from "../../schemas/generated/common";
import { asRecord, fromRecentSnapshot, RedfishError } from "../redfish";
import { connect, findMember, followTask, oemCollection, targetLabel, type DpuConnection, type ManagementCredentials, type Resumable } from "./dpu";

/** The collections that hold named members. */
export type MemberCollection = "services" | "hostDevices" | "servicePairs" | "acceleratorShares";

/** A member as read from the port. */
export interface LiveMember {
  /** Its URI. */
  uri: string;
  /** Its body. */
  body: Record<string, unknown>;
  /** Its ETag when the port gave one (a later PATCH then needs no read first). */
  etag?: string;
}

/** The member named `id`, or undefined (from the port snapshot just taken, if any: see `fromRecentSnapshot`). */
export async function readMember(connection: DpuConnection, collection: MemberCollection, id: string): Promise<LiveMember | undefined> {
  const found = await fromRecentSnapshot(() => findMember(connection, oemCollection(connection, collection), id));
  return found ? { uri: found.uri, body: found.body, etag: found.etag } : undefined;
}

/** The member at `uri`, or undefined when the port answers 404 (deleted out of band); from a snapshot just taken, if any. */
export async function readMemberAt(connection: DpuConnection, uri: string): Promise<LiveMember | undefined> {
  try {
    const { body, etag } = await fromRecentSnapshot(() => connection.client.get<Record<string, unknown>>(uri));
    return { uri, body: asRecord(body), etag };
  } catch (error) {
    if (error instanceof RedfishError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * POSTs a new member and waits for it (201, or 202 + task); returns it as read back.
 * `resumable` keeps a cut-short task in state.
 */
export async function createMember(
  connection: DpuConnection,
  collection: MemberCollection,
  body: Record<string, unknown> & { Id: string },
  what: string,
  resumable?: Resumable,
): Promise<LiveMember> {
  const created = await connection.client.post(oemCollection(connection, collection), body);
  const task = created.status === 202 ? await followTask(connection, created.location, what, resumable) : undefined;
  // The 201 (directly, or as the task's result) carries the new member: no read back needed.
  const member = asMember(task ? task.result : created.body, body.Id) ?? (await readMember(connection, collection, body.Id));
  if (!member) throw new Error(`${what} on ${connection.label}: the port accepted it but does not list '${body.Id}'`);
  return member;
}

/**
 * Creates the member, or hands the one the port already has under that `Id` (an earlier
 * run created it and crashed before its state was written) to `adopt`. The POST goes first:
 * the port refuses a taken `Id` with `ResourceAlreadyExists`, so a fresh DPU (the usual
 * case) costs no read of the whole collection to find that nothing is there.
 */
export async function createOrAdopt(
  connection: DpuConnection,
  collection: MemberCollection,
  body: Record<string, unknown> & { Id: string },
  what: string,
  adopt: (existing: LiveMember) => Promise<LiveMember>,
): Promise<LiveMember> {
  try {
    return await createMember(connection, collection, body, what);
  } catch (error) {
    if (!(error instanceof RedfishError && error.status === 409 && error.is("ResourceAlreadyExists"))) throw error;
    // Taken by something else of that name (a service pair's side is an Application too): the port's answer stands.
    const existing = await readMember(connection, collection, body.Id);
    if (!existing) throw error;
    return adopt(existing);
  }
}

/** The credentials of a cross-DPU kind: its home DPU's account, and the user name on the other DPU (same password; the home user name when absent). */
export interface PeerCredentials extends ManagementCredentials {
  /** The account on the other DPU (a pair's secondary, a share's consumer): vendors differ in their factory user. */
  peerUsername?: string;
}

/** What another DPU consents to (the body of its `Oem/SmartFleet/Consents` POST, without the requester). */
export type ConsentRequest =
  | { Purpose: "ServicePairSecondary"; ResourceId: string; ServiceType: string; Cores: number; MemoryGiB: number }
  | { Purpose: "AcceleratorShareConsumer"; ResourceId: string; Accelerator: string };

/**
 * The consent of `peer` (a pair's secondary, a share's consumer) to the member `request`
 * describes, which the port of `requester` is about to create: asked on the peer's own
 * port with its credentials (its own user name, `peerUsername`; every claimed DPU has the
 * stack's management password).
 * Answers the token to send as `ConsentToken` with the create; it is bound to exactly
 * that request, short-lived and accepted once, so it is asked for right before the create.
 */
export async function consentOf(peer: DpuTarget, credentials: PeerCredentials, requester: DpuTarget, request: ConsentRequest): Promise<string> {
  const connection = await connect(peer, { username: credentials.peerUsername ?? credentials.username, password: credentials.password });
  // `Consents` sits next to the OEM collections under `Oem/SmartFleet` (the service root does not link it).
  const uri = oemCollection(connection, "servicePairs").replace(/\/[^/]+$/, "/Consents");
  let answer;
  try {
    answer = await connection.client.post(uri, { ...request, Requester: { Serial: requester.serial } });
  } catch (error) {
    throw new Error(`asking ${connection.label} to consent to ${request.Purpose} '${request.ResourceId}' of ${targetLabel(requester)}: ${(error as Error).message}`, { cause: error });
  }
  const token = asRecord(answer.body).Token;
  if (typeof token !== "string" || token === "") throw new Error(`${connection.label} answered the consent for '${request.ResourceId}' without a Token`);
  return token;
}

/** PATCHes only the properties of `wanted` that differ from the member; returns it as read back. */
export async function patchMember(connection: DpuConnection, member: LiveMember, wanted: Record<string, unknown>): Promise<LiveMember> {
  const patch: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(wanted)) {
    if (JSON.stringify(member.body[key]) !== JSON.stringify(value)) patch[key] = value;
  }
  if (Object.keys(patch).length === 0) return member;
  const answer = await connection.client.patch(member.uri, patch, member.etag);
  // A port that answers the PATCH with the resource (200) needs no read back; one that answers 204 does.
  const updated = asRecord(answer.body);
  if (updated["@odata.id"] === member.uri) return { uri: member.uri, body: updated, etag: answer.etag };
  return (await readMemberAt(connection, member.uri)) ?? member;
}

/** `value` as the member `id` when it is one (a body with that `Id` and its `@odata.id`). */
function asMember(value: unknown, id: string): LiveMember | undefined {
  const body = asRecord(value);
  const uri = body["@odata.id"];
  if (body.Id !== id || typeof uri !== "string") return undefined;
  return { uri, body, etag: typeof body["@odata.etag"] === "string" ? body["@odata.etag"] : undefined };
}

/** The service a service or service-pair member reports (ServiceType, Version, Cores, MemoryGiB, Config). */
export function serviceFromBody(b: Record<string, unknown>): Service {
  return {
    type: b.ServiceType as Service["type"],
    version: String(b.Version),
    cores: Number(b.Cores),
    memoryGiB: Number(b.MemoryGiB),
    config: (b.Config as Record<string, unknown>) ?? {},
    ...(typeof b.StorageGiB === "number" ? { storageGiB: b.StorageGiB } : {}),
  };
}

/** What a kind whose resource is one member on one DPU's port supplies to `memberLifecycle`. */
export interface MemberKind<I extends ManagementCredentials, O extends I & { uri: string }> {
  /** The DPU whose port holds the member. */
  home(inputs: I): DpuTarget;
  /** The resource id, `<serial>/<collection>/<name>`. */
  id(inputs: I): string;
  /** Adopts the member of that name when it matches, else creates it. */
  takeOver(inputs: I): Promise<O>;
  /** The outputs from the live member. */
  outputsFrom(inputs: I, member: LiveMember): O;
  /** Converges the live member to the new inputs (absent: nothing of it changes in place). */
  converge?(connection: DpuConnection, member: LiveMember, news: I): Promise<LiveMember>;
  /** False when the member belongs to another resource, which removes it. */
  owns?(olds: O): boolean;
  /**
   * The OEM collection the member lives in, when no standard resource shows it: a refresh
   * of a port that does not offer that collection (a BMC without our OEM view) cannot tell
   * whether the member is there and keeps it as last known instead of calling it deleted.
   */
  oemOnly?: MemberCollection;
}

/**
 * Create, read, update and delete of a member resource: create adopts or creates; read
 * follows the member's URI (gone means deleted out of band); update converges in place or,
 * when the member is gone, takes it over again; delete removes it from its DPU's port.
 */
export function memberLifecycle<I extends ManagementCredentials, O extends I & { uri: string }>(kind: MemberKind<I, O>) {
  return {
    async create(inputs: I): Promise<{ id: string; outs: O }> {
      return { id: kind.id(inputs), outs: await kind.takeOver(inputs) };
    },
    async read(_id: string, olds: O): Promise<O | undefined> {
      const connection = await connect(kind.home(olds), olds);
      if (kind.oemOnly && !connection.where.oem[kind.oemOnly]) return olds;
      const member = await readMemberAt(connection, olds.uri);
      return member ? kind.outputsFrom(olds, member) : undefined;
    },
    async update(_id: string, olds: O, news: I): Promise<O> {
      const connection = await connect(kind.home(news), news);
      const member = await readMemberAt(connection, olds.uri);
      if (!member) return kind.takeOver(news);
      return kind.outputsFrom(news, kind.converge ? await kind.converge(connection, member, news) : member);
    },
    async delete(_id: string, olds: O): Promise<void> {
      if (kind.owns && !kind.owns(olds)) return;
      const connection = await connect(kind.home(olds), olds);
      await connection.client.delete(olds.uri);
    },
  };
}
