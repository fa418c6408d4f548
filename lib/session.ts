import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import { WonderCipher } from './crypto';
import type { Envelope } from './envelope';
import { BusyError, SecurityError, TimeoutError, TransportError, ValidationError, WonderError, isNotSent, isWonderError } from './errors';
import {
  buildBody,
  buildRequest,
  encodeRequest,
  parseResponse,
  responseHeaderOf,
  type Action,
  type RequestBodies,
  type RequestParams,
  type Response,
  type ResponseBodies,
  type ResponseHeader,
  type TransactionBody,
} from './messages';
import { Journal, journalKey, journalOutcome, type JournalAction, type JournalEntry } from './journal';
import type { Transport, TransportState } from './transport';
import { validateText } from './validate';
import { CloudTransport } from './transport-cloud';

export type BusyPolicy = 'queue' | 'reject';

export interface SessionOptions {
  transport: Transport;
  /** The 6-character code shown on the terminal; the key is derived once and the code is not kept. */
  pairingCode: string;
  /** The ECR's own serial number, sent in every request header. Defaults to this host's name. */
  clientDeviceSN?: string;
  /** How long a Sale or Refund may wait for the cardholder (default 120 s). */
  paymentTimeoutMs?: number;
  /** Time-out of every other action (default 10 s). */
  commandTimeoutMs?: number;
  /** Requests that may wait behind the one in flight (default 256). */
  maxQueue?: number;
  /** While a request is in flight: queue the next one (default) or refuse it as busy. */
  busyPolicy?: BusyPolicy;
  /** Interval between TransactionStatus queries while an outcome is unknown (default 2 s). */
  statusPollIntervalMs?: number;
  /** How long to keep asking TransactionStatus before reporting the outcome as still pending (default 120 s). */
  resolveTimeoutMs?: number;
  /** Transaction journal: payments are recorded before they leave and never sent twice. */
  journal?: Journal;
  /** This terminal's name in the journal (default "terminal"). */
  terminalId?: string;
}

export interface RequestOptions {
  /** Overrides the action's time-out for this request. */
  timeoutMs?: number;
  /** Cancels the request while it waits in the queue. Once sent, a payment is always resolved. */
  signal?: AbortSignal;
  /** Called once the request is validated and queued, before anything is sent. */
  onQueued?: (info: { requestID: string; referenceID?: string }) => void;
  /** Who asked (a node id): kept in the journal, to emit a recovered outcome from. */
  origin?: string;
}

/** What a request ended with. */
export interface Outcome<A extends Action = Action> {
  action: A;
  requestID: string;
  /** The reference of the transaction (Sale, Refund) or of the one acted on (Void). */
  referenceID?: string;
  header: ResponseHeader;
  /** The decrypted response body as the terminal sent it. */
  body: ResponseBodies[A] | TransactionBody;
  /**
   * Success or Failed: the settled result. For an outcome read back with
   * TransactionStatus, `body` is that query's body and `result` what it says
   * of the transaction.
   */
  result?: 'Success' | 'Failed' | 'Pending' | 'Voided';
  /** Set when the outcome was learnt by TransactionStatus, not from the payment's own answer. */
  resolvedBy?: 'TransactionStatus';
  /** TransactionStatus requests made to settle this outcome. */
  statusQueries: number;
  elapsedMs: number;
  /** The referenceID was handled before: this is its recorded (or settled) outcome; nothing was sent again. */
  duplicate?: boolean;
  /** An Abort was sent while this payment waited, and the payment was approved anyway. */
  approvedDespiteAbort?: boolean;
}

/** An open journal entry settled after the fact (at start, or before the next payment). */
export interface Recovery {
  entry: JournalEntry;
  outcome?: Outcome;
  error?: unknown;
}

/** A payment whose outcome was still unknown when the session stopped asking. */
export class PendingError extends WonderError {
  readonly referenceID: string;
  readonly lastBody?: unknown;
  constructor(action: Action, referenceID: string, lastBody: unknown, cause?: unknown) {
    super('E_PENDING', `${action} ${referenceID}: outcome still pending; check it later with TransactionStatus`, { cause });
    this.name = 'PendingError';
    this.referenceID = referenceID;
    if (lastBody !== undefined) this.lastBody = lastBody;
  }
}

