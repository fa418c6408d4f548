/**
 * Time, in one place. Two readings, never mixed:
 *
 * - `monotonic()`: milliseconds that only go forward (performance.now on the
 *   system clock). Card windows, time-outs, back-offs and "how long since"
 *   are measured on it, so a wall clock stepped back or forward changes none.
 * - `wall()`: milliseconds since the epoch, for the timestamps recorded in the
 *   ledger and shown to people. Never used to measure a duration.
 *
 * Timers run on the monotonic reading. `systemClock` is the real one; tests and
 * the simulation pass a `ManualClock`, whose time moves only when told.
 */
export interface Timer {
  /** Stops the timer; a timer already fired or cancelled is left as is. */
  cancel(): void;
}

export interface TimerOptions {
  /** A background timer: it does not keep the process alive (Node's unref). */
  background?: boolean;
}

export interface Clock {
  monotonic(): number;
  wall(): number;
  setTimer(fn: () => void, ms: number, options?: TimerOptions): Timer;
}

/** Resolves after `ms` on the clock's monotonic reading; rejects with the signal's reason when it is aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal!.reason);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const systemClock: Clock = {
  monotonic: () => performance.now(),
  wall: () => Date.now(),
  setTimer(fn, ms, options) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (options?.background) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. Timers fire in order of due time (ties in
 * the order they were set); `advance` lets promise continuations run between
 * timers, so async code waiting on a timer proceeds as it would in real time.
 * The wall reading can be stepped apart from the monotonic one, as an NTP
 * correction or an operator does.
 */
export class ManualClock implements Clock {
  private now: number;
  private wallOffset: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start: { monotonic?: number; wall?: number } = {}) {
    this.now = start.monotonic ?? 0;
    this.wallOffset = (start.wall ?? Date.UTC(2026, 0, 1)) - this.now;
  }

  monotonic(): number {
    return this.now;
  }

  wall(): number {
    return this.now + this.wallOffset;
  }

  setTimer(fn: () => void, ms: number): Timer {
    const p: Pending = { at: this.now + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return { cancel: () => { p.cancelled = true; } };
  }

  /** Timers set and not yet fired or cancelled. */
  get timers(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }

  /** The monotonic time the next timer is due, or undefined when none is set. */
  nextDue(): number | undefined {
    const next = this.next();
    return next?.at;
  }

  /** Steps the wall clock by `ms` (negative: back); the monotonic reading and the timers are untouched. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }

  /** Moves time forward by `ms`, firing every timer due on the way, with the promise jobs they start settled in between. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance: ms must be a number ≥ 0, got ${ms}`);
    const target = this.now + ms;
    await settle();
    for (let next = this.next(); next !== undefined && next.at <= target; next = this.next()) {
      this.pending.splice(this.pending.indexOf(next), 1);
      this.now = Math.max(this.now, next.at);
      next.fn();
      await settle();
    }
    this.now = target;
  }

  /** Fires timers one due time after another until none is left or `limit` ms have passed; returns the time moved. */
  async runAll(limit = 24 * 3600_000): Promise<number> {
    const start = this.now;
    for (let due = this.nextDue(); due !== undefined && due - start <= limit; due = this.nextDue()) {
      await this.advance(due - this.now);
    }
    return this.now - start;
  }

  private next(): Pending | undefined {
    this.pending = this.pending.filter((p) => !p.cancelled);
    let best: Pending | undefined;
    for (const p of this.pending) if (best === undefined || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    return best;
  }
}

/** Lets pending promise jobs and I/O callbacks run (one turn of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
