/**
 * The route table of a DPU management port: thin handlers that read the request,
 * call the simulation, and render resources. Authentication, ETags, errors and
 * bodies are the port server's job.
 */
import type { IncomingHttpHeaders } from "node:http";
import type { AccountState, ServiceState, TaskRecord } from "../model";
import { missing, notFound, notInList, ServiceError } from "../service-error";
import type { Simulation } from "../simulation";
import * as r from "./resources";
import type { MemberKind, RenderContext, Resource } from "./resources";
import { baseMessage } from "./registry";
import { Router, type Params } from "./router";
import { withBmc, managerRoutes } from "./manager";
import { logServiceRoutes } from "./log-service";
import { chassisRoutes, withPorts, withSubsystems } from "./chassis";
import { patchBoot, resetSystem as resetWithBoot, systemBootRoutes, withBoot } from "./system-boot";
import { certificateRoutes } from "./certificate-service";
import { eventServiceRoutes } from "./event-service";
import { standardRoutes } from "./standard-routes";

/** Everything a handler sees. */
export interface RouteContext extends RenderContext {
  /** Path parameters. */
  params: Params;
  /** Parsed JSON body (POST/PATCH), an object. */
  body: Record<string, unknown>;
  /** Query string. */
  query: URLSearchParams;
  /** Request headers. */
  headers: IncomingHttpHeaders;
  /** The authenticated account (undefined on open routes). */
  account: AccountState | undefined;
  /** The session the request came with, if any. */
  sessionId: string | undefined;
  /** The client's address (failed logins are counted per user name and address). */
  source?: string;
}

/** What a handler answers. */
export interface Reply {
  /** Status code. */
  status: number;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** JSON body (undefined for none). */
  body?: unknown;
  /**
   * The answer, when it is only ready later (an action whose work is asynchronous, such as
   * signing with the port's key): the port sends what it resolves to, or the error it
   * rejects with, instead of this reply.
   */
  later?: Promise<Reply>;
}

/** A route handler. */
export type Handler = (ctx: RouteContext) => Reply;

/** Paths answered without authentication. */
export const OPEN_PATHS = new Set(["/redfish", "/redfish/v1", "/redfish/v1/$metadata", "/redfish/v1/odata"]);

const V1 = "/redfish/v1";
const OEM = `${V1}/Oem/SmartFleet`;

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function found(body: Resource | undefined, type: string, id: string): Reply {
  if (!body) throw notFound(type, id);
  return ok(body);
}

function noContent(): Reply {
  return { status: 204 };
}

/** 202 with the task monitor, body the task. */
export function accepted(ctx: RenderContext, t: TaskRecord): Reply {
  return { status: 202, headers: { Location: `${V1}/TaskService/TaskMonitors/${t.id}` }, body: r.task(ctx, t) };
}

/** 201 with Location, body the resource. */
function created(uri: string, body: Resource | undefined): Reply {
  return { status: 201, headers: { Location: uri }, body };
}

function requireSystem(ctx: RouteContext): "dpu" | "host" {
  if (ctx.params.system === ctx.ids.system) return "dpu";
  if (ctx.params.system === "Host") return "host";
  throw notFound("ComputerSystem", ctx.params.system);
}

function requireId(ctx: RouteContext, key: string, expected: string, type: string): void {
  if (ctx.params[key] !== expected) throw notFound(type, ctx.params[key]);
}

/** Allows only the listed body properties (400 PropertyUnknown otherwise). */
function onlyProperties(body: Record<string, unknown>, allowed: string[], readOnly: string[] = []): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith("@")) continue;
    if (readOnly.includes(key)) throw new ServiceError(400, "PropertyNotWritable", [key], `${key} is read-only`);
    if (!allowed.includes(key)) throw new ServiceError(400, "PropertyUnknown", [key], `${key} cannot be set here; writable: ${allowed.join(", ")}`);
  }
}

