/**
 * The tasks a port is running now, from its TaskService: what a run that died may have left
 * going (a reboot, an OS install), which no state remembers once its pending operation is
 * cleared.
 */
import type { RedfishClient } from "./client";
import { asRecord, linkOf } from "./odata";

/** Task states of work not over yet (DMTF `TaskState`). */
const UNFINISHED = new Set(["New", "Starting", "Running", "Pending", "Stopping", "Cancelling", "Suspended", "Interrupted", "Service"]);

/** The URIs of the port's unfinished tasks; undefined when it has no task service to ask. */
export async function unfinishedTasks(client: RedfishClient): Promise<string[] | undefined> {
  // The service root links the TaskService as `Tasks`.
  const taskService = linkOf((await client.serviceRoot()).Tasks);
  if (!taskService) return undefined;
  const tasks = linkOf(asRecord((await client.get<Record<string, unknown>>(taskService)).body).Tasks);
  if (!tasks) return undefined;
  const members = await client.getCollection<Record<string, unknown>>(tasks);
  return members.filter((m) => UNFINISHED.has(String(asRecord(m.body).TaskState))).map((m) => m.uri);
}
