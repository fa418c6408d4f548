import type { Request, Response } from 'express';

/*
 * One heavy read (a list, totals, a CSV: a query on the ledger's reader
 * worker) per user at a time. A user's second one while the first runs is
 * answered 429 with Retry-After, not queued: whatever one read-only user
 * asks, the runtime holds at most one of their queries.
 */

/** Who asks: the logged-in user's name, else (no adminAuth) the address the request came from. */
export function askerOf(req: Request): string {
  const user = (req as { user?: { username?: unknown } }).user;
  if (user !== undefined && typeof user.username === 'string') return `user:${user.username}`;
  return `address:${req.ip ?? req.socket?.remoteAddress ?? ''}`;
}

export class HeavyReads {
  /** The askers with a heavy read running, and since when (ms). */
  private readonly running = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Heavy reads running now. */
  get size(): number {
    return this.running.size;
  }

  /**
   * Seconds a refused asker should wait: what their running read has taken so
   * far (it is likely to take as long again), at least 1, at most 30.
   */
  retryAfter(asker: string): number {
    const since = this.running.get(asker);
    const elapsed = since === undefined ? 0 : this.now() - since;
    return Math.min(30, Math.max(1, Math.ceil(elapsed / 1000)));
  }

  /**
   * Runs `work` as `asker`'s one heavy read: false (nothing run) when one of
   * theirs runs already. The read ends when `work`'s promise settles.
   */
  tryRun(asker: string, work: () => Promise<void>): Promise<void> | false {
    if (this.running.has(asker)) return false;
    this.running.set(asker, this.now());
    const end = () => this.running.delete(asker);
    let done: Promise<void>;
    try {
      done = work();
    } catch (err) {
      end();
      return Promise.reject(err);
    }
    return done.finally(end);
  }
}

/** The 429 answer: a JSON body like every other refusal of the admin API, and Retry-After in seconds. */
export function tooManyReads(res: Response, seconds: number): void {
  res
    .status(429)
    .set('Retry-After', String(seconds))
    .json({ ok: false, code: 'E_BUSY', message: `one query of yours is running already; ask again in ${seconds} s` });
}