function actionParameter(body: Record<string, unknown>, action: string, name: string): unknown {
  if (body[name] === undefined) throw new ServiceError(400, "ActionParameterMissing", [action, name], `${action} needs ${name}`);
  return body[name];
}

function biosValue<T extends string>(attrs: Record<string, unknown>, name: string, map: Record<string, T>): T | undefined {
  const v = attrs[name];
  if (v === undefined) return undefined;
  const mapped = typeof v === "string" ? map[v] : undefined;
  if (!mapped) throw notInList(`Attributes/${name}`, v, Object.keys(map));
  return mapped;
}

/** A path segment a route checks against this port's ids (404 otherwise): the parameter, its expected value, the type a 404 names. */
type Scope = [key: string, expected: (c: RouteContext) => string, type: string];

const MANAGER: Scope = ["manager", (c) => c.ids.manager, "Manager"];
const CD: Scope = ["media", () => "CD", "VirtualMedia"];
const CHASSIS: Scope = ["chassis", (c) => c.ids.chassis, "Chassis"];
const ADAPTER: Scope = ["adapter", (c) => c.ids.adapter, "NetworkAdapter"];

/** `handler` behind the checks of its path's segments. */
function within(scopes: Scope[], handler: Handler): Handler {
  return (c) => {
    for (const [key, expected, type] of scopes) requireId(c, key, expected(c), type);
    return handler(c);
  };
}

/** `handler` on the DPU's Arm system only; the host has no such resource (404 names `type`/`id`). */
function dpuOnly(type: string, id: string, handler: Handler, also: (c: RouteContext) => boolean = () => true): Handler {
  return (c) => {
    if (requireSystem(c) !== "dpu" || !also(c)) throw notFound(type, id);
    return handler(c);
  };
}

const nvidia = (c: RouteContext): boolean => c.ids.manufacturer === "Nvidia";

/** The PATCH of a member: properties it may and may not set, and the change itself. */
interface MemberPatch {
  writable: string[];
  readOnly: string[];
  apply(c: RouteContext): void;
}

/** GET of a member of a list, with its PATCH (answering the member as it now is) and DELETE where given. */
function memberRoutes<T extends { id: string }>(kind: MemberKind<T>, ops: { patch?: MemberPatch; remove?: (c: RouteContext) => void }): Partial<Record<"GET" | "PATCH" | "DELETE", Handler>> {
  const handlers: Partial<Record<"GET" | "PATCH" | "DELETE", Handler>> = {
    GET: (c) => found(r.member(c, kind, c.params.id), kind.errorName, c.params.id),
  };
  const { patch, remove } = ops;
  if (patch) {
    handlers.PATCH = (c) => {
      onlyProperties(c.body, patch.writable, patch.readOnly);
      patch.apply(c);
      return ok(r.member(c, kind, c.params.id));
    };
  }
  if (remove) {
    handlers.DELETE = (c) => {
      remove(c);
      return noContent();
    };
  }
  return handlers;
}

/** 201 for a member created at once, body the member. */
function createdMember<T extends { id: string }>(c: RouteContext, kind: MemberKind<T>, id: string): Reply {
  return created(r.memberUri(kind, id), r.member(c, kind, id));
}

const { sessions, accounts, services, hostDevices, servicePairs, acceleratorShares } = r.MEMBERS;