export type SessionActivity =
  | { kind: 'sending'; action: Action; requestID: string }
  | { kind: 'waiting-card'; action: Action; requestID: string; referenceID?: string }
  | { kind: 'resolving'; action: Action; requestID: string; referenceID: string }
  | { kind: 'done'; action: Action; requestID: string; result?: string }
  | { kind: 'failed'; action: Action; requestID: string; code: string };

const WAITS_FOR_CARDHOLDER: readonly Action[] = ['Sale', 'Refund'];
const SETTLED_BY_STATUS: readonly Action[] = ['Sale', 'Refund', 'Void'];
const BUSY_TEXT = /busy|being traded|in progress|ongoing/i;
const REFERENCE_USED = /duplicate|(reference|referenceID).*(used|exist)/i;

interface Waiter {
  requestID: string;
  onResponse(plain: unknown): void;
  onSecurityError(err: SecurityError): void;
}

interface Job {
  action: Action;
  requestID: string;
  options: RequestOptions;
  start: () => void;
  reject: (err: unknown) => void;
  queueTimer?: NodeJS.Timeout;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function defaultClientSN(): string {
  const name = hostname().replace(/[^\x20-\x7e]/g, '').slice(0, 64);
  return name.length > 0 ? name : 'node-red-ecr';
}

/**
 * One session per terminal, shared by every caller. One request is in flight
 * at a time, the others wait in order in a bounded queue; Abort goes out at
 * once, beside the request it aborts. Responses are matched to requests by
 * responseID; anything else is dropped. A payment whose answer is Pending or
 * missing is settled by TransactionStatus on the same referenceID, never sent
 * again.
 *
 * Events: `state` (TransportState), `activity` (SessionActivity),
 * `stray` ({responseID, reason}) for dropped responses.
 */
export class TerminalSession extends EventEmitter {
  readonly transport: Transport;
  readonly clientDeviceSN: string;
  private cipher: WonderCipher;
  private readonly opts: Required<Omit<SessionOptions, 'transport' | 'pairingCode' | 'clientDeviceSN' | 'journal' | 'terminalId'>>;
  private readonly journal: Journal | undefined;
  private readonly terminalId: string;
  /** Payments queued or in flight, by journal key: a duplicate joins the first. */
  private readonly payments = new Map<string, { promise: Promise<Outcome>; amount: string | undefined; currency: string | undefined }>();
  private currentPayment: string | undefined;
  private readonly abortRequested = new Set<string>();
  private readonly waiters = new Map<string, Waiter>();
  private readonly queue: Job[] = [];
  private busy = false;
  private closed = false;
  private readonly closing = new AbortController();
  private readonly onMessage = (env: Envelope) => this.dispatch(env);
  private readonly onState = (state: TransportState, err?: Error) => this.emit('state', state, err);

  constructor(options: SessionOptions) {
    super();
    this.transport = options.transport;
    this.cipher = new WonderCipher(options.pairingCode);
    this.clientDeviceSN = validateText(options.clientDeviceSN ?? defaultClientSN(), 'clientDeviceSN');
    this.opts = {
      paymentTimeoutMs: options.paymentTimeoutMs ?? 120_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
      maxQueue: options.maxQueue ?? 256,
      busyPolicy: options.busyPolicy ?? 'queue',
      statusPollIntervalMs: options.statusPollIntervalMs ?? 2_000,
      resolveTimeoutMs: options.resolveTimeoutMs ?? 120_000,
    };
    this.journal = options.journal;
    this.terminalId = options.terminalId ?? 'terminal';
    this.transport.on('message', this.onMessage);
    this.transport.on('state', this.onState);
  }

  get state(): TransportState {
    return this.transport.state;
  }

  /** Requests waiting behind the one in flight. */
  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): boolean {
    return this.busy;
  }

  /**
   * Opens the transport. On the cloud path with no device SN configured, asks
   * ConnectionInfo for it first (the pairing code's key is enough for that).
   */
  async open(): Promise<void> {
    await this.transport.open();
    const cloud = this.transport;
    if (cloud instanceof CloudTransport && cloud.deviceSn === undefined) {
      const info = await this.request('ConnectionInfo', { businessID: cloud.businessId });
      cloud.setDeviceSn(info.body.deviceSn as string);
    }
  }

  /** Switches to a new pin code (the cloud's pinCode2 after Pair). */
  rekey(pairingCode: string): void {
    this.cipher = new WonderCipher(pairingCode);
  }

