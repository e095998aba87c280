/**
 * The management-port client: Redfish over HTTPS to each DPU's BMC. The public barrel:
 * the rest of providers/ imports from here, so files inside may split without them noticing.
 * Layers, lowest first: `transport.ts`; `sessions.ts` (logging in) and `tasks.ts` (waiting
 * for tasks), both reached through narrow ports; `client.ts` (requests, retries, ETags,
 * errors); then `accounts.ts` (claiming), `navigate.ts` (finding resources by links),
 * `inventory.ts` (reading a DPU), `pool.ts` (one client per port per process),
 * `first-password.ts` (a read with the management password, else the factory one), with
 * `snapshot.ts` (one read per port for a refresh) used by the client; `certificates.ts`
 * (a port's HTTPS certificate rotated to the operator's CA, signing in `operator-ca.ts`).
 */

export * from "./errors";
export * from "./clock";
export * from "./client";
export { claimAccount, DEFAULT_LOCKOUT_WAIT_MS, type ClaimOptions } from "./accounts";
export { TaskFailedError, taskReference, type Task, type TaskState, type WaitOptions } from "./tasks";
export { asRecord, linkOf } from "./odata";
export * from "./navigate";
export * from "./inventory";
export * from "./pool";
export { withFirstAcceptedPassword, type PortAccount } from "./first-password";
export { unfinishedTasks } from "./task-list";
export * from "./certificates";
export { loadOperatorCa, OperatorCaError, type OperatorCa, type OperatorCaFiles } from "./operator-ca";
export { duringReadPass, fromFreshSnapshot, fromRecentSnapshot, outsideReadPass, writeGeneration } from "./snapshot";
