/**
 * Reaching one DPU's management port for a resource: the shared pooled client for its
 * address and account, with the DPU's serial checked once per process before anything
 * is changed (a re-cabled or re-addressed port must never be configured by mistake).
 */
import type { DpuTarget } from "../../schemas/generated/common";
import { asRecord, clientFor, ConnectionError, fromRecentSnapshot, locate, OperationTimeoutError, type Locations, type RedfishClient, type Task } from "../redfish";
import { UnfinishedOperationError } from "./errors";
import { report, taskProgress } from "./progress";
import { providerSettings } from "./settings";

/** The management account a resource logs in with. `password` is a secret input. */
export interface ManagementCredentials {
  /** Account user name (the DPU's factory account, which the SmartNic claim keeps). */
  username: string;
  /** The account's password: the stack's `smartfleet:managementPassword`. */
  password: string;
}

/**
 * Input properties that carry credentials: validated by the providers, not by the kind
 * schemas. `peerUsername` is the account on the other DPU of a cross-DPU kind (a pair's
 * secondary, a share's consumer), whose port gives its consent.
 */
export const CREDENTIAL_KEYS = ["username", "password", "factoryPassword", "peerUsername"] as const;

/** A connected DPU: its client and where everything is on its port. */
export interface DpuConnection {
  /** The pooled client. */
  client: RedfishClient;
  /** Resource locations, found by following links. */
  where: Locations;
  /** `host/smartnic`, for messages. */
  label: string;
}

const verified = new WeakSet<RedfishClient>();

/** The base URL of a target's management port. */
export function endpointUrl(target: Pick<DpuTarget, "address" | "port">): string {
  return `https://${target.address}:${target.port ?? 8443}`;
}

/** `host/smartnic (serial)` for messages. */
export function targetLabel(target: Pick<DpuTarget, "host" | "smartnic" | "serial">): string {
  return `${target.host}/${target.smartnic} (${target.serial})`;
}

/** The pooled client for `target` logged in as `credentials` (lazy: nothing is sent yet). */
export function clientForTarget(target: DpuTarget, credentials: ManagementCredentials): RedfishClient {
  const settings = providerSettings();
  return clientFor(
    { url: endpointUrl(target), caPem: settings.caPem, username: credentials.username, password: credentials.password },
    // The client is shared by every resource on the port: `report` finds the one whose call is running.
    { callTimeoutMs: settings.callTimeoutMs, operationTimeoutMs: settings.operationTimeoutMs, retries: settings.retries, log: (line) => report(line) },
  );
}

/**
 * Connects to the target's port, locates its resources and checks that the DPU there has
 * the serial the stack expects.
 */
export async function connect(target: DpuTarget, credentials: ManagementCredentials): Promise<DpuConnection> {
  const client = clientForTarget(target, credentials);
  const where = await locate(client);
  if (!verified.has(client)) {
    // The serial may come from the snapshot the walk just took: the same moment's port.
    const { body } = await fromRecentSnapshot(() => client.get<Record<string, unknown>>(where.dpuSystem));
    const serial = typeof asRecord(body).SerialNumber === "string" ? String(asRecord(body).SerialNumber).trim() : "";
    if (serial !== target.serial) {
      throw new Error(
        `the management port ${endpointUrl(target)} belongs to DPU serial '${serial}', not '${target.serial}' (${target.host}/${target.smartnic}); fix the inventory or the endpoints file`,
      );
    }
    verified.add(client);
  }
  return { client, where, label: targetLabel(target) };
}

/** The URI of an OEM collection, or a clear error when the port does not offer it. */
export function oemCollection(connection: DpuConnection, which: keyof Locations["oem"]): string {
  const uri = connection.where.oem[which];
  if (!uri) throw new Error(`the management port of ${connection.label} offers no Oem/SmartFleet ${which} collection`);
  return uri;
}

/** The member of `collection` whose `Id` is `id` (with its ETag), or undefined. */
export async function findMember(
  connection: DpuConnection,
  collection: string,
  id: string,
): Promise<{ uri: string; body: Record<string, unknown>; etag?: string } | undefined> {
  const members = await connection.client.getCollection<Record<string, unknown>>(collection);
  const hit = members.find((m) => asRecord(m.body).Id === id || m.uri.endsWith(`/${encodeURIComponent(id)}`));
  return hit ? { uri: hit.uri, body: asRecord(hit.body), etag: hit.etag } : undefined;
}

/** Where an unfinished operation is recorded so the next run resumes it. */
export interface Resumable {
  /** The id the resource has (or gets) in state. */
  id: string;
  /** The outputs to record; `pendingTask` is added. */
  properties: Record<string, unknown>;
}

/**
 * Follows a long operation (the `Location` of a 202, or a task URI kept from an earlier
 * run) to its end and returns the finished task (undefined when there was nothing to follow). When the wait is cut short (time budget spent, port gone) and
 * `resumable` is given, throws `UnfinishedOperationError` so the task URI lands in state
 * as `pendingTask` and the next run waits for the same task instead of starting another.
 * A task that ends in `Exception` fails with the port's own message.
 */
export async function followTask(connection: DpuConnection, location: string | undefined, what: string, resumable?: Resumable): Promise<Task | undefined> {
  if (!location) return undefined;
  try {
    const task = await connection.client.waitForTask(location, { onProgress: taskProgress(`${what} on ${connection.label}`) });
    // The last percent line may say 92 %: ports often end a task between two polls.
    report(`${what} on ${connection.label}: done`);
    return task;
  } catch (error) {
    const message = `${what} on ${connection.label}: ${(error as Error).message}`;
    if (resumable && (error instanceof OperationTimeoutError || error instanceof ConnectionError)) {
      throw new UnfinishedOperationError(`${message}; the task ${location} is kept and the next run resumes it`, resumable.id, {
        ...resumable.properties,
        pendingTask: location,
      }, error);
    }
    throw new Error(message, { cause: error });
  }
}

/** Waits for a task an earlier run left unfinished; true when it completed, false when it failed or is gone. */
export async function resumeTask(connection: DpuConnection, taskUri: string | null | undefined): Promise<boolean> {
  if (!taskUri) return false;
  try {
    await connection.client.waitForTask(taskUri, { onProgress: taskProgress(`the task ${taskUri} on ${connection.label}`) });
    return true;
  } catch (error) {
    if (error instanceof OperationTimeoutError || error instanceof ConnectionError) throw error;
    // Failed or forgotten by the port: converge from the live state instead.
    report(`${connection.label}: the task ${taskUri} left by an earlier run did not complete: ${(error as Error).message}`, { severity: "warning" });
    return false;
  }
}