  /**
   * Validates, queues and sends one request and waits for its outcome.
   * Validation errors are thrown before anything is queued or sent.
   */
  request<A extends Action>(action: A, params?: RequestParams[A], options: RequestOptions = {}): Promise<Outcome<A>> {
    let body: RequestBodies[A];
    try {
      body = buildBody(action, params);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.closed) return Promise.reject(new TransportError('the terminal session is closed', { code: 'E_CLOSED' }));
    if (!isPayment(action)) return this.schedule(action, body, options, false) as Promise<Outcome<A>>;

    // A payment: never twice. A duplicate joins the one queued or in flight,
    // gets the journal's settled outcome, or has its open entry settled by status.
    const reference = paymentReference(action, body);
    const key = journalKey(action, reference);
    const { amount, currency } = body as { amount?: string; currency?: string };
    const mismatch = (earlier: { amount?: string | undefined; currency?: string | undefined }) =>
      earlier.amount !== amount || earlier.currency !== currency
        ? new ValidationError('referenceID', `was used for ${earlier.amount ?? '?'} ${earlier.currency ?? '?'}; a repeat must carry the same amount and currency, or a new referenceID`)
        : undefined;
    const running = this.payments.get(key);
    if (running !== undefined) {
      const refused = mismatch(running);
      if (refused !== undefined) return Promise.reject(refused);
      return running.promise.then((o) => ({ ...o, duplicate: true }) as Outcome<A>);
    }
    let settleOnly = false;
    if (this.journal !== undefined) {
      const other = action === 'Void' ? undefined : this.journal.byReference(reference);
      if (other !== undefined && other.action !== action && other.state !== 'NotSent') {
        return Promise.reject(new ValidationError('referenceID', `is already used by a ${other.action}; every transaction needs its own`));
      }
      const entry = this.journal.get(action, reference);
      if (entry !== undefined && entry.state !== 'NotSent') {
        const refused = mismatch(entry);
        if (refused !== undefined) return Promise.reject(refused);
      }
      // A failed Void may be tried again (the terminal was busy, say); every other settled entry is final.
      const final = entry !== undefined && (entry.state === 'Success' || (entry.state === 'Failed' && action !== 'Void'));
      if (final) {
        options.onQueued?.({ requestID: entry.requestID, referenceID: reference });
        return Promise.resolve(outcomeFromJournal(entry) as Outcome<A>);
      }
      settleOnly = entry?.state === 'open';
    }
    const promise = this.schedule(action, body, options, settleOnly);
    this.payments.set(key, { promise, amount, currency });
    const forget = () => {
      if (this.payments.get(key)?.promise === promise) this.payments.delete(key);
    };
    promise.then(forget, forget);
    return promise as Promise<Outcome<A>>;
  }

  /**
   * Settles every open journal entry of this terminal with TransactionStatus,
   * in the queue like any request. Emits `recovered` for each settled one.
   */
  recover(): Promise<Recovery[]> {
    if (this.journal === undefined || this.journal.openEntries(this.terminalId).length === 0) return Promise.resolve([]);
    return new Promise<Recovery[]>((resolve, reject) => {
      this.admit({
        action: 'TransactionStatus',
        requestID: randomUUID(),
        options: {},
        reject,
        start: () => {
          this.settleOpen(undefined)
            .then(resolve, reject)
            .finally(() => this.next());
        },
      });
    });
  }

  private schedule(action: Action, body: unknown, options: RequestOptions, settleOnly: boolean): Promise<Outcome> {
    const requestID = randomUUID();
    const referenceID = isPayment(action) ? paymentReference(action, body) : undefined;
    return new Promise<Outcome>((resolve, reject) => {
      const job: Job = {
        action,
        requestID,
        options,
        reject,
        start: () => {
          this.run(action, body, requestID, options, settleOnly).then(resolve, reject);
        },
      };
      if (action === 'Abort') {
        // Abort must reach the terminal while the payment it aborts is in flight.
        if (this.currentPayment !== undefined) this.abortRequested.add(this.currentPayment);
        options.onQueued?.({ requestID });
        job.start();
        return;
      }
      options.onQueued?.(referenceID === undefined || action === 'Void' ? { requestID } : { requestID, referenceID });
      this.admit(job);
    });
  }

