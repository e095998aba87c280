/**
 * Errors the providers raise. Pulumi shows only an error's message, so each message
 * names the kind and the resource (`SmartNic esx-01/nic1: ...`) and keeps the cause.
 */

/** A provider operation on one resource failed; the message says which and why. */
export class ProviderError extends Error {
  /** The resource kind, e.g. `SmartNic`. */
  readonly kind: string;
  /** Which resource, e.g. `esx-01/nic1`. */
  readonly resource: string;
  /** The operation, e.g. `create`. */
  readonly operation: string;

  /** Wraps `cause` with the kind, resource and operation it happened in. */
  constructor(kind: string, resource: string, operation: string, reason: string, cause?: unknown) {
    super(`${kind} ${resource}: ${operation} failed: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = "ProviderError";
    this.kind = kind;
    this.resource = resource;
    this.operation = operation;
  }
}

/**
 * The stack asks for something the provider refuses to do on its own authority (for
 * example a mode change that needs a host power cycle the stack does not allow).
 */
export class RefusedChangeError extends Error {
  /** What to change in the stack to allow it. */
  readonly remedy: string;

  /** `reason` says what was refused, `remedy` how to allow it. */
  constructor(reason: string, remedy: string) {
    super(`${reason}; ${remedy}`);
    this.name = "RefusedChangeError";
    this.remedy = remedy;
  }
}

/**
 * An operation that started on the hardware but did not finish in this run (timeout,
 * port gone mid-install). Thrown from `create`, the dynamic-provider host records the
 * resource with `properties` (which keep the task URI) and the next `up` resumes it
 * through `update` instead of starting over.
 */
export class UnfinishedOperationError extends Error {
  /** The id the resource gets in state. */
  readonly id: string;
  /** The outputs recorded in state, including the URI of the unfinished task. */
  readonly properties: Record<string, unknown>;
  /** Why it did not finish, shown by Pulumi as initialization errors. */
  readonly reasons: string[];

  /** `message` names the resource; `properties` are stored as its outputs. */
  constructor(message: string, id: string, properties: Record<string, unknown>, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "UnfinishedOperationError";
    this.id = id;
    this.properties = properties;
    this.reasons = [message];
  }
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
