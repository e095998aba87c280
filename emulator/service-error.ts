/**
 * Errors the simulation raises, each already in Redfish terms (HTTP status + a Base
 * registry message), so the HTTP layer only renders them.
 */

/** Most characters of a client's value an error message echoes. */
export const MAX_ECHOED_CHARS = 64;

/** Longest error message (what a message builds in besides values is short: names, lists, limits). */
const MAX_MESSAGE_CHARS = 512;

/** `text` cut to `max` characters, marked with an ellipsis when cut. */
export function bounded(text: string, max = MAX_ECHOED_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/**
 * A client's value as an error message shows it: JSON, at most `MAX_ECHOED_CHARS` characters.
 * Never throws: a value too deep or odd to serialise is described by its type.
 */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(bounded(value));
  try {
    return bounded(JSON.stringify(value) ?? String(value));
  } catch {
    return Array.isArray(value) ? "an array" : typeof value === "object" ? "an object" : typeof value;
  }
}

/** A request the DPU refuses. Its arguments and message are bounded, whatever value they were built from. */
export class ServiceError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** Base registry message key, e.g. `ResourceExhaustion`. */
  readonly messageKey: string;
  /** Arguments of the registry message. */
  readonly args: string[];
  /** Extra headers (e.g. Retry-After, WWW-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(status: number, messageKey: string, args: string[], message: string, options?: { headers?: Record<string, string>; cause?: unknown }) {
    super(bounded(message, MAX_MESSAGE_CHARS), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ServiceError";
    this.status = status;
    this.messageKey = messageKey;
    this.args = args.map((a) => bounded(String(a)));
    this.headers = options?.headers ?? {};
  }
}

/** 404 for a resource that does not exist. */
export function notFound(type: string, id: string): ServiceError {
  return new ServiceError(404, "ResourceNotFound", [type, id], `${type} '${id}' does not exist`);
}

/** 400 for a value not in the allowed list. */
export function notInList(property: string, value: unknown, allowed: readonly string[]): ServiceError {
  const shown = typeof value === "string" ? bounded(value) : describeValue(value);
  return new ServiceError(400, "PropertyValueNotInList", [shown, property], `${property} '${shown}' is not allowed; allowed: ${allowed.join(", ")}`);
}

/** 400 for a value of the wrong type or format. */
export function badValue(property: string, value: unknown, expected: string): ServiceError {
  return new ServiceError(400, "PropertyValueTypeError", [describeValue(value), property], `${property} must be ${expected}`);
}

/** 400 for a missing required property. */
export function missing(property: string): ServiceError {
  return new ServiceError(400, "PropertyMissing", [property], `${property} is required`);
}

/** 409 for an operation the DPU's current state does not allow. */
export function notAllowed(why: string): ServiceError {
  return new ServiceError(409, "OperationNotAllowed", [], why);
}
