/**
 * Time as the management-port client sees it: the current time and a way to wait.
 * Retries, backoff and task polling wait through a `ClientClock`, so tests inject one
 * that advances instantly and never sleep for simulated time.
 */

/** A source of time and of waiting. */
export interface ClientClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves once `ms` have passed on this clock. */
  sleep(ms: number): Promise<void>;
}

/** Wall-clock time with Node timers. */
export const systemClock: ClientClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/**
 * A clock whose `sleep` returns at once after moving time forward by the requested
 * amount; records every wait so tests can assert on backoff without sleeping.
 */
export class InstantClock implements ClientClock {
  /** Every `sleep` duration requested, in order. */
  readonly sleeps: number[] = [];
  private current: number;

  /** Starts at `start` ms since the epoch. */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  /** {@inheritDoc ClientClock.now} */
  now(): number {
    return this.current;
  }

  /** {@inheritDoc ClientClock.sleep} */
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.current += Math.max(0, ms);
  }
}