/** Builds the route table. */
export function buildRouter(): Router<Handler> {
  const router = new Router<Handler>();
  router
    .on("/redfish", { GET: () => ok({ v1: `${V1}/` }) })
    .on(V1, { GET: (c) => ok(r.serviceRoot(c)) })

    // sessions and accounts
    .on(`${V1}/SessionService`, { GET: () => ok(r.sessionService()) })
    .on(sessions.collection, { GET: (c) => ok(r.members(c, sessions)), POST: (c) => login(c) })
    .on(`${sessions.collection}/{id}`, memberRoutes(sessions, { remove: (c) => c.sim.accounts.deleteSession(c.serial, c.params.id) }))
    .on(`${V1}/AccountService`, { GET: () => ok(r.accountService()) })
    .on(accounts.collection, {
      GET: (c) => ok(r.members(c, accounts)),
      POST: (c) => {
        onlyProperties(c.body, ["UserName", "Password", "RoleId", "Enabled"]);
        const a = c.sim.accounts.createAccount(c.serial, { userName: c.body.UserName, password: c.body.Password, roleId: c.body.RoleId, enabled: c.body.Enabled });
        return createdMember(c, accounts, a.id);
      },
    })
    .on(
      `${accounts.collection}/{id}`,
      memberRoutes(accounts, {
        patch: {
          writable: ["Password", "RoleId", "Enabled", "Locked"],
          readOnly: ["UserName", "Id", "PasswordChangeRequired", "AccountTypes"],
          apply: (c) => c.sim.accounts.patchAccount(c.serial, c.params.id, { password: c.body.Password, roleId: c.body.RoleId, enabled: c.body.Enabled, locked: c.body.Locked }, c.sessionId),
        },
        remove: (c) => c.sim.accounts.deleteAccount(c.serial, c.params.id),
      }),
    )
    .on(`${V1}/AccountService/Roles`, {
      GET: () => ok(r.collection(`${V1}/AccountService/Roles`, "RoleCollection", "Roles", Object.keys(r.ROLE_PRIVILEGES).map((id) => `${V1}/AccountService/Roles/${id}`))),
    })
    .on(`${V1}/AccountService/Roles/{id}`, { GET: (c) => found(r.role(c.params.id), "Role", c.params.id) })

    // systems
    .on(`${V1}/Systems`, {
      GET: (c) => ok(r.collection(`${V1}/Systems`, "ComputerSystemCollection", "Computer Systems", [`${V1}/Systems/${c.ids.system}`, `${V1}/Systems/Host`])),
    })
    .on(`${V1}/Systems/{system}`, { GET: (c) => ok(system(c)), PATCH: (c) => patchSystem(c) })
    .on(`${V1}/Systems/{system}/Actions/ComputerSystem.Reset`, { POST: (c) => resetWithBoot(c, (t) => accepted(c, t)) })
    .on(`${V1}/Systems/{system}/Actions/Oem/{action}`, { POST: (c) => hostMaintenance(c) })
    .on(`${V1}/Systems/{system}/Bios`, { GET: dpuOnly("Bios", "Host", (c) => ok(r.bios(c))) })
    .on(`${V1}/Systems/{system}/Bios/Settings`, {
      GET: dpuOnly("Bios", "Host", (c) => ok(r.biosSettings(c))),
      PATCH: dpuOnly("Bios", "Host", (c) => patchBiosSettings(c)),
    })
    .on(`${V1}/Systems/{system}/Oem/Nvidia`, { GET: dpuOnly("Oem", "Nvidia", (c) => ok(r.nvidiaSystemOem(c)), nvidia) })
    .on(`${V1}/Systems/{system}/Oem/Nvidia/Actions/Mode.Set`, { POST: dpuOnly("Oem", "Nvidia", (c) => setNvidiaMode(c), nvidia) })

    // managers and virtual media
    .on(`${V1}/Managers`, { GET: (c) => ok(r.collection(`${V1}/Managers`, "ManagerCollection", "Managers", [`${V1}/Managers/${c.ids.manager}`])) })
    .on(`${V1}/Managers/{manager}`, { GET: within([MANAGER], (c) => ok(withBmc(c, r.manager(c)))) })
    .on(`${V1}/Managers/{manager}/VirtualMedia`, {
      GET: within([MANAGER], (c) => ok(r.collection(`${V1}/Managers/${c.ids.manager}/VirtualMedia`, "VirtualMediaCollection", "Virtual Media", [`${V1}/Managers/${c.ids.manager}/VirtualMedia/CD`]))),
    })
    .on(`${V1}/Managers/{manager}/VirtualMedia/{media}`, { GET: within([MANAGER, CD], (c) => ok(r.virtualMedia(c))) })
    .on(`${V1}/Managers/{manager}/VirtualMedia/{media}/Actions/VirtualMedia.InsertMedia`, {
      POST: within([MANAGER, CD], (c) => {
        c.sim.hardware.insertMedia(c.serial, actionParameter(c.body, "VirtualMedia.InsertMedia", "Image"));
        return noContent();
      }),
    })
    .on(`${V1}/Managers/{manager}/VirtualMedia/{media}/Actions/VirtualMedia.EjectMedia`, {
      POST: within([MANAGER, CD], (c) => {
        c.sim.hardware.ejectMedia(c.serial);
        return noContent();
      }),
    })

    // chassis
    .on(`${V1}/Chassis`, { GET: (c) => ok(r.collection(`${V1}/Chassis`, "ChassisCollection", "Chassis", [`${V1}/Chassis/${c.ids.chassis}`])) })
    .on(`${V1}/Chassis/{chassis}`, { GET: within([CHASSIS], (c) => ok(withSubsystems(c, r.chassis(c)))) })
    .on(`${V1}/Chassis/{chassis}/NetworkAdapters`, {
      GET: within([CHASSIS], (c) => {
        const base = `${V1}/Chassis/${c.ids.chassis}/NetworkAdapters`;
        return ok(r.collection(base, "NetworkAdapterCollection", "Network Adapters", [`${base}/${c.ids.adapter}`]));
      }),
    })
    .on(`${V1}/Chassis/{chassis}/NetworkAdapters/{adapter}`, { GET: within([CHASSIS, ADAPTER], (c) => ok(withPorts(c, r.networkAdapter(c)))) })

    // updates and tasks
    .on(`${V1}/UpdateService`, { GET: (c) => ok(r.updateService(c)) })
    .on(`${V1}/UpdateService/FirmwareInventory`, {
      GET: (c) =>
        ok(r.collection(`${V1}/UpdateService/FirmwareInventory`, "SoftwareInventoryCollection", "Firmware Inventory", Object.values(c.ids.firmware).map((id) => `${V1}/UpdateService/FirmwareInventory/${id}`))),
    })
    .on(`${V1}/UpdateService/FirmwareInventory/{item}`, {
      GET: (c) => {
        const which = r.firmwareTarget(c, c.params.item);
        if (!which) throw notFound("SoftwareInventory", c.params.item);
        return ok(r.firmwareItem(c, which));
      },
    })
    .on(`${V1}/UpdateService/Actions/UpdateService.SimpleUpdate`, { POST: (c) => simpleUpdate(c) })
    .on(`${V1}/TaskService`, { GET: (c) => ok(r.taskService(c)) })
    .on(`${V1}/TaskService/Tasks`, {
      GET: (c) => ok(r.collection(`${V1}/TaskService/Tasks`, "TaskCollection", "Tasks", c.sim.tasksOf(c.serial).map((t) => `${V1}/TaskService/Tasks/${t.id}`))),
    })
    .on(`${V1}/TaskService/Tasks/{id}`, { GET: (c) => ok(r.task(c, c.sim.task(c.serial, c.params.id))) })
    .on(`${V1}/TaskService/TaskMonitors/{id}`, { GET: (c) => taskMonitor(c) })

    // Oem/SmartFleet
    .on(`${OEM}/DpuOs`, {
      GET: (c) => ok(r.dpuOs(c)),
      PATCH: (c) => {
        onlyProperties(c.body, ["Hostname", "NtpServers", "Cluster"], ["Image", "Version", "State", "Id", "Name"]);
        c.sim.hardware.patchDpuOs(c.serial, { hostname: c.body.Hostname, ntpServers: c.body.NtpServers, cluster: c.body.Cluster });
        return ok(r.dpuOs(c));
      },
    })
    .on(services.collection, {
      GET: (c) => ok(r.members(c, services)),
      POST: (c) => {
        onlyProperties(c.body, ["Id", "Name", "ServiceType", "Version", "Cores", "MemoryGiB", "Config", "StorageGiB"]);
        return accepted(c, c.sim.offloads.createService(c.serial, c.body).task);
      },
    })
    .on(
      `${services.collection}/{id}`,
      memberRoutes(services, {
        patch: { writable: ["Name", "Version", "Cores", "MemoryGiB", "Config", "StorageGiB"], readOnly: ["Id", "ServiceType", "State"], apply: (c) => c.sim.offloads.patchService(c.serial, c.params.id, c.body) },
        remove: (c) => c.sim.offloads.deleteService(c.serial, c.params.id),
      }),
    )
    .on(hostDevices.collection, {
      GET: (c) => ok(r.members(c, hostDevices)),
      POST: (c) => {
        onlyProperties(c.body, ["Id", "Name", "Kind", "Function", "BackingService", "SizeGiB"], ["HostPciAddress"]);
        return createdMember(c, hostDevices, c.sim.offloads.createHostDevice(c.serial, c.body).id);
      },
    })
    .on(
      `${hostDevices.collection}/{id}`,
      memberRoutes(hostDevices, {
        patch: { writable: ["Name", "BackingService"], readOnly: ["Id", "Kind", "Function", "HostPciAddress", "SizeGiB"], apply: (c) => c.sim.offloads.patchHostDevice(c.serial, c.params.id, c.body) },
        remove: (c) => c.sim.offloads.deleteHostDevice(c.serial, c.params.id),
      }),
    )
    .on(`${OEM}/Consents`, { POST: (c) => ok(r.consent(c, c.sim.offloads.grantConsent(c.serial, c.body))) })
    .on(servicePairs.collection, { GET: (c) => ok(r.members(c, servicePairs)), POST: (c) => createServicePair(c) })
    .on(
      `${servicePairs.collection}/{id}`,
      memberRoutes(servicePairs, {
        patch: {
          writable: ["Name", "Version", "Config", "ActiveSide"],
          readOnly: ["Id", "ServiceType", "Cores", "MemoryGiB", "Primary", "Secondary", "Protected", "State"],
          apply: (c) => c.sim.offloads.patchServicePair(c.serial, c.params.id, c.body),
        },
        remove: (c) => c.sim.offloads.deleteServicePair(c.serial, c.params.id),
      }),
    )
    .on(`${servicePairs.collection}/{id}/Actions/SmartFleetServicePair.SwitchOver`, {
      POST: (c) => {
        onlyActionParameters(c.body, "SmartFleetServicePair.SwitchOver", ["ActiveSide"]);
        c.sim.offloads.switchOver(c.serial, c.params.id, actionParameter(c.body, "SmartFleetServicePair.SwitchOver", "ActiveSide"));
        return ok(r.member(c, servicePairs, c.params.id));
      },
    })
    .on(acceleratorShares.collection, {
      GET: (c) => ok(r.members(c, acceleratorShares)),
      POST: (c) => {
        onlyProperties(c.body, ["Id", "Name", "Accelerator", "Consumer", "ConsentToken"], ["HostPciAddress"]);
        return createdMember(c, acceleratorShares, c.sim.offloads.createAcceleratorShare(c.serial, c.body).shareId);
      },
    })
    .on(
      `${acceleratorShares.collection}/{id}`,
      memberRoutes(acceleratorShares, {
        patch: { writable: ["Name"], readOnly: ["Id", "Accelerator", "Consumer", "HostPciAddress"], apply: (c) => c.sim.offloads.patchAcceleratorShare(c.serial, c.params.id, c.body) },
        remove: (c) => c.sim.offloads.deleteAcceleratorShare(c.serial, c.params.id),
      }),
    );
  for (const [template, handlers] of standardRoutes()) router.on(template, handlers);
  // The baseboard-management resources (boot, manager, event log, chassis subsystems): their own files.
  for (const [template, handlers] of [...systemBootRoutes(), ...managerRoutes(), ...logServiceRoutes(), ...chassisRoutes(), ...certificateRoutes(), ...eventServiceRoutes()]) router.on(template, handlers);
  return router;
}

