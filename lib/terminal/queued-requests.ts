import type { SessionActivity } from '../session';

/**
 * Which node's requests wait in a terminal's queue (by the node's id, the
 * request's origin), and which are under way: a node whose request waits,
 * and none of whose requests is under way, shows "queued (n)".
 */
export class QueuedRequests {
  /** Requests of each node queued and not started yet. */
  private readonly waiting = new Map<string, Set<string>>();
  private readonly originOf = new Map<string, string>();
  /** Those under way (sent, waiting for a card, or being settled). */
  private readonly running = new Set<string>();
  /** How many of each node's requests are under way. */
  private readonly runningOf = new Map<string, number>();

  /** Requests known (waiting or under way). */
  get size(): number {
    return this.originOf.size;
  }

  /** A node's request was put in the session's queue. */
  queued(origin: string, requestID: string): void {
    this.originOf.set(requestID, origin);
    let set = this.waiting.get(origin);
    if (set === undefined) this.waiting.set(origin, (set = new Set()));
    set.add(requestID);
  }

  /** The session's activity: a request that started (or ended) no longer waits. */
  activity(a: SessionActivity): void {
    if (a.kind === 'queued') return;
    const origin = this.originOf.get(a.requestID);
    if (origin === undefined) return;
    this.waiting.get(origin)?.delete(a.requestID);
    if (a.kind === 'done' || a.kind === 'failed') this.forget(a.requestID);
    else if (!this.running.has(a.requestID)) {
      this.running.add(a.requestID);
      this.runningOf.set(origin, (this.runningOf.get(origin) ?? 0) + 1);
    }
  }

  forget(requestID: string | undefined): void {
    if (requestID === undefined) return;
    const origin = this.originOf.get(requestID);
    this.originOf.delete(requestID);
    if (this.running.delete(requestID) && origin !== undefined) {
      const n = this.runningOf.get(origin)! - 1;
      if (n === 0) this.runningOf.delete(origin);
      else this.runningOf.set(origin, n);
    }
    if (origin !== undefined) {
      const ids = this.waiting.get(origin);
      ids?.delete(requestID);
      if (ids?.size === 0) this.waiting.delete(origin);
    }
  }

  /** The nodes to show "queued" on: a request waiting, none under way. */
  waitingOrigins(): string[] {
    const out: string[] = [];
    for (const [origin, ids] of this.waiting) {
      if (ids.size > 0 && !this.runningOf.has(origin)) out.push(origin);
    }
    return out;
  }
}