  /** Starts a job now, queues it, or refuses it (busy policy, full queue). */
  private admit(job: Job): void {
    if (this.busy && this.opts.busyPolicy === 'reject') {
      job.reject(new BusyError(`the terminal is busy with another request; ${job.action} refused`));
      return;
    }
    if (this.busy && this.queue.length >= this.opts.maxQueue) {
      job.reject(new BusyError(`the request queue is full (${this.opts.maxQueue} waiting); ${job.action} refused`, { code: 'E_QUEUE_FULL' }));
      return;
    }
    if (job.options.signal?.aborted) {
      job.reject(job.options.signal.reason);
      return;
    }
    if (!this.busy) {
      this.busy = true;
      job.start();
      return;
    }
    this.enqueue(job);
  }

  private enqueue(job: Job): void {
    this.queue.push(job);
    const release = (err: unknown) => {
      const at = this.queue.indexOf(job);
      if (at < 0) return;
      this.queue.splice(at, 1);
      clearTimeout(job.queueTimer);
      job.reject(err);
    };
    const wait = job.options.timeoutMs ?? this.timeoutFor(job.action);
    job.queueTimer = setTimeout(
      () => release(new TimeoutError(`${job.action} waited ${Math.round(wait / 100) / 10} s in the queue behind other requests and was not sent`)),
      wait,
    );
    job.options.signal?.addEventListener('abort', () => release(job.options.signal!.reason), { once: true });
  }

  private next(): void {
    const job = this.queue.shift();
    if (job === undefined) {
      this.busy = false;
      return;
    }
    clearTimeout(job.queueTimer);
    job.start();
  }

  private timeoutFor(action: Action): number {
    // A Void may ask for a supervisor on the terminal: it gets the payment time-out too.
    return SETTLED_BY_STATUS.includes(action) ? this.opts.paymentTimeoutMs : this.opts.commandTimeoutMs;
  }

  private async run<A extends Action>(action: A, body: unknown, requestID: string, options: RequestOptions, settleOnly: boolean): Promise<Outcome<A>> {
    const started = Date.now();
    try {
      const outcome = isPayment(action)
        ? await this.runPayment(action, body, requestID, options, started, settleOnly)
        : await this.runCommand(action, body, requestID, options, started);
      this.emit('activity', { kind: 'done', action, requestID, result: outcome.result ?? (outcome.body as { status?: string }).status });
      return outcome;
    } catch (err) {
      this.emit('activity', { kind: 'failed', action, requestID, code: isWonderError(err) ? err.code : 'E_UNKNOWN' });
      throw err;
    } finally {
      if (action !== 'Abort') this.next();
    }
  }

  private async runCommand<A extends Action>(action: A, body: unknown, requestID: string, options: RequestOptions, started: number): Promise<Outcome<A>> {
    this.emit('activity', { kind: 'sending', action, requestID });
    const res = await this.exchange(action, body, requestID, options.timeoutMs ?? this.timeoutFor(action));
    const outcome: Outcome<A> = { action, requestID, header: res.header, body: res.body, statusQueries: 0, elapsedMs: Date.now() - started };
    const result = action === 'TransactionStatus' ? transactionState(res.body as TransactionBody) : (res.body as { status?: string }).status;
    if (result === 'Success' || result === 'Failed' || result === 'Pending' || result === 'Voided') outcome.result = result;
    return outcome;
  }