/** A system as its GET answers it, with its boot and reset properties. */
function system(c: RouteContext): Resource {
  const which = requireSystem(c);
  return withBoot(c, which, which === "dpu" ? r.dpuSystem(c) : r.hostSystem(c));
}

/** PATCH of a system: either takes its boot override (`Boot`), nothing else. */
function patchSystem(c: RouteContext): Reply {
  const which = requireSystem(c);
  onlyProperties(c.body, ["Boot"], ["PowerState", "SystemType", "SerialNumber", "HostName"]);
  patchBoot(c, which);
  return ok(system(c));
}

/** 400 ActionParameterUnknown for a body property the action does not take. */
function onlyActionParameters(body: Record<string, unknown>, action: string, allowed: string[]): void {
  for (const key of Object.keys(body)) {
    if (!key.startsWith("@") && !allowed.includes(key)) throw new ServiceError(400, "ActionParameterUnknown", [action, key], `${action} has no parameter ${key}`);
  }
}

/** The host's OEM maintenance actions: Enter evacuates its workloads (a task), Exit brings them back (200). */
function hostMaintenance(c: RouteContext): Reply {
  const { enter, exit } = r.HOST_MAINTENANCE_ACTIONS;
  if (requireSystem(c) !== "host" || (c.params.action !== enter && c.params.action !== exit)) throw notFound("Action", c.params.action);
  onlyActionParameters(c.body, c.params.action, []);
  if (c.params.action === enter) return accepted(c, c.sim.maintenance.enter(c.serial));
  c.sim.maintenance.exit(c.serial);
  return ok({ "@Message.ExtendedInfo": [baseMessage("Success")] });
}

