/**
 * The management-port client: Redfish over HTTPS to each DPU's BMC.
 * `client.ts` (sessions, retries, tasks, claiming), `navigate.ts` (finding resources by
 * links), `inventory.ts` (reading a DPU), `pool.ts` (one client per port per process), `snapshot.ts` (one read per port for a
 * refresh).
 */

export * from "./errors";
export * from "./clock";
export * from "./client";
export { claimAccount } from "./accounts";
export { TaskFailedError, taskReference, type Task, type TaskState, type WaitOptions } from "./tasks";
export { asRecord, linkOf } from "./odata";
export * from "./navigate";
export * from "./inventory";
export * from "./pool";
export { duringReadPass, fromFreshSnapshot, fromRecentSnapshot } from "./snapshot";