  private async runPayment<A extends Action>(
    action: A & JournalAction,
    body: unknown,
    requestID: string,
    options: RequestOptions,
    started: number,
    settleOnly: boolean,
  ): Promise<Outcome<A>> {
    // Before a new payment, settle what earlier ones left open.
    await this.settleOpen(journalKey(action, paymentReference(action, body)));
    const b = body as { referenceID?: string; orgReferenceID?: string; amount?: string; currency?: string };
    // Void has no reference of its own: its effect shows on the transaction it voids.
    const referenceID = paymentReference(action, body);
    if (settleOnly) {
      // Sent before (the journal holds it open): ask, never send again.
      const entry = this.journal!.get(action, referenceID)!;
      const outcome = await this.settle(action, entry.requestID, referenceID, started, undefined, undefined);
      await this.journal!.settle(action, referenceID, outcome.result as 'Success' | 'Failed', journalOutcome(outcome.body, outcome.resolvedBy));
      return { ...outcome, duplicate: true };
    }
    await this.journal?.begin({
      referenceID,
      action,
      terminal: this.terminalId,
      requestID,
      ...(b.amount !== undefined ? { amount: b.amount } : {}),
      ...(b.currency !== undefined ? { currency: b.currency } : {}),
      ...(b.orgReferenceID !== undefined && action !== 'Void' ? { orgReferenceID: b.orgReferenceID } : {}),
      ...(options.origin !== undefined ? { node: options.origin } : {}),
    });
    this.emit('activity', WAITS_FOR_CARDHOLDER.includes(action)
      ? { kind: 'waiting-card', action, requestID, referenceID }
      : { kind: 'sending', action, requestID });
    this.currentPayment = requestID;
    try {
      let outcome: Outcome<A>;
      try {
        outcome = await this.pay(action, body, requestID, referenceID, options, started);
      } catch (err) {
        // Nothing left this host (not connected), or nothing could be read (wrong key):
        // the same referenceID may be used again.
        // Certainly never left this host: the same referenceID may be used again.
        // Anything else (closed while waiting, an answer we cannot decrypt) stays open.
        if (isNotSent(err)) await this.journal?.settle(action, referenceID, 'NotSent');
        throw err;
      }
      await this.journal?.settle(action, referenceID, outcome.result as 'Success' | 'Failed', journalOutcome(outcome.body, outcome.resolvedBy));
      if (outcome.result === 'Success' && this.abortRequested.has(requestID)) outcome.approvedDespiteAbort = true;
      return outcome;
    } finally {
      this.currentPayment = undefined;
      this.abortRequested.delete(requestID);
    }
  }

  /** Sends the payment once and settles its outcome. */
  private async pay<A extends Action>(action: A, body: unknown, requestID: string, referenceID: string, options: RequestOptions, started: number): Promise<Outcome<A>> {
    let first: Response<A> | undefined;
    let firstError: unknown;
    try {
      first = await this.exchange(action, body, requestID, options.timeoutMs ?? this.timeoutFor(action));
    } catch (err) {
      // Not sent: nothing can have happened. Closing, or an answer we cannot
      // decrypt: the outcome is unknown and the journal keeps it open.
      if (isNotSent(err) || this.closed || (isWonderError(err) && (err.code === 'E_SECURITY' || err.code === 'E_VALIDATION'))) throw err;
      firstError = err;
    }
    if (first !== undefined) {
      const b = first.body as { status: string; errorCode?: string; errorMessage?: string };
      // "This reference was used": the terminal knows an earlier transaction under it
      // (one the journal does not hold). Its status is the outcome, not this refusal.
      const usedBefore = b.status === 'Failed' && REFERENCE_USED.test(`${b.errorCode ?? ''} ${b.errorMessage ?? ''}`);
      if ((b.status === 'Success' || b.status === 'Failed') && !usedBefore) {
        return { action, requestID, referenceID, header: first.header, body: first.body, result: b.status, statusQueries: 0, elapsedMs: Date.now() - started };
      }
      if (usedBefore) {
        const earlier = await this.settle(action, requestID, referenceID, started, first.body, undefined);
        return { ...earlier, duplicate: true };
      }
    }
    return this.settle(action, requestID, referenceID, started, first?.body ?? undefined, firstError);
  }

  /**
   * Settles the journal's open entries of this terminal (all but `except`).
   * Called before each new payment; refuses the payment while one stays open.
   */
  private async settleOpen(except: string | undefined): Promise<Recovery[]> {
    if (this.journal === undefined) return [];
    const results: Recovery[] = [];
    for (const entry of this.journal.openEntries(this.terminalId)) {
      if (journalKey(entry.action, entry.referenceID) === except) continue;
      try {
        const outcome = await this.settle(entry.action, entry.requestID, entry.referenceID, Date.now(), undefined, undefined);
        await this.journal.settle(entry.action, entry.referenceID, outcome.result as 'Success' | 'Failed', journalOutcome(outcome.body, outcome.resolvedBy));
        results.push({ entry, outcome });
        this.emit('recovered', { entry, outcome });
      } catch (error) {
        results.push({ entry, error });
        if (except !== undefined && error instanceof SecurityError) throw error;
        if (except !== undefined) {
          throw new WonderError('E_BLOCKED', `an earlier ${entry.action} (${entry.referenceID}) is still unresolved; this payment was not sent and waits until it is settled`, { cause: error });
        }
      }
    }
    return results;
  }