function patchBiosSettings(c: RouteContext): Reply {
  onlyProperties(c.body, ["Attributes"]);
  const attrs = c.body.Attributes as Record<string, unknown> | undefined;
  if (!attrs || typeof attrs !== "object") throw missing("Attributes");
  onlyProperties(attrs, ["NicMode", "HostPrivilegeLevel"]);
  c.sim.hardware.patchBiosSettings(c.serial, {
    mode: biosValue(attrs, "NicMode", { DpuMode: "dpu", NicMode: "nic" } as const),
    hostPrivilege: biosValue(attrs, "HostPrivilegeLevel", { Privileged: "privileged", Restricted: "restricted" } as const),
  });
  return ok(r.biosSettings(c));
}

/** NVIDIA's own way to the same staged mode change as the BIOS attribute. */
function setNvidiaMode(c: RouteContext): Reply {
  const mode = actionParameter(c.body, "Mode.Set", "Mode");
  const mapped = ({ DpuMode: "dpu", NicMode: "nic" } as const)[String(mode) as "DpuMode" | "NicMode"];
  if (!mapped) throw new ServiceError(400, "ActionParameterValueNotInList", [String(mode), "Mode", "Mode.Set"], "Mode must be DpuMode or NicMode");
  c.sim.hardware.patchBiosSettings(c.serial, { mode: mapped });
  return noContent();
}

