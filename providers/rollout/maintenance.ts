/**
 * Taking a host into maintenance before it is disrupted and out again afterwards, as the
 * stack's `rollout.hostMaintenance` says: `redfish` through the OEM actions of the host
 * system on its DPU's port (`SmartFleetComputerSystem.EnterMaintenance` / `ExitMaintenance`,
 * each a task that lasts while the host's workloads are evacuated), `command` through the
 * operator's own commands (e.g. `govc host.maintenance.enter`), `none` not at all.
 */
import { spawn } from "node:child_process";
import type { HostMaintenance } from "../../schemas/generated/common";
import { asRecord, ConnectionError, RedfishError, TaskFailedError } from "../redfish";
import { followTask, type DpuConnection } from "../common/dpu";
import { providerSettings } from "../common/settings";

/** Enter or exit. */
export type MaintenanceStep = "enter" | "exit";

/**
 * A step that failed leaving the host as it was: the port refused the action (or was not
 * reached before it was sent), the task ended failed, the command exited with a code. Any
 * other failure (the connection lost after the action went out, a dead engine refusing the
 * task's polls, a command killed by a signal) leaves the host possibly on its way.
 */
export class MaintenanceRefusedError extends Error {}

/** Who is taken into maintenance. */
export interface MaintenanceHost {
  /** Host name (`SMARTFLEET_HOST`). */
  host: string;
  /** Host serial (`SMARTFLEET_SERIAL`). */
  hostSerial: string;
  /** The stack (`SMARTFLEET_STACK`). */
  stack: string;
  /** The rollout group (`SMARTFLEET_GROUP`). */
  group: string;
}

const ACTIONS = { enter: "EnterMaintenance", exit: "ExitMaintenance" } as const;

/** Runs one maintenance step for `host`; `connection` is a DPU in the host (for `redfish`). */
export async function maintenanceStep(policy: HostMaintenance, step: MaintenanceStep, host: MaintenanceHost, connection: DpuConnection): Promise<void> {
  if (policy.mode === "none") return;
  if (policy.mode === "command") {
    const command = step === "enter" ? policy.enter : policy.exit;
    if (!command) throw new Error(`rollout.hostMaintenance.mode is command but no ${step} command is set`);
    return runCommand(command, step, host);
  }
  return redfishStep(step, host, connection);
}

/** True when the port says the host is in maintenance (`Oem.SmartFleet.Maintenance`); undefined when it does not say. */
export async function hostInMaintenance(connection: DpuConnection): Promise<boolean | undefined> {
  const uri = connection.where.hostSystem;
  if (!uri) return undefined;
  const body = asRecord((await connection.client.get<Record<string, unknown>>(uri)).body);
  const value = asRecord(asRecord(body.Oem).SmartFleet).Maintenance;
  if (typeof value === "boolean") return value;
  if (typeof value === "string") return value !== "None" && value !== "Off" && value !== "";
  return undefined;
}

async function redfishStep(step: MaintenanceStep, host: MaintenanceHost, connection: DpuConnection): Promise<void> {
  const uri = connection.where.hostSystem;
  if (!uri) throw new MaintenanceRefusedError(`the management port of ${connection.label} does not expose host ${host.host}, so it cannot take it into maintenance`);
  const body = asRecord((await refusedOnError(connection.client.get<Record<string, unknown>>(uri))).body);
  const action = `SmartFleetComputerSystem.${ACTIONS[step]}`;
  const advertised = asRecord(asRecord(asRecord(body.Actions).Oem)[`#${action}`]).target;
  const target = typeof advertised === "string" ? advertised : `${uri}/Actions/Oem/${action}`;
  console.error(`smartfleet: host ${host.host}: ${step === "enter" ? "entering" : "leaving"} maintenance through ${connection.label}`);
  const started = await connection.client.post(target, {}).catch((error: unknown) => {
    // 409: the host is already on its way in, through another port.
    const answered = error instanceof RedfishError && error.status !== undefined && error.status !== 409;
    const neverSent = error instanceof ConnectionError && !error.requestMayHaveArrived;
    throw answered || neverSent ? new MaintenanceRefusedError((error as Error).message, { cause: error }) : error;
  });
  await followTask(connection, started.location, `${step === "enter" ? "entering" : "leaving"} maintenance of host ${host.host}`).catch((error: unknown) => {
    throw (error as Error).cause instanceof TaskFailedError ? new MaintenanceRefusedError((error as Error).message, { cause: error }) : error;
  });
}

/** A read before the action: whatever went wrong, nothing was asked of the host yet. */
async function refusedOnError<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    throw new MaintenanceRefusedError((error as Error).message, { cause: error });
  }
}

/** How much of a failed command's stderr a message quotes. */
const STDERR_TAIL = 400;

function runCommand(command: string, step: MaintenanceStep, host: MaintenanceHost): Promise<void> {
  const timeoutMs = providerSettings().operationTimeoutMs;
  console.error(`smartfleet: host ${host.host}: ${step} maintenance: ${command}`);
  return new Promise((resolve, reject) => {
    const child = spawn("sh", ["-c", command], {
      env: { ...process.env, SMARTFLEET_HOST: host.host, SMARTFLEET_SERIAL: host.hostSerial, SMARTFLEET_STACK: host.stack, SMARTFLEET_GROUP: host.group, SMARTFLEET_MAINTENANCE: step },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString("utf8")).slice(-4 * STDERR_TAIL);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new MaintenanceRefusedError(`host ${host.host}: the maintenance ${step} command could not run: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const tail = stderr.trim().slice(-STDERR_TAIL);
      const how = signal ? `was killed (${signal}${signal === "SIGKILL" ? `, after ${Math.round(timeoutMs / 1000)} s` : ""})` : `exited ${code}`;
      const message = `host ${host.host}: the maintenance ${step} command \`${command}\` ${how}${tail ? `: ${tail}` : " with no output on stderr"}`;
      // An exit code is the command's answer; a signal ended it without one.
      reject(signal ? new Error(message) : new MaintenanceRefusedError(message));
    });
  });
}
