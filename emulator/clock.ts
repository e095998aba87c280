/**
 * Time for the simulation. Everything that takes time on hardware is scheduled on a
 * `Clock`, so tests drive time with a `ManualClock` and never sleep.
 */

/** Cancels a scheduled callback; calling it after the callback ran is harmless. */
export type CancelTimer = () => void;

/** A source of time and timers (milliseconds since the epoch). */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
  /** Runs `fn` once `delayMs` have passed on this clock; returns a canceller. */
  schedule(delayMs: number, fn: () => void): CancelTimer;
}

/** Wall-clock time with Node timers (unref'd, so pending simulated work never holds the process). */
export class SystemClock implements Clock {
  /** {@inheritDoc Clock.now} */
  now(): number {
    return Date.now();
  }

  /** {@inheritDoc Clock.schedule} */
  schedule(delayMs: number, fn: () => void): CancelTimer {
    // Node timers overflow above 2^31-1 ms; chain shorter waits for long simulated times.
    const max = 2_147_483_647;
    let handle: NodeJS.Timeout;
    const arm = (remaining: number): void => {
      handle = setTimeout(() => (remaining > max ? arm(remaining - max) : fn()), Math.min(Math.max(0, remaining), max));
      handle.unref();
    };
    arm(delayMs);
    return () => clearTimeout(handle);
  }
}

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every timer that falls due,
 * in time order, with `now()` set to each timer's due time while it runs — including
 * timers scheduled by timers that fire within the same window.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: ManualTimer[] = [];

  /** Starts at `start` ms since the epoch (a fixed instant by default, so runs repeat). */
  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  /** {@inheritDoc Clock.now} */
  now(): number {
    return this.current;
  }

  /** {@inheritDoc Clock.schedule} */
  schedule(delayMs: number, fn: () => void): CancelTimer {
    const timer: ManualTimer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const next = this.nextDue(target);
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
  }

  /** Fires timers already due without moving time (e.g. zero-delay work). */
  runDue(): void {
    this.advance(0);
  }

  /** How many live timers are waiting. */
  pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  private nextDue(limit: number): ManualTimer | undefined {
    this.timers = this.timers.filter((t) => !t.cancelled);
    let best: ManualTimer | undefined;
    for (const t of this.timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t;
    }
    return best;
  }
}