/** POST ServicePairs, on the primary's port only. */
function createServicePair(c: RouteContext): Reply {
  onlyProperties(c.body, ["Id", "Name", "ServiceType", "Version", "Cores", "MemoryGiB", "Config", "Primary", "Secondary", "ConsentToken"]);
  const primary = c.body.Primary as { Serial?: unknown } | undefined;
  if (primary && primary.Serial !== undefined && primary.Serial !== c.serial) {
    throw new ServiceError(400, "PropertyValueNotInList", [String(primary.Serial), "Primary/Serial"], `create the pair on the primary's port; this port is DPU ${c.serial}`);
  }
  return accepted(c, c.sim.offloads.createServicePair(c.serial, c.body).task);
}

/** POST Sessions: authenticate the body's credentials, answer 201 + X-Auth-Token + Location. */
function login(c: RouteContext): Reply {
  const user = c.body.UserName;
  const password = c.body.Password;
  if (typeof user !== "string") throw missing("UserName");
  if (typeof password !== "string") throw missing("Password");
  const account = c.sim.accounts.authenticate(c.serial, user, password, `${V1}/SessionService/Sessions`, c.source);
  const s = c.sim.accounts.createSession(c.serial, account.id, c.source);
  const uri = r.memberUri(sessions, s.id);
  const body: Resource = { ...(r.member(c, sessions, s.id) ?? {}) };
  if (account.passwordChangeRequired) {
    const info = { ...passwordChangeInfo(account.id) };
    body["@Message.ExtendedInfo"] = [info];
  }
  return { status: 201, headers: { "X-Auth-Token": s.token, Location: uri }, body };
}

