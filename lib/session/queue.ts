import { type Clock, systemClock, type Timer } from '../clock';
import { BusyError, TimeoutError } from '../protocol';
import type { Action } from '../protocol';
import type { BusyPolicy } from './types';

export interface Job {
  action: Action;
  /** The payment's reference (Sale, Refund): what an Abort names to take it out of the queue. */
  referenceID?: string;
  /** How long it may wait in the queue before it is released unsent. */
  waitMs: number;
  signal?: AbortSignal;
  /** Runs the job; it calls `queue.next()` when done. */
  start: () => void;
  reject: (err: unknown) => void;
  /** Told when the job has to wait behind others (its place, from 1). */
  onWaiting?: (position: number) => void;
  timer?: Timer;
}

/**
 * One request in flight per terminal; the others wait in order, up to a
 * bound, each with its own time-out. A job released from the queue (time-out,
 * abort, close) was certainly never sent.
 */
export class RequestQueue {
  private readonly jobs: Job[] = [];
  private running = false;

  constructor(
    private readonly opts: { maxQueue: number; busyPolicy: BusyPolicy },
    private readonly clock: Clock = systemClock,
  ) {}

  /** Jobs waiting behind the one in flight. */
  get length(): number {
    return this.jobs.length;
  }

  get busy(): boolean {
    return this.running;
  }

  /** Starts a job now, queues it, or refuses it (busy policy, full queue, aborted). */
  admit(job: Job): void {
    if (this.running && this.opts.busyPolicy === 'reject') {
      job.reject(new BusyError(`the terminal is busy with another request; ${job.action} refused`, { notSent: true }));
      return;
    }
    if (this.running && this.jobs.length >= this.opts.maxQueue) {
      job.reject(new BusyError(`the request queue is full (${this.opts.maxQueue} waiting); ${job.action} refused`, { code: 'E_QUEUE_FULL', notSent: true }));
      return;
    }
    if (job.signal?.aborted) {
      job.reject(job.signal.reason);
      return;
    }
    if (!this.running) {
      this.running = true;
      job.start();
      return;
    }
    this.jobs.push(job);
    const release = (err: unknown) => {
      const at = this.jobs.indexOf(job);
      if (at < 0) return;
      this.jobs.splice(at, 1);
      job.timer?.cancel();
      job.reject(err);
    };
    job.timer = this.clock.setTimer(
      () => release(new TimeoutError(`${job.action} waited ${Math.round(job.waitMs / 100) / 10} s in the queue behind other requests and was not sent`, { notSent: true })),
      job.waitMs,
    );
    job.signal?.addEventListener('abort', () => release(job.signal!.reason), { once: true });
    job.onWaiting?.(this.jobs.length);
  }

  /**
   * Takes the waiting Sale or Refund under `referenceID` out of the queue and
   * rejects it with `err` (it was never sent). False when none waits.
   */
  cancel(referenceID: string, err: (job: Job) => unknown): boolean {
    const at = this.jobs.findIndex((job) => job.referenceID === referenceID && (job.action === 'Sale' || job.action === 'Refund'));
    if (at < 0) return false;
    const [job] = this.jobs.splice(at, 1);
    job!.timer?.cancel();
    job!.reject(err(job!));
    return true;
  }

  /** The job in flight is done: starts the next one. */
  next(): void {
    const job = this.jobs.shift();
    if (job === undefined) {
      this.running = false;
      return;
    }
    job.timer?.cancel();
    job.start();
  }

  /** Releases every waiting job with the error `reason` makes for it (nothing of them was sent). */
  releaseAll(reason: (job: Job) => unknown): void {
    for (const job of this.jobs.splice(0)) {
      job.timer?.cancel();
      job.reject(reason(job));
    }
  }
}
