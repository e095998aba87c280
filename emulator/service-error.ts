/**
 * Errors the simulation raises, each already in Redfish terms (HTTP status + a Base
 * registry message), so the HTTP layer only renders them.
 */

/** A request the DPU refuses. */
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
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ServiceError";
    this.status = status;
    this.messageKey = messageKey;
    this.args = args;
    this.headers = options?.headers ?? {};
  }
}

/** 404 for a resource that does not exist. */
export function notFound(type: string, id: string): ServiceError {
  return new ServiceError(404, "ResourceNotFound", [type, id], `${type} '${id}' does not exist`);
}

/** 400 for a value not in the allowed list. */
export function notInList(property: string, value: unknown, allowed: readonly string[]): ServiceError {
  return new ServiceError(400, "PropertyValueNotInList", [String(value), property], `${property} '${String(value)}' is not allowed; allowed: ${allowed.join(", ")}`);
}

/** 400 for a value of the wrong type or format. */
export function badValue(property: string, value: unknown, expected: string): ServiceError {
  return new ServiceError(400, "PropertyValueTypeError", [JSON.stringify(value) ?? String(value), property], `${property} must be ${expected}`);
}

/** 400 for a missing required property. */
export function missing(property: string): ServiceError {
  return new ServiceError(400, "PropertyMissing", [property], `${property} is required`);
}

/** 409 for an operation the DPU's current state does not allow. */
export function notAllowed(why: string): ServiceError {
  return new ServiceError(409, "OperationNotAllowed", [], why);
}