/** The ExtendedInfo telling a factory account to change its password. */
export function passwordChangeInfo(accountId: string): Record<string, unknown> {
  return baseMessage("PasswordChangeRequired", [`${V1}/AccountService/Accounts/${encodeURIComponent(accountId)}`]) as unknown as Record<string, unknown>;
}

function simpleUpdate(c: RouteContext): Reply {
  const action = "UpdateService.SimpleUpdate";
  for (const key of Object.keys(c.body)) {
    if (!["ImageURI", "Targets", "TransferProtocol", "Username", "Password"].includes(key)) throw new ServiceError(400, "ActionParameterUnknown", [action, key], `${action} has no parameter ${key}`);
  }
  const uri = actionParameter(c.body, action, "ImageURI");
  if (typeof uri !== "string") throw new ServiceError(400, "ActionParameterValueFormatError", [String(uri), "ImageURI", action], "ImageURI must be a string");
  const targets = c.body.Targets === undefined ? [`${V1}/UpdateService/FirmwareInventory/${c.ids.firmware.os}`] : c.body.Targets;
  if (!Array.isArray(targets) || targets.length !== 1 || typeof targets[0] !== "string") {
    throw new ServiceError(400, "ActionParameterValueFormatError", [JSON.stringify(targets), "Targets", action], "Targets must list exactly one firmware inventory item");
  }
  const id = String(targets[0]).split("/").pop() ?? "";
  const which = r.firmwareTarget(c, id);
  if (!which || targets[0] !== `${V1}/UpdateService/FirmwareInventory/${id}`) {
    throw new ServiceError(400, "ActionParameterValueNotInList", [String(targets[0]), "Targets", action], `Targets must be one of: ${Object.values(c.ids.firmware).map((x) => `${V1}/UpdateService/FirmwareInventory/${x}`).join(", ")}`);
  }
  return accepted(c, c.sim.hardware.simpleUpdate(c.serial, uri, which));
}

/**
 * The resource a finished create made, as it is now: the 201 at the end of a task
 * monitor carries it like a synchronous create's 201 would. Undefined once it is gone.
 */
function createdResource(c: RouteContext, location: string | undefined): Resource | undefined {
  const kinds: Array<MemberKind<ServiceState>> = [services, servicePairs];
  for (const kind of kinds) {
    const id = location?.match(new RegExp(`^${kind.collection}/([^/]+)$`))?.[1];
    if (id !== undefined) return r.member(c, kind, decodeURIComponent(id));
  }
  return undefined;
}

function taskMonitor(c: RouteContext): Reply {
  const t = c.sim.task(c.serial, c.params.id);
  if (t.state === "Running" || t.state === "New") return accepted(c, t);
  if (t.state === "Completed" && t.result && t.result.status === 201) {
    return { status: 201, headers: t.result.headers, body: createdResource(c, t.result.headers?.Location) ?? t.result.body };
  }
  return ok(r.task(c, t));
}
