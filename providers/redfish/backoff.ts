/**
 * How long to wait before the next retry or the next task poll: exponential backoff
 * with jitter (so a fleet of providers does not hammer a recovering port in lockstep),
 * never less than what the service asked for with `Retry-After`.
 */

/** Parameters of an exponential backoff. */
export interface BackoffPolicy {
  /** Delay before the first retry, in ms. */
  initialMs: number;
  /** Growth factor per attempt. */
  factor: number;
  /** Upper bound of one delay, in ms. */
  maxMs: number;
}

/** Backoff for retrying failed requests. */
export const retryBackoff: BackoffPolicy = { initialMs: 100, factor: 2, maxMs: 5_000 };

/** Backoff for polling a running task: quick first looks, then settle at a few seconds. */
export const pollBackoff: BackoffPolicy = { initialMs: 50, factor: 2, maxMs: 3_000 };

/**
 * The delay before attempt `attempt` (0-based) with "equal jitter": half the exponential
 * step is fixed, half random, so delays keep growing yet never synchronise.
 * `retryAfterMs`, when the service sent one, is a lower bound.
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number, retryAfterMs?: number): number {
  const step = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  const jittered = step / 2 + random() * (step / 2);
  return Math.round(Math.max(jittered, retryAfterMs ?? 0));
}

/**
 * Reads a `Retry-After` header (delta seconds or an HTTP date) as milliseconds from `now`.
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | undefined, now: number): number | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