  /** Asks TransactionStatus for `target` until the outcome is final or the resolve time-out passes. */
  private async settle<A extends Action>(
    action: A,
    requestID: string,
    referenceID: string,
    started: number,
    lastBody: unknown,
    cause: unknown,
  ): Promise<Outcome<A>> {
    this.emit('activity', { kind: 'resolving', action, requestID, referenceID });
    const deadline = Date.now() + this.opts.resolveTimeoutMs;
    let queries = 0;
    let late: Response<A> | undefined;
    // A late answer to the payment itself settles it too.
    const stop = new AbortController();
    const lateWaiter: Waiter = {
      requestID,
      onResponse: (plain) => {
        try {
          const res = parseResponse(action, plain);
          const status = (res.body as { status?: string }).status;
          if (status === 'Success' || status === 'Failed') {
            late = res;
            stop.abort();
          }
        } catch {
          // A malformed late answer settles nothing; TransactionStatus will.
        }
      },
      onSecurityError: () => undefined,
    };
    this.waiters.set(requestID, lateWaiter);
    try {
      // Ask at least once, however short the deadline.
      while ((queries === 0 || Date.now() < deadline) && !this.closing.signal.aborted) {
        await sleep(Math.min(this.opts.statusPollIntervalMs, Math.max(0, deadline - Date.now())), AbortSignal.any([stop.signal, this.closing.signal]));
        if (late !== undefined) break;
        if (this.closing.signal.aborted || (queries > 0 && Date.now() >= deadline)) break;
        queries++;
        const statusBody = { targetReferenceID: referenceID };
        const statusID = randomUUID();
        let res: Response<'TransactionStatus'>;
        try {
          res = await this.exchange('TransactionStatus', statusBody, statusID, Math.min(this.opts.commandTimeoutMs, Math.max(1_000, deadline - Date.now())));
        } catch (err) {
          if (isWonderError(err) && err.code === 'E_SECURITY') throw err;
          cause = err;
          if (late !== undefined) break;
          continue;
        }
        lastBody = res.body;
        const result = settledResult(action, res.body);
        if (result !== undefined) {
          return { action, requestID, referenceID, header: res.header, body: res.body, result, resolvedBy: 'TransactionStatus', statusQueries: queries, elapsedMs: Date.now() - started };
        }
        if (late !== undefined) break;
      }
    } finally {
      if (this.waiters.get(requestID) === lateWaiter) this.waiters.delete(requestID);
    }
    if (late !== undefined) {
      const status = (late.body as { status: 'Success' | 'Failed' }).status;
      return { action, requestID, referenceID, header: late.header, body: late.body, result: status, statusQueries: queries, elapsedMs: Date.now() - started };
    }
    throw new PendingError(action, referenceID, lastBody, cause);
  }

  /** Sends one request and waits for the response with its requestID. */
  private exchange<A extends Action>(action: A, body: unknown, requestID: string, timeoutMs: number): Promise<Response<A>> {
    const request = buildRequest(action, body as never, { clientDeviceSN: this.clientDeviceSN, requestID });
    const envelope = encodeRequest(this.cipher, request);
    const controller = new AbortController();
    return new Promise<Response<A>>((resolve, reject) => {
      let settled = false;
      let sent = false;
      const finish = (err: unknown, res?: Response<A>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.closing.signal.removeEventListener('abort', onClose);
        if (this.waiters.get(requestID) === waiter) this.waiters.delete(requestID);
        // Stop a send still under way (an HTTP request); aborting a finished one costs for nothing.
        if (!sent) controller.abort();
        if (err !== undefined) reject(err);
        else resolve(res!);
      };
      const waiter: Waiter = {
        requestID,
        onResponse: (plain) => {
          try {
            finish(undefined, parseResponse(action, plain));
          } catch (err) {
            finish(err);
          }
        },
        onSecurityError: (err) => finish(err),
      };
      const timer = setTimeout(
        () => finish(new TimeoutError(`${action}: no answer from the terminal within ${Math.round(timeoutMs / 100) / 10} s`)),
        timeoutMs,
      );
      const onClose = () => finish(new TransportError(`${action}: the terminal session was closed`, { code: 'E_CLOSED' }));
      this.closing.signal.addEventListener('abort', onClose, { once: true });
      this.waiters.set(requestID, waiter);
      this.transport.send(envelope, { signal: controller.signal, action, requestID }).then(
        () => {
          sent = true;
        },
        (err: unknown) => {
          sent = true;
          if (!controller.signal.aborted) finish(err);
        },
      );
    });
  }

