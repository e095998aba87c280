/**
 * Looking at the DPU of an orphan lease: a run that died (its process gone, or its runner
 * no longer renewing) may have left a reboot or an OS install running on that DPU, which
 * still takes the host down. Its slots stay held until the DPU's task list shows no task
 * running; a DPU that does not answer, or has no task service, keeps them (the store drops
 * orphans after the orphan limit).
 */
import { clientFor, outsideReadPass, unfinishedTasks } from "../redfish";
import { providerSettings } from "../common/settings";
import type { OrphanLease } from "./store";

/** True when the orphan's DPU answers with the stack's management password and runs no task. */
export async function orphanWorkOver(orphan: OrphanLease, password: string): Promise<boolean> {
  const settings = providerSettings();
  const client = clientFor(
    { url: orphan.dpu.url, caPem: settings.caPem, username: orphan.dpu.username, password },
    { callTimeoutMs: settings.callTimeoutMs, operationTimeoutMs: settings.operationTimeoutMs, retries: settings.retries },
  );
  try {
    const running = await outsideReadPass(() => unfinishedTasks(client));
    return running !== undefined && running.length === 0;
  } catch {
    return false;
  }
}
