/**
 * Routes of the standard view (see `operating-system.ts` and `device-functions.ts`): all
 * read-only, since every write still goes through the `Oem/SmartFleet` resource the
 * standard one mirrors (PROTOCOL.md "Standard view").
 */
import { notFound } from "../service-error";
import * as dev from "./device-functions";
import * as os from "./operating-system";
import type { Body as Resource, ViewHandler as Handler, ViewRequest as RouteContext } from "./view";

const V1 = "/redfish/v1";

function ok(body: Resource | undefined, type: string, id: string): { status: number; body: Resource } {
  if (!body) throw notFound(type, id);
  return { status: 200, body };
}

/** `handler` when the path's segments name this port's resources (404 otherwise). */
function scoped(checks: Array<[param: string, expected: (c: RouteContext) => string, type: string]>, handler: Handler): Handler {
  return (c) => {
    for (const [param, expected, type] of checks) if (c.params[param] !== expected(c)) throw notFound(type, c.params[param]);
    return handler(c);
  };
}

const DPU_SYSTEM: [string, (c: RouteContext) => string, string] = ["system", (c) => c.ids.system, "ComputerSystem"];
const HOST_SYSTEM: [string, (c: RouteContext) => string, string] = ["system", () => "Host", "ComputerSystem"];
const PCIE_DEVICE: [string, (c: RouteContext) => string, string] = ["device", (c) => c.ids.adapter, "PCIeDevice"];
const CHASSIS: [string, (c: RouteContext) => string, string] = ["chassis", (c) => c.ids.chassis, "Chassis"];
const ADAPTER: [string, (c: RouteContext) => string, string] = ["adapter", (c) => c.ids.adapter, "NetworkAdapter"];
const STORAGE: [string, (c: RouteContext) => string, string] = ["storage", () => dev.BLOCK_STORAGE_ID, "Storage"];

/** A route: its path template and GET handler. */
export type StandardRoute = [template: string, handlers: { GET: Handler }];

/** The standard view's GET routes, for the port's router. */
export function standardRoutes(): StandardRoute[] {
  const get = (template: string, handler: Handler): StandardRoute => [template, { GET: handler }];
  return [
    get(`${V1}/Systems/{system}/OperatingSystem`, scoped([DPU_SYSTEM], (c) => ok(os.operatingSystem(c), "OperatingSystem", "OperatingSystem"))),
    get(`${V1}/Systems/{system}/OperatingSystem/Applications`, scoped([DPU_SYSTEM], (c) => ok(os.applications(c), "ApplicationCollection", "Applications"))),
    get(`${V1}/Systems/{system}/OperatingSystem/Applications/{id}`, scoped([DPU_SYSTEM], (c) => ok(os.application(c, c.params.id), "Application", c.params.id))),
    get(`${V1}/Systems/{system}/PCIeDevices/{device}`, scoped([HOST_SYSTEM, PCIE_DEVICE], (c) => ok(dev.hostPcieDevice(c), "PCIeDevice", c.params.device))),
    get(`${V1}/Systems/{system}/PCIeDevices/{device}/PCIeFunctions`, scoped([HOST_SYSTEM, PCIE_DEVICE], (c) => ok(dev.hostPcieFunctions(c), "PCIeFunctionCollection", "PCIeFunctions"))),
    get(`${V1}/Systems/{system}/PCIeDevices/{device}/PCIeFunctions/{id}`, scoped([HOST_SYSTEM, PCIE_DEVICE], (c) => ok(dev.hostPcieFunction(c, c.params.id), "PCIeFunction", c.params.id))),
    get(`${V1}/Chassis/{chassis}/NetworkAdapters/{adapter}/NetworkDeviceFunctions`, scoped([CHASSIS, ADAPTER], (c) => ok(dev.networkDeviceFunctions(c), "NetworkDeviceFunctionCollection", "NetworkDeviceFunctions"))),
    get(`${V1}/Chassis/{chassis}/NetworkAdapters/{adapter}/NetworkDeviceFunctions/{id}`, scoped([CHASSIS, ADAPTER], (c) => ok(dev.networkDeviceFunction(c, c.params.id), "NetworkDeviceFunction", c.params.id))),
    get(`${V1}/Storage`, () => ok(dev.storageCollection(), "StorageCollection", "Storage")),
    get(`${V1}/Storage/{storage}`, scoped([STORAGE], (c) => ok(dev.blockStorage(c), "Storage", c.params.storage))),
    get(`${V1}/Storage/{storage}/Volumes`, scoped([STORAGE], (c) => ok(dev.volumes(c), "VolumeCollection", "Volumes"))),
    get(`${V1}/Storage/{storage}/Volumes/{id}`, scoped([STORAGE], (c) => ok(dev.volume(c, c.params.id), "Volume", c.params.id))),
  ];
}