  /** Routes a received envelope to the request it answers; anything else is dropped. */
  private dispatch(envelope: Envelope): void {
    let plain: unknown;
    try {
      plain = this.cipher.decryptJson(envelope.data);
    } catch (err) {
      // Only the paired terminal talks on this link: a message that does not
      // decrypt answers what is in flight, with a key that is not ours.
      const security = err instanceof SecurityError ? err : new SecurityError('response could not be decrypted', { cause: err });
      const waiting = [...this.waiters.values()];
      if (waiting.length === 0) this.emit('stray', { reason: 'undecryptable' });
      for (const w of waiting) w.onSecurityError(security);
      return;
    }
    let header: ResponseHeader;
    try {
      header = responseHeaderOf(plain);
    } catch {
      this.emit('stray', { reason: 'no responseID' });
      return;
    }
    const waiter = this.waiters.get(header.responseID);
    if (waiter === undefined) {
      this.emit('stray', { responseID: header.responseID, reason: 'no request waiting for it' });
      return;
    }
    waiter.onResponse(plain);
  }

  /** Rejects what waits, stops settling, closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const job of this.queue.splice(0)) {
      clearTimeout(job.queueTimer);
      job.reject(new TransportError(`${job.action} was not sent: the terminal session was closed`, { code: 'E_CLOSED' }));
    }
    this.transport.off('message', this.onMessage);
    await this.transport.close();
    this.transport.off('state', this.onState);
  }
}

/**
 * The state of the transaction a TransactionStatus answer describes: its
 * `transactionStatus` where given, else the answer's status (a query that
 * failed, e.g. unknown reference, says Failed).
 */
export function transactionState(body: TransactionBody): 'Success' | 'Failed' | 'Pending' | 'Voided' | undefined {
  const state = typeof body.transactionStatus === 'string' && body.transactionStatus !== '' ? body.transactionStatus : body.status;
  if (state === 'Pending' || (body.status === 'Failed' && BUSY_TEXT.test(`${body.errorCode} ${body.errorMessage}`))) return 'Pending';
  return state === 'Success' || state === 'Failed' || state === 'Voided' ? state : undefined;
}

/** What a TransactionStatus body says of the transaction, or undefined while it is not final. */
export function settledResult(action: Action, body: TransactionBody): 'Success' | 'Failed' | undefined {
  const state = typeof body.transactionStatus === 'string' && body.transactionStatus !== '' ? body.transactionStatus : body.status;
  if (state === 'Pending') return undefined;
  if (body.status === 'Failed' && BUSY_TEXT.test(`${body.errorCode} ${body.errorMessage}`)) return undefined;
  if (action === 'Void') {
    // The sale shows Success until the void is applied: only Voided (done) or a failed sale
    // (nothing to void) settle it; otherwise ask again until the deadline.
    if (state === 'Voided') return 'Success';
    return state === 'Failed' ? 'Failed' : undefined;
  }
  if (state === 'Voided') return 'Failed';
  return state === 'Success' || state === 'Failed' ? state : undefined;
}

function isPayment(action: Action): action is JournalAction {
  return SETTLED_BY_STATUS.includes(action);
}

/** A payment's reference: its own for Sale and Refund, the voided one for Void. */
function paymentReference(action: Action, body: unknown): string {
  const b = body as { referenceID?: string; orgReferenceID?: string };
  return (action === 'Void' ? b.orgReferenceID : b.referenceID)!;
}

function outcomeFromJournal(entry: JournalEntry): Outcome {
  const header: ResponseHeader = { responseID: entry.requestID, serverDeviceSN: '', timestamp: entry.closedAt ?? entry.openedAt };
  const outcome: Outcome = {
    action: entry.action,
    requestID: entry.requestID,
    referenceID: entry.referenceID,
    header,
    body: (entry.outcome ?? {}) as TransactionBody,
    result: entry.state as 'Success' | 'Failed',
    statusQueries: 0,
    elapsedMs: 0,
    duplicate: true,
  };
  if (entry.outcome?.resolvedBy === 'TransactionStatus') outcome.resolvedBy = 'TransactionStatus';
  return outcome;
}
