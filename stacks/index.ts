/**
 * The Pulumi program: reads the stack definition named in the configuration, loads and
 * checks it (schema errors and policy errors stop the run before anything is touched),
 * declares the fleet through the component classes, and exports a per-host summary.
 *
 * Configuration (`stacks/Pulumi.<stack>.yaml`):
 *   smartfleet:stackFile           stack definition (default stacks/<stack>.yaml)
 *   smartfleet:endpoints           endpoints file (an emulator's endpoints.json, or one for real BMCs);
 *                                  overrides the inventory's management addresses by DPU serial
 *   smartfleet:caFile              CA of the management ports (default: the endpoints file's caFile)
 *   smartfleet:managementPassword  secret: the password every claimed DPU account gets
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { EndpointsFile } from "../schemas/generated/endpoints";
import { checkStack } from "../policies/check";
import { renderText } from "../policies/report/text";
import { declareFleet, type DpuDeclaration, type FleetDeclaration, type ImageRef } from "../providers/components";
import { InputError } from "../schemas/diagnostics";
import { loadStackSync, type LoadedStack, type SmartNicModel } from "../model/load";

const config = new pulumi.Config("smartfleet");
/** Configured paths are relative to the project root (where Pulumi.yaml is), wherever the program runs from. */
const projectRoot = findProjectRoot(__dirname);
const stackFile = path.resolve(projectRoot, config.get("stackFile") ?? path.join("stacks", `${pulumi.getStack()}.yaml`));
const endpointsFile = config.get("endpoints") === undefined ? undefined : path.resolve(projectRoot, config.require("endpoints"));
const password = config.requireSecret("managementPassword");

const loaded = loadChecked(stackFile);
const fleet = declareFleet(toDeclaration(loaded, endpointsFile ? readEndpoints(endpointsFile) : new Map(), password));

/** Per host: power, host OS, DPUs (mode, privilege, OS version), services, host PCI addresses. */
export const hosts = pulumi.all(Object.fromEntries(Object.entries(fleet.hosts).map(([name, host]) => [name, host.summary()])));
/** Per service pair: the side serving and whether it is protected. */
export const servicePairs = pulumi.all(
  Object.fromEntries(
    Object.entries(fleet.servicePairs).map(([name, pair]) => [
      name,
      pulumi.all([pair.activeSide, pair.protected]).apply(([activeSide, isProtected]) => ({ activeSide, protected: isProtected })),
    ]),
  ),
);
/** Per accelerator share: the PCI address the consumer host sees. */
export const acceleratorShares = pulumi.all(Object.fromEntries(Object.entries(fleet.acceleratorShares).map(([name, share]) => [name, share.hostPciAddress])));

/** The nearest directory at or above `start` holding Pulumi.yaml (the working directory when there is none). */
function findProjectRoot(start: string): string {
  for (let dir = start, parent = ""; dir !== parent; parent = dir, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
  }
  return process.cwd();
}

/** Loads the stack and runs the policy rules; any error stops the program before a resource is declared. */
function loadChecked(file: string): LoadedStack {
  let stack: LoadedStack;
  try {
    stack = loadStackSync(file);
  } catch (error) {
    if (error instanceof InputError) throw new pulumi.RunError(`the stack definition is invalid:\n${error.message}`);
    throw error;
  }
  const report = checkStack(stack);
  const blocking = report.inputErrors.length > 0 || report.findings.some((f) => f.severity === "error");
  if (blocking) throw new pulumi.RunError(`the stack breaks policy rules; nothing was changed:\n${renderText([report])}`);
  for (const warning of report.findings) pulumi.log.warn(`${warning.ruleId} ${warning.ruleName}: ${warning.message}`);
  return stack;
}

/** The endpoints file's management URLs by DPU serial. */
function readEndpoints(file: string): Map<string, URL> {
  let parsed: EndpointsFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8")) as EndpointsFile;
  } catch (error) {
    throw new pulumi.RunError(`cannot read smartfleet:endpoints ${file}: ${(error as Error).message}`);
  }
  return new Map(parsed.dpus.map((d) => [d.serial, new URL(d.url)]));
}

/** Turns the loaded stack into the component classes' declaration. */
function toDeclaration(stack: LoadedStack, endpoints: Map<string, URL>, managementPassword: pulumi.Output<string>): FleetDeclaration {
  const nics = new Map(stack.smartnics.map((n) => [n.id, n]));
  const imageRef = (image: { name: string; version: string; uri: string; sha256: string } | undefined): ImageRef | undefined =>
    image ? { image: image.name, version: image.version, uri: image.uri, sha256: image.sha256 } : undefined;
  const dpu = (nic: SmartNicModel): DpuDeclaration => {
    const routed = endpoints.get(nic.hardware.serial);
    const spec = nic.spec;
    const os = imageRef(nic.osImage);
    return {
      name: nic.name,
      target: {
        host: nic.host,
        smartnic: nic.name,
        serial: nic.hardware.serial,
        address: routed?.hostname ?? nic.hardware.management.address,
        port: routed ? Number(routed.port || 443) : (nic.hardware.management.port ?? 8443),
      },
      hardware: { vendor: nic.hardware.vendor, model: nic.hardware.model, slot: nic.hardware.slot, armCores: nic.hardware.armCores, memoryGiB: nic.hardware.memoryGiB },
      username: nic.hardware.factoryCredentials.username,
      factoryPassword: pulumi.secret(nic.hardware.factoryCredentials.password),
      mode: spec.mode,
      hostPrivilege: spec.hostPrivilege,
      factoryMode: nic.hardware.factoryState?.mode ?? "dpu",
      ...(spec.firmware ? { firmware: spec.firmware } : {}),
      ...(os && spec.os ? { os: { ...os, hostname: spec.os.hostname, ntp: spec.os.ntp, cluster: spec.os.cluster } } : {}),
      services: Object.fromEntries(nic.services.map((s) => [s.name, s.spec])),
      devices: Object.fromEntries(
        nic.devices.map((d) => [
          d.name,
          { kind: d.spec.kind, function: d.spec.function, backingService: d.spec.backing?.service, backingAccelerator: d.spec.backing?.accelerator },
        ]),
      ),
    };
  };
  return {
    hosts: stack.hosts.map((host) => {
      const os = imageRef(host.osImage);
      return {
        name: host.name,
        serial: host.hardware.serial,
        hardware: { vendor: host.hardware.vendor, model: host.hardware.model, cpus: host.hardware.cpus, memoryGiB: host.hardware.memoryGiB },
        smartnics: host.smartnics.map((id) => dpu(nics.get(id) as SmartNicModel)),
        ...(os && host.spec.os ? { os: { ...os, installVia: host.spec.os.installVia } } : {}),
      };
    }),
    servicePairs: Object.fromEntries(stack.servicePairs.map((p) => [p.name, { service: p.spec.service, primary: p.primary, secondary: p.secondary }])),
    acceleratorShares: Object.fromEntries(
      stack.acceleratorShares.map((s) => [
        s.name,
        { sourceHost: s.sourceHost, accelerator: s.accelerator.name, acceleratorModel: s.accelerator.model, exporter: s.exporter, consumer: s.consumer },
      ]),
    ),
    password: managementPassword,
    allowHostPowerCycle: stack.stack.maintenance.allowHostPowerCycle,
  };
}
