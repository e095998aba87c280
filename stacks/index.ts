/**
 * The Pulumi program: loads the stack definition named in the configuration (schema and
 * policy errors stop the run before anything is touched), declares the fleet and exports
 * a per-host summary.
 *
 * Configuration (`stacks/Pulumi.<stack>.yaml`):
 *   smartfleet:stackFile           stack definition (default stacks/<stack>.yaml)
 *   smartfleet:endpoints           endpoints file (an emulator's endpoints.json, or one for real BMCs);
 *                                  overrides the inventory's management addresses by DPU serial
 *   smartfleet:caFile              CA of the management ports (default: the endpoints file's caFile)
 *   smartfleet:managementPassword  secret: the password every claimed DPU account gets
 *   smartfleet:shard               the part of a sharded stack (`shards:`) this stack holds: a shard or
 *                                  cross-shard (`smartfleet up` creates and sets these stacks)
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readEndpointsFile, routesOf } from "../model/endpoints";
import { loadStackSync } from "../model/load";
import { awaitGate, handedOverStack } from "../model/loaded-stack-handoff";
import type { StackReport } from "../policies/check";
import { InputError } from "../schemas/diagnostics";
import { packageRoot } from "../schemas/paths";
import { rememberSourcePositions } from "../providers/common/source-positions";
import { sdkDebugLogOff, stackTracesOffForRegistrations } from "../providers/declare";
import { declareStack } from "./fleet";

const config = new pulumi.Config("smartfleet");
/** Configured paths are relative to the project root (where Pulumi.yaml and package.json are). */
const root = packageRoot();
const stackFile = path.resolve(root, config.get("stackFile") ?? path.join("stacks", `${pulumi.getStack()}.yaml`));
const endpointsFile = config.get("endpoints");

sdkDebugLogOff();
rememberSourcePositions();

// `smartfleet up` of a sharded stack loads it once and hands it to every shard's program;
// a one-shard preview starts the program before the load is done and it waits here for it.
try {
  awaitGate();
} catch (error) {
  throw new pulumi.RunError(`not run: ${(error as Error).message}`);
}
const handedOver = handedOverStack(stackFile);
const fleet = declareStack(handedOver?.loaded ?? readInput("the stack definition", () => loadStackSync(stackFile)), {
  password: config.requireSecret("managementPassword"),
  shard: config.get("shard"),
  report: handedOver?.checked as StackReport | undefined,
  routes: endpointsFile ? readInput("smartfleet:endpoints", () => routesOf(readEndpointsFile(path.resolve(root, endpointsFile)))) : undefined,
});

stackTracesOffForRegistrations();

/** Per host: power, host OS, DPUs (mode, privilege, OS version), services, host PCI addresses. */
export const hosts = fleet.hosts;
/** Per service pair: the side serving and whether it is protected. */
export const servicePairs = fleet.servicePairs;
/** Per accelerator share: the PCI address the consumer host sees. */
export const acceleratorShares = fleet.acceleratorShares;

/** Runs a read of user input; an invalid file stops the program with every problem listed. */
function readInput<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof InputError) throw new pulumi.RunError(`${what} is invalid:\n${error.message}`);
    throw error;
  }
}
