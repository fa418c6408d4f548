/**
 * Guards of the editor's Pair endpoint: JSON bodies only (a form or
 * text/plain post can come cross-site from any page the editor's user opens),
 * one attempt at a time per terminal, and a wrong code costs time: after 3
 * failures in a row each further attempt waits 2^(n-3) s, up to 5 minutes.
 */
import type { NextFunction, Request, Response } from 'express';

export const PAIR_FREE_FAILURES = 3;
export const PAIR_MAX_LOCK_MS = 5 * 60_000;

/** 415 for anything but application/json. */
export function jsonOnly(req: Request, res: Response, next: NextFunction): void {
  const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    res.status(415).json({ ok: false, code: 'E_MEDIA_TYPE' });
    return;
  }
  next();
}

interface Entry {
  failures: number;
  lockedUntil: number;
  busy: boolean;
}

export class PairLimiter {
  private readonly entries = new Map<string, Entry>();
  constructor(private readonly now: () => number = Date.now) {}

  /** Undefined when an attempt may start (and marks it started); else how many ms to wait (0: one is running). */
  begin(key: string): number | undefined {
    const entry = this.entries.get(key) ?? { failures: 0, lockedUntil: 0, busy: false };
    this.entries.set(key, entry);
    if (entry.busy) return 0;
    const wait = entry.lockedUntil - this.now();
    if (wait > 0) return wait;
    entry.busy = true;
    return undefined;
  }

  /** Ends an attempt; `failed` counts towards the lock (a wrong code, an unreachable terminal). */
  end(key: string, failed: boolean): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    entry.busy = false;
    if (!failed) {
      this.entries.delete(key);
      return;
    }
    entry.failures++;
    if (entry.failures >= PAIR_FREE_FAILURES) {
      entry.lockedUntil = this.now() + Math.min(1000 * 2 ** (entry.failures - PAIR_FREE_FAILURES), PAIR_MAX_LOCK_MS);
    }
  }
}
