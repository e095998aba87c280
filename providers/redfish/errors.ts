/**
 * The errors of the management-port client. Every error names the endpoint and the
 * resource URI it was about, and carries what the Redfish service said (`MessageId`,
 * message, resolution) so an operator can act on it without reading logs.
 * Messages never contain passwords or session tokens: the client scrubs its own
 * secrets out of any text a service echoes back.
 */

/** What a failed Redfish request was about. */
export interface RedfishErrorDetails {
  /** HTTP status, or undefined when no response arrived. */
  status?: number;
  /** The Redfish `MessageId` (e.g. `Base.1.18.PreconditionFailed`), when the service sent one. */
  messageId?: string;
  /** The service's human-readable message, when it sent one. */
  serviceMessage?: string;
  /** The Redfish `Resolution` text, when the service sent one. */
  resolution?: string;
  /** The resource URI (path below the endpoint) the request was for. */
  uri: string;
  /** The management port's base URL, e.g. `https://127.0.1.1:8443`. */
  endpoint: string;
  /** The HTTP method, when the error is about one request. */
  method?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** A Redfish request or operation failed; carries the service's own explanation. */
export class RedfishError extends Error {
  /** HTTP status, or undefined when no response arrived. */
  readonly status: number | undefined;
  /** The Redfish `MessageId`, e.g. `Base.1.18.PreconditionFailed`. */
  readonly messageId: string | undefined;
  /** The Redfish `Resolution`: what the service suggests doing about it. */
  readonly resolution: string | undefined;
  /** The service's own message, without the context this class adds. */
  readonly serviceMessage: string | undefined;
  /** The resource URI the request was for. */
  readonly uri: string;
  /** The management port's base URL. */
  readonly endpoint: string;
  /** The HTTP method, when the error is about one request. */
  readonly method: string | undefined;

  /** Builds the error; `summary` says what the client was doing. */
  constructor(summary: string, details: RedfishErrorDetails) {
    super(composeMessage(summary, details), details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.status = details.status;
    this.messageId = details.messageId;
    this.resolution = details.resolution;
    this.serviceMessage = details.serviceMessage;
    this.uri = details.uri;
    this.endpoint = details.endpoint;
    this.method = details.method;
  }

  /** True when the `MessageId` ends with `.<name>` (registry version ignored), e.g. `is("PreconditionFailed")`. */
  is(messageName: string): boolean {
    return this.messageId !== undefined && (this.messageId === messageName || this.messageId.endsWith(`.${messageName}`));
  }
}

/** Why a request got no HTTP response. */
export type ConnectionFailure = "refused" | "timeout" | "reset" | "tls" | "unreachable" | "other";

/** The management port could not be reached: refused, unreachable, TLS refused, or no answer in time. */
export class ConnectionError extends RedfishError {
  /** What went wrong on the wire. */
  readonly failure: ConnectionFailure;
  /** False when the failure happened before any byte of the request could have reached the service. */
  readonly requestMayHaveArrived: boolean;

  /** Builds the error for a request that got no response. */
  constructor(
    summary: string,
    details: RedfishErrorDetails & { failure: ConnectionFailure; requestMayHaveArrived: boolean },
  ) {
    super(summary, details);
    this.failure = details.failure;
    this.requestMayHaveArrived = details.requestMayHaveArrived;
  }
}

/** A wait ran out of its overall per-operation time budget. */
export class OperationTimeoutError extends RedfishError {}

function composeMessage(summary: string, d: RedfishErrorDetails): string {
  const what = d.method ? `${d.method} ${d.uri}` : d.uri;
  const status = d.status !== undefined ? ` answered ${d.status}` : "";
  let text = `${summary}: ${d.endpoint} ${what}${status}`;
  if (d.messageId) text += ` [${d.messageId}]`;
  if (d.serviceMessage) text += `: ${d.serviceMessage}`;
  if (d.resolution) text += ` (resolution: ${d.resolution})`;
  return text;
}

/** One entry of a Redfish `@Message.ExtendedInfo` array. */
export interface RedfishMessage {
  /** Registry-qualified id, e.g. `Base.1.18.PasswordChangeRequired`. */
  MessageId?: string;
  /** Human-readable text. */
  Message?: string;
  /** Substitution arguments of the message (e.g. the account URI for PasswordChangeRequired). */
  MessageArgs?: string[];
  /** What to do about it. */
  Resolution?: string;
  /** Severity, old style. */
  Severity?: string;
  /** Severity, new style. */
  MessageSeverity?: string;
}

/** What a Redfish error body says, reduced to the fields the client reports. */
export interface ParsedRedfishError {
  /** The most specific `MessageId` (first extended info, else `error.code`). */
  messageId?: string;
  /** The matching message text. */
  message?: string;
  /** The matching resolution. */
  resolution?: string;
  /** Every extended info entry, for callers that need the arguments. */
  extendedInfo: RedfishMessage[];
}

/**
 * Reads a Redfish error body `{ error: { code, message, @Message.ExtendedInfo } }`;
 * also accepts a bare `@Message.ExtendedInfo` on a resource body. Returns an empty
 * result for anything else (HTML error pages, empty bodies).
 */
export function parseRedfishError(body: unknown): ParsedRedfishError {
  const result: ParsedRedfishError = { extendedInfo: [] };
  if (!isRecord(body)) return result;
  const error = isRecord(body.error) ? body.error : body;
  const info = error["@Message.ExtendedInfo"];
  if (Array.isArray(info)) result.extendedInfo = info.filter(isRecord) as RedfishMessage[];
  // The first extended info is the specific reason; `error.code` is often the generic Base.GeneralError.
  const first = result.extendedInfo.find((m) => typeof m.MessageId === "string");
  result.messageId = first?.MessageId ?? stringOrUndefined(error.code);
  result.message = combineMessages(first?.Message, stringOrUndefined(error.message));
  result.resolution = first?.Resolution;
  return result;
}

/** `error.message` texts that only point at the extended info (bmcweb and others send these). */
const POINTER_TO_EXTENDED_INFO = /see (the )?extendedinfo|a general error has occurred/i;

/**
 * The registry message of the extended info is generic ("The HTTP method is not allowed on
 * this resource."); services often say the actual reason only in `error.message` ("the
 * primary DPU MT1 is not running"). Both are kept, the specific one first, unless
 * `error.message` repeats the registry text or merely points at the extended info.
 */
function combineMessages(registryMessage: string | undefined, errorMessage: string | undefined): string | undefined {
  if (registryMessage === undefined) return errorMessage;
  if (errorMessage === undefined || POINTER_TO_EXTENDED_INFO.test(errorMessage)) return registryMessage;
  const normalize = (text: string) => text.trim().replace(/\.$/, "").toLowerCase();
  if (normalize(registryMessage).includes(normalize(errorMessage))) return registryMessage;
  return `${errorMessage} (${registryMessage.trim().replace(/\.$/, "")})`;
}

/** Replaces every occurrence of each secret in `text` with `***`. */
export function scrubSecrets(text: string | undefined, secrets: readonly string[]): string | undefined {
  if (text === undefined) return undefined;
  let out = text;
  for (const secret of secrets) {
    // Very short strings would blank out ordinary words; real secrets are longer.
    if (secret.length >= 4) out = out.split(secret).join("***");
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
