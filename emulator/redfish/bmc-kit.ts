/**
 * What the baseboard-management resources (`boot.ts`, `manager.ts`, `log-service.ts`,
 * `chassis.ts`) share: the request context their handlers read, their replies, and their
 * route lists, which `routes.ts` adds to the port's route table. The context is the subset
 * of the route table's that they use, so they never import the route table back.
 */
import { ServiceError } from "../service-error";
import { baseMessage } from "./registry";
import type { RenderContext, Resource } from "./resources";

/** What a handler here reads of a request. */
export interface BmcContext extends RenderContext {
  /** Path parameters. */
  params: Record<string, string>;
  /** Parsed JSON body (POST/PATCH), an object. */
  body: Record<string, unknown>;
  /** The client's address. */
  source?: string;
}

/** What a handler here answers. */
export interface BmcReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** The answer when it is ready only later (see `Reply.later` in routes.ts). */
  later?: Promise<BmcReply>;
}

/** A handler here. */
export type BmcHandler = (c: BmcContext) => BmcReply;

/** Routes to add: a path template and its handlers. */
export type BmcRoutes = Array<[template: string, handlers: Partial<Record<"GET" | "POST" | "PATCH" | "DELETE", BmcHandler>>]>;

export const V1 = "/redfish/v1";

/** A hyperlink. */
export function link(uri: string): { "@odata.id": string } {
  return { "@odata.id": uri };
}

/** 200 with a body. */
export function ok(body: unknown): BmcReply {
  return { status: 200, body };
}

/** 204. */
export function noContent(): BmcReply {
  return { status: 204 };
}

/** 200 with the Base Success message: an action that was already done (idempotent) or done at once. */
export function done(): BmcReply {
  return ok({ "@Message.ExtendedInfo": [baseMessage("Success")] });
}

/** A resource collection. */
export function collection(uri: string, type: string, name: string, members: string[]): Resource {
  return { "@odata.id": uri, "@odata.type": `#${type}.${type}`, Name: name, "Members@odata.count": members.length, Members: members.map(link) };
}

/** `Status` of an enabled or disabled part. */
export function status(enabled: boolean, health: "OK" | "Warning" | "Critical" = "OK"): Resource {
  return { State: enabled ? "Enabled" : "Disabled", Health: health };
}

/** ISO 8601 without milliseconds, with an explicit offset, as BMCs write times. */
export function redfishTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/** 404 `ResourceNotFound` unless `c.params[key]` is `expected`. */
export function requireParam(c: BmcContext, key: string, expected: string, type: string): void {
  if (c.params[key] !== expected) throw new ServiceError(404, "ResourceNotFound", [type, c.params[key]], `${type} '${c.params[key]}' does not exist`);
}

/** 400 `PropertyUnknown`/`PropertyNotWritable` for a body property outside `writable`. */
export function onlyWritable(body: Record<string, unknown>, writable: string[], readOnly: string[] = [], where = ""): void {
  for (const key of Object.keys(body)) {
    if (key.startsWith("@")) continue;
    const name = where ? `${where}/${key}` : key;
    if (readOnly.includes(key)) throw new ServiceError(400, "PropertyNotWritable", [name], `${name} is read-only`);
    if (!writable.includes(key)) throw new ServiceError(400, "PropertyUnknown", [name], `${name} cannot be set here; writable: ${writable.join(", ") || "nothing"}`);
  }
}

/** The value of an action's string parameter that must be one of `allowed` (400 ActionParameterMissing / ...NotInList / ...FormatError). */
export function actionEnum<T extends string>(body: Record<string, unknown>, action: string, name: string, allowed: readonly T[]): T {
  for (const key of Object.keys(body)) {
    if (!key.startsWith("@") && key !== name) throw new ServiceError(400, "ActionParameterUnknown", [action, key], `${action} has no parameter ${key}`);
  }
  const value = body[name];
  if (value === undefined) throw new ServiceError(400, "ActionParameterMissing", [action, name], `${action} needs ${name}`);
  if (typeof value !== "string") throw new ServiceError(400, "ActionParameterValueFormatError", [JSON.stringify(value), name, action], `${name} must be a string`);
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ServiceError(400, "ActionParameterValueNotInList", [value, name, action], `${name} must be one of: ${allowed.join(", ")}`);
  }
  return value as T;
}

/** 400 `ActionParameterUnknown` for any parameter of an action that takes none. */
export function noParameters(body: Record<string, unknown>, action: string): void {
  const extra = Object.keys(body).find((k) => !k.startsWith("@"));
  if (extra !== undefined) throw new ServiceError(400, "ActionParameterUnknown", [action, extra], `${action} takes no parameters`);
}

/** An ActionInfo resource for an action with one required string parameter. */
export function actionInfo(uri: string, parameter: string, allowed: readonly string[]): Resource {
  return {
    "@odata.id": uri,
    "@odata.type": "#ActionInfo.v1_3_0.ActionInfo",
    Id: uri.split("/").pop(),
    Name: `${parameter} action info`,
    Parameters: [{ Name: parameter, Required: true, DataType: "String", AllowableValues: [...allowed] }],
  };
}
