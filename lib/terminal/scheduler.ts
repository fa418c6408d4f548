import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type Timer } from '../clock';
import { aboutPayment, BusyError, TimeoutError, TransportError, WonderError, type Action } from '../protocol';
import type { BusyPolicy } from '../session';

/**
 * What a job is, in the order they go when several wait: the key a cloud
 * terminal speaks with (loaded once the line is open), the identity check after
 * each connect (who answers on this line), a Pair (what comes after it speaks
 * with its new key), the recovery of open payments, the callers' requests
 * (first come, first served), and last the idle health check.
 */
export type JobKind = 'key' | 'identity' | 'pair' | 'recovery' | 'request' | 'health';

/** Lower goes first. */
export const JOB_PRIORITY: Readonly<Record<JobKind, number>> = { key: 0, identity: 1, pair: 2, recovery: 3, request: 4, health: 5 };

export interface JobSpec<T> {
  kind: JobKind;
  /** A request's action (what a time-out or a refusal names). */
  action?: Action;
  /** Who asked (a node id): its "queued (n)". */
  origin?: string;
  /** A Sale's or Refund's reference: what an Abort naming it takes out of the queue. */
  referenceID?: string;
  /**
   * How long it may wait behind callers' requests before it is released
   * unsent (on the clock's monotonic reading); none: as long as it takes.
   * Time behind the terminal's own jobs (each bounded) does not count.
   */
  waitMs?: number;
  /** Takes it out while it waits (its reason is the error); once started it runs to its end. */
  signal?: AbortSignal;
  /** Told when it has to wait behind a caller's request: its place among the requests waiting, from 1. */
  onWaiting?: (position: number) => void;
  /** The job. Called when its turn comes; the next job starts once it settles. */
  run: () => Promise<T>;
}

/** A job as the scheduler's state shows it. */
export interface JobView {
  kind: JobKind;
  action?: Action;
  origin?: string;
  referenceID?: string;
}

interface Job extends JobView {
  seq: number;
  priority: number;
  spec: JobSpec<unknown>;
  resolve: (value: unknown) => void;
  /** Its end as the job itself failed: the error as it is (it may have been sent). */
  fail: (err: unknown) => void;
  /** Released before it ran: certainly never sent (a payment's error says so, with its reference). */
  reject: (err: unknown) => void;
  timer?: Timer;
  /** Wait time left (ms), and since when the timer counts it down (monotonic), while it does. */
  leftMs?: number;
  countingSince?: number;
  onAbort?: () => void;
}

export interface SchedulerOptions {
  /** While a caller's request runs or waits: queue the next one (default) or refuse it as busy. Internal jobs never make a request refused. */
  busyPolicy?: BusyPolicy;
  /** Requests that may wait (default 256). */
  maxQueue?: number;
  clock?: Clock;
}

/**
 * One terminal's one queue: every caller's request and every internal job
 * (the key, the identity check, a Pair, recovery, the health check) waits
 * here, and one runs at a time, by priority (JOB_PRIORITY) then in the order
 * they came. A job released before it ran (its wait over, its signal, an
 * Abort naming it, close) was certainly never sent.
 *
 * Events: `change` (something was added, started, finished or released: the
 * state shown follows).
 */
export class Scheduler extends EventEmitter {
  private readonly waiting: Job[] = [];
  private current: Job | undefined;
  private seq = 0;
  private closedWith: ((job: JobView) => unknown) | undefined;
  private readonly busyPolicy: BusyPolicy;
  private readonly maxQueue: number;
  private readonly clock: Clock;

  constructor(options: SchedulerOptions = {}) {
    super();
    this.busyPolicy = options.busyPolicy ?? 'queue';
    this.maxQueue = options.maxQueue ?? 256;
    this.clock = options.clock ?? systemClock;
  }

  /** The job running now. */
  get running(): JobView | undefined {
    return this.current === undefined ? undefined : view(this.current);
  }

