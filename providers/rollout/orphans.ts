/**
 * Looking at the DPU of an orphan lease: a run that died (its process gone, or its runner
 * no longer renewing) may have left a reboot or an OS install running on that DPU, which
 * still takes the host down. Its slots stay held until the DPU's task list shows no task
 * running; a DPU that does not answer, or has no task service, keeps them (the store drops
 * orphans after the orphan limit).
 */
import { asRecord, clientFor, linkOf, outsideReadPass } from "../redfish";
import { providerSettings } from "../common/settings";
import type { OrphanLease } from "./store";

/** Task states of work not over yet (DMTF `TaskState`). */
const UNFINISHED = new Set(["New", "Starting", "Running", "Pending", "Stopping", "Cancelling", "Suspended", "Interrupted", "Service"]);

/** True when the orphan's DPU answers with the stack's management password and runs no task. */
export async function orphanWorkOver(orphan: OrphanLease, password: string): Promise<boolean> {
  const settings = providerSettings();
  const client = clientFor(
    { url: orphan.dpu.url, caPem: settings.caPem, username: orphan.dpu.username, password },
    { callTimeoutMs: settings.callTimeoutMs, operationTimeoutMs: settings.operationTimeoutMs, retries: settings.retries },
  );
  try {
    return await outsideReadPass(async () => {
      // The service root links the TaskService as `Tasks`.
      const taskService = linkOf((await client.serviceRoot()).Tasks);
      if (!taskService) return false;
      const tasks = linkOf(asRecord((await client.get<Record<string, unknown>>(taskService)).body).Tasks);
      if (!tasks) return false;
      const members = await client.getCollection<Record<string, unknown>>(tasks);
      return !members.some((m) => UNFINISHED.has(String(asRecord(m.body).TaskState)));
    });
  } catch {
    return false;
  }
}