  /** The jobs waiting, in the order they will go. */
  get queue(): JobView[] {
    return this.waiting.map(view);
  }

  /** Nothing runs and nothing waits. */
  get idle(): boolean {
    return this.current === undefined && this.waiting.length === 0;
  }

  /** Callers' requests waiting (for "queued (n)"). */
  get requestsWaiting(): number {
    return this.waiting.filter((j) => j.kind === 'request').length;
  }

  /** Whether a job of `kind` runs or waits. */
  has(kind: JobKind): boolean {
    return this.current?.kind === kind || this.waiting.some((j) => j.kind === kind);
  }

  /**
   * The callers (origins) with a request waiting behind another request and
   * none of their own running: they show "queued (n)". A request that waits
   * only behind internal jobs (a check, recovery, the key) is not shown queued.
   */
  waitingOrigins(): string[] {
    const out = new Set<string>();
    for (const job of this.waiting) if (job.kind === 'request' && job.origin !== undefined && this.requestsAhead(job) > 0) out.add(job.origin);
    if (this.current?.origin !== undefined) out.delete(this.current.origin);
    return [...out];
  }

  /** Adds a job; its promise settles with the job's own result, or rejects unsent when it is refused or released. */
  submit<T>(spec: JobSpec<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const about = (err: unknown) => (spec.referenceID === undefined ? err : aboutPayment(err, spec.referenceID, true));
      if (this.closedWith !== undefined) {
        reject(about(this.closedWith(viewOfSpec(spec))));
        return;
      }
      if (spec.signal?.aborted) {
        reject(spec.signal.reason);
        return;
      }
      if (spec.kind === 'request') {
        const ahead = this.requestsAhead();
        const name = spec.action ?? 'request';
        if (ahead > 0 && this.busyPolicy === 'reject') {
          reject(about(new BusyError(`the terminal is busy with another request; ${name} refused`, { notSent: true })));
          return;
        }
        if (this.requestsWaiting >= this.maxQueue) {
          reject(about(new BusyError(`the request queue is full (${this.maxQueue} waiting); ${name} refused`, { code: 'E_QUEUE_FULL', notSent: true })));
          return;
        }
      }
      const job: Job = {
        ...viewOfSpec(spec),
        seq: this.seq++,
        priority: JOB_PRIORITY[spec.kind],
        spec: spec as JobSpec<unknown>,
        resolve: resolve as (value: unknown) => void,
        fail: reject,
        reject: (err) => reject(about(err)),
      };
      // Behind the others of its priority, before those of a lower one.
      let at = this.waiting.findIndex((w) => w.priority > job.priority);
      if (at < 0) at = this.waiting.length;
      this.waiting.splice(at, 0, job);
      if (this.current === undefined) {
        this.startNext();
        return;
      }
      if (spec.waitMs !== undefined) job.leftMs = spec.waitMs;
      this.countWaits();
      if (spec.signal !== undefined) {
        job.onAbort = () => this.release(job, spec.signal!.reason);
        spec.signal.addEventListener('abort', job.onAbort, { once: true });
      }
      if (job.kind === 'request' && this.requestsAhead(job) > 0) spec.onWaiting?.(this.placeOf(job));
      this.emit('change');
    });
  }

  /**
   * Takes the waiting Sale or Refund under `referenceID` (each copy of it)
   * out of the queue; each is rejected with `err` and never runs. Returns how
   * many were taken.
   */
  take(referenceID: string, err: (job: JobView) => unknown): number {
    const taken = this.waiting.filter((j) => j.kind === 'request' && j.referenceID === referenceID && (j.action === 'Sale' || j.action === 'Refund'));
    for (const job of taken) this.release(job, err(view(job)), false);
    if (taken.length > 0) this.emit('change');
    return taken.length;
  }

  /** Releases every waiting job with the error `reason` makes for it, and refuses new ones so; the one running runs to its end. */
  close(reason: (job: JobView) => unknown): void {
    this.closedWith ??= reason;
    for (const job of [...this.waiting]) this.release(job, reason(view(job)), false);
    this.emit('change');
  }

  /** Callers' requests running or waiting, ahead of `job` when one is given. */
  private requestsAhead(job?: Job): number {
    const running = this.current?.kind === 'request' ? 1 : 0;
    const waiting = this.waiting.filter((j) => j.kind === 'request' && (job === undefined || this.waiting.indexOf(j) < this.waiting.indexOf(job))).length;
    return running + waiting;
  }

  private placeOf(job: Job): number {
    return this.waiting.filter((j) => j.kind === 'request' && this.waiting.indexOf(j) <= this.waiting.indexOf(job)).length;
  }

  private release(job: Job, err: unknown, announce = true): void {
    const at = this.waiting.indexOf(job);
    if (at < 0) return;
    this.waiting.splice(at, 1);
    this.forget(job);
    job.reject(err);
    if (announce) this.emit('change');
  }

  /**
   * Runs the wait timers of the requests waiting behind a caller's request
   * (one runs), and holds them while the terminal's own job runs.
   */
  private countWaits(): void {
    const behindRequest = this.current?.kind === 'request';
    const now = this.clock.monotonic();
    for (const job of this.waiting) {
      if (job.leftMs === undefined) continue;
      if (behindRequest && job.timer === undefined) {
        job.countingSince = now;
        const waitMs = job.spec.waitMs!;
        job.timer = this.clock.setTimer(() => {
          const seconds = Math.round(waitMs / 100) / 10;
          this.release(job, new TimeoutError(`${job.action ?? job.kind} waited ${seconds} s in the queue behind other requests and was not sent`, { notSent: true }));
        }, job.leftMs);
      } else if (!behindRequest && job.timer !== undefined) {
        job.timer.cancel();
        job.timer = undefined;
        job.leftMs = Math.max(0, job.leftMs - (now - job.countingSince!));
      }
    }
  }

  private forget(job: Job): void {
    job.timer?.cancel();
    job.timer = undefined;
    if (job.onAbort !== undefined) job.spec.signal?.removeEventListener('abort', job.onAbort);
  }

  /** Starts the first waiting job; the one after it once it settles. Synchronous up to the job's own first await. */
  private startNext(): void {
    const job = this.waiting.shift();
    this.current = job;
    if (job === undefined) {
      this.emit('change');
      return;
    }
    this.forget(job);
    this.countWaits();
    let work: Promise<unknown>;
    try {
      work = job.spec.run();
    } catch (err) {
      work = Promise.reject(err);
    }
    this.emit('change');
    const done = (settle: () => void) => {
      this.current = undefined;
      // The next job starts before this one's caller hears of it: a caller that asks again at once waits its turn.
      this.startNext();
      settle();
    };
    work.then(
      (value) => done(() => job.resolve(value)),
      (err: unknown) => done(() => job.fail(err)),
    );
  }
}

function viewOfSpec(spec: JobSpec<unknown>): JobView {
  return {
    kind: spec.kind,
    ...(spec.action !== undefined ? { action: spec.action } : {}),
    ...(spec.origin !== undefined ? { origin: spec.origin } : {}),
    ...(spec.referenceID !== undefined ? { referenceID: spec.referenceID } : {}),
  };
}

function view(job: Job): JobView {
  return {
    kind: job.kind,
    ...(job.action !== undefined ? { action: job.action } : {}),
    ...(job.origin !== undefined ? { origin: job.origin } : {}),
    ...(job.referenceID !== undefined ? { referenceID: job.referenceID } : {}),
  };
}

/** The error a job waiting when its terminal closes gets: it was never sent. */
export function closedBeforeSent(job: JobView): WonderError {
  return new TransportError(`${job.action ?? job.kind} was not sent: the terminal was closed`, { code: 'E_CLOSED', notSent: true });
}
