import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../clock';
import { aboutPayment, type Action, buildBody, decideAnswer, isNotSent, isSettled, isWonderError, type PaymentAction, type RequestParams, SecurityError, type TransactionBody, TransportError, validateText, WonderCipher, WonderError } from '../protocol';
import type { Envelope } from '../protocol';
import { journalKey, referenceOfKey, type JournalEntry } from '../ledger';
import { answersInline, type Transport, type TransportState } from '../transport';
import { askedOf, defaultClientSN, isPayment, type PaymentContext, type RequestContext } from './context';
import { PendingError, ReferenceTakenError } from './errors';
import { Exchange } from './exchange';
import { PaymentLedger } from './ledger';
import { outcomeFromEntry, outcomeOf } from './outcomes';
import { RequestQueue } from './queue';
import { Resolver, type Resolved } from './resolver';
import type { Outcome, Recovery, RequestOptions, SessionOptions } from './types';

const WAITS_FOR_CARDHOLDER: readonly Action[] = ['Sale', 'Refund'];

interface CloudLike {
  deviceSn: string | undefined;
  businessId: string;
  setDeviceSn(sn: string): void;
}

/**
 * One session per terminal, shared by every caller. It only moves messages
 * and asks: the queue lets one request through at a time, the exchange
 * sends and matches, the outcome module (lib/protocol/outcome) decides what
 * an answer means, the resolver asks TransactionStatus while an outcome is
 * unknown, and the ledger keeps the journal and refuses to send a reference
 * twice.
 *
 * Events: `state` (TransportState), `activity` (SessionActivity),
 * `stray` ({responseID, reason}) for dropped responses, `recovered`
 * (Recovery) for an open payment settled after the fact, `unresolved`
 * ({entry, error}) for an old one still unknown that no longer holds new
 * payments back, `journal-behind` ({code, message}) when an outcome could
 * not be written, `exchange` (ExchangeEvent) for every message out and in
 * (sizes and words only: the line counters and the trace).
 */
export class TerminalSession extends EventEmitter {
  readonly transport: Transport;
  readonly clientDeviceSN: string;
  /** Time-outs, card windows and polls on its monotonic reading; timestamps on its wall reading. */
  readonly clock: Clock;
  private cipher: WonderCipher;
  private readonly opts: { paymentTimeoutMs: number; commandTimeoutMs: number };
  private readonly ledger: PaymentLedger;
  private readonly queue: RequestQueue;
  private readonly exchange: Exchange;
  private readonly resolver: Resolver;
  private currentPayment: string | undefined;
  /** The running payment's kind and reference (what an Abort may name). */
  private currentAsked: { action: PaymentAction; referenceID: string } | undefined;
  private readonly abortRequested = new Set<string>();
  /** When each open payment's card window ends (monotonic), from when this session first saw it: a wall clock stepped since changes none. */
  private readonly windowEnds = new Map<string, number>();
  /** Payments whose settlement was handed to the flow in this process (the ledger keeps it across restarts). */
  private readonly deliveredHere = new Set<string>();
  private closed = false;
  private readonly closing = new AbortController();
  private readonly onMessage = (env: Envelope) => this.exchange.dispatch(env);
  private readonly onState = (state: TransportState, err?: Error) => this.emit('state', state, err);

  constructor(options: SessionOptions) {
    super();
    this.transport = options.transport;
    this.clock = options.clock ?? systemClock;
    this.cipher = new WonderCipher(options.pairingCode);
    this.clientDeviceSN = validateText(options.clientDeviceSN ?? defaultClientSN(), 'clientDeviceSN');
    this.opts = { paymentTimeoutMs: options.paymentTimeoutMs ?? 120_000, commandTimeoutMs: options.commandTimeoutMs ?? 10_000 };
    this.ledger = new PaymentLedger(options.journal, options.terminalId ?? 'terminal', options.identity, this.clock);
    this.queue = new RequestQueue({ maxQueue: options.maxQueue ?? 256, busyPolicy: options.busyPolicy ?? 'queue' }, this.clock);
    this.exchange = new Exchange({
      transport: this.transport,
      cipher: () => this.cipher,
      clock: this.clock,
      clientDeviceSN: this.clientDeviceSN,
      closing: this.closing.signal,
      onStray: (info) => this.emit('stray', info),
      observe: (event) => this.emit('exchange', event),
    });
    this.resolver = new Resolver(this.exchange, this.closing.signal, {
      statusPollIntervalMs: options.statusPollIntervalMs ?? 2_000,
      resolveTimeoutMs: options.resolveTimeoutMs ?? 120_000,
      commandTimeoutMs: this.opts.commandTimeoutMs,
    }, this.clock);
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
    return this.queue.busy;
  }

  /**
   * Opens the transport. On the cloud path with no device SN configured, asks
   * ConnectionInfo for it first (the pairing code's key is enough for that).
   */
  async open(): Promise<void> {
    await this.transport.open();
    const cloud = this.transport as Transport & Partial<CloudLike>;
    if (this.transport.kind === 'cloud' && cloud.deviceSn === undefined && cloud.setDeviceSn !== undefined) {
      const info = await this.request('ConnectionInfo', { businessID: cloud.businessId! });
      cloud.setDeviceSn(info.body.deviceSn as string);
    }
  }

  /** The terminal's serial number became known: recorded on its payments, and its open payments made elsewhere are this terminal's too. */
  setDeviceSn(sn: string | undefined): void { this.ledger.setDeviceSn(sn); }

  /** This terminal's open payments in the ledger (made under its name, or by its serial number). */
  openPayments(): JournalEntry[] { return this.ledger.openEntries(); }

  /** Switches to a new pin code (the cloud's pinCode2 after Pair). */
  rekey(pairingCode: string): void {
    this.cipher = new WonderCipher(pairingCode);
  }

  /**
   * Validates, queues and sends one request and waits for its outcome.
   * Validation errors are thrown before anything is queued or sent.
   */
  request<A extends Action>(action: A, params?: RequestParams[A], options: RequestOptions = {}): Promise<Outcome<A>> {
    let body: unknown;
    try {
      body = buildBody(action, params);
    } catch (err) {
      return Promise.reject(aboutPayment(err, undefined, true));
    }
    if (this.closed) return Promise.reject(new TransportError('the terminal session is closed', { code: 'E_CLOSED', notSent: true }));
    const ctx: RequestContext<A> = { action, body, requestID: options.requestID ?? randomUUID(), options, started: this.clock.monotonic() };
    if (action === 'Abort') return this.abort(ctx, (params as { referenceID?: string } | undefined)?.referenceID || undefined) as Promise<Outcome<A>>;
    if (!isPayment(action)) return this.schedule(ctx, () => this.runCommand(ctx)) as Promise<Outcome<A>>;
    return this.requestPayment(ctx as unknown as RequestContext<PaymentAction>) as unknown as Promise<Outcome<A>>;
  }

  /** A payment: never twice. A duplicate joins the one queued or in flight, or gets the recorded outcome. */
  private requestPayment(base: RequestContext<PaymentAction>): Promise<Outcome> {
    const asked = askedOf(base.action, base.body);
    if (base.action === 'Void') {
      const target = this.ledger.voidTarget(asked.referenceID);
      if (target !== undefined) asked.target = target;
    }
    let admission;
    try {
      admission = this.ledger.admit(asked, base.action === 'Refund' && base.options.refundUnknownSale === true ? { refundUnknownSale: true } : {});
    } catch (err) {
      return Promise.reject(aboutPayment(err, asked.referenceID, true));
    }
    if (admission.kind === 'join') return admission.promise.then((o) => ({ ...o, duplicate: true }));
    if (admission.kind === 'recorded') {
      base.options.onQueued?.({ requestID: admission.entry.requestID, referenceID: asked.referenceID });
      if (admission.entry.outcome?.reason === 'reference-taken') return Promise.reject(new ReferenceTakenError(base.action, asked.referenceID, undefined));
      return Promise.resolve(outcomeFromEntry(admission.entry));
    }
    const ctx: PaymentContext = { ...base, asked, key: journalKey(base.action, asked.referenceID), askOnly: admission.askOnly };
    const promise = this.schedule(ctx, () => this.runPayment(ctx));
    this.ledger.track(ctx.key, asked, promise);
    // Handed to the caller (the flow): noted, so a restart does not emit it again.
    promise.then(
      (o) => (o.result === 'Success' || o.result === 'Failed') && this.markDelivered(ctx.key, ctx.action, asked.referenceID),
      // Its caller was told "unknown", and a lookup meanwhile settled it: the flow is told now, once.
      (err: unknown) => err instanceof PendingError && queueMicrotask(() => this.deliverIfSettled(base.action, asked.referenceID)),
    );
    return promise;
  }

  /**
   * Settles every open journal entry of this terminal with TransactionStatus,
   * in the queue like any request. Emits `recovered` for each settled one.
   */
  recover(): Promise<Recovery[]> {
    if (this.ledger.openEntries().length === 0) return Promise.resolve([]);
    return new Promise<Recovery[]>((resolve, reject) => {
      this.queue.admit({
        action: 'TransactionStatus',
        waitMs: this.opts.paymentTimeoutMs,
        reject,
        start: () => {
          this.recoverOpen(undefined)
            .then(resolve, reject)
            .finally(() => this.queue.next());
        },
      });
    });
  }

  /**
   * Abort. Naming a payment (`named`, a Sale or Refund reference): one waiting
   * in the queue is taken out (its caller gets E_ABORTED, notSent) and nothing
   * is sent; the running one is aborted at the terminal; any other answers
   * E_NOT_FOUND and nothing is sent (an Abort never cancels a payment it does
   * not name). Without a name: the payment running now, as the terminal knows
   * it (the Abort goes out at once, beside it).
   */
  private abort(ctx: RequestContext, named: string | undefined): Promise<Outcome> {
    if (named === undefined) return this.schedule(ctx, () => this.runCommand(ctx));
    const { requestID, options } = ctx;
    if (this.cancelWaiting(named)) {
      options.onQueued?.({ requestID, referenceID: named });
      this.emit('activity', { kind: 'done', action: 'Abort', requestID, result: 'Success' });
      return Promise.resolve(outcomeTakenOut(requestID, named, this.clock.monotonic() - ctx.started, this.clock.wall()));
    }
    if (!this.runs(named)) {
      return Promise.reject(
        new WonderError('E_NOT_FOUND', `nothing to abort: no sale or refund ${named} is waiting or running on this terminal; nothing was sent`, { notSent: true, referenceID: named }),
      );
    }
    return this.schedule(ctx, () => this.runCommand(ctx)).then((outcome) => ({ ...outcome, referenceID: named }));
  }

  /** Takes the sale or refund `referenceID` out of the queue (its caller gets E_ABORTED, notSent; it is never sent). False when none waits. */
  cancelWaiting(referenceID: string): boolean {
    return this.queue.cancel(referenceID, (job) => new WonderError('E_ABORTED', `${job.action} ${referenceID} was taken out of the queue by an Abort; it was never sent`, { notSent: true, referenceID }));
  }

  /** Whether the sale or refund `referenceID` is the payment running now. */
  runs(referenceID: string): boolean {
    const running = this.currentAsked;
    return running !== undefined && running.referenceID === referenceID && running.action !== 'Void';
  }

  /** Queues a request (Abort goes out at once, beside the payment it aborts). */
  private schedule(ctx: RequestContext, run: () => Promise<Outcome>): Promise<Outcome> {
    const { action, requestID, options } = ctx;
    const referenceID = (ctx as Partial<PaymentContext>).asked?.referenceID;
    return new Promise<Outcome>((resolve, reject) => {
      options.onQueued?.(referenceID === undefined || action === 'Void' ? { requestID } : { requestID, referenceID });
      // The next request starts before this one's caller hears of it: a caller that asks again at once (Pair, then Ack) is not refused as busy.
      const release = () => {
        if (action !== 'Abort') this.queue.next();
      };
      const start = () => {
        ctx.started = this.clock.monotonic();
        run().then(
          (outcome) => {
            this.emit('activity', { kind: 'done', action, requestID, result: outcome.result ?? (outcome.body as { status?: string }).status });
            release();
            resolve(outcome);
          },
          (err: unknown) => {
            this.emit('activity', { kind: 'failed', action, requestID, code: isWonderError(err) ? err.code : 'E_UNKNOWN' });
            release();
            reject(err);
          },
        );
      };
      if (action === 'Abort') {
        if (this.currentPayment !== undefined) this.abortRequested.add(this.currentPayment);
        start();
        return;
      }
      this.queue.admit({
        action,
        waitMs: options.timeoutMs ?? this.timeoutFor(action),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
        start,
        ...(referenceID !== undefined && action !== 'Void' ? { referenceID } : {}),
        reject: (err) => reject(referenceID === undefined ? err : aboutPayment(err, referenceID, true)),
        onWaiting: (position) => this.emit('activity', { kind: 'queued', action, requestID, ...(referenceID !== undefined ? { referenceID } : {}), position }),
      });
    });
  }

  private timeoutFor(action: Action): number {
    // A Void may ask for a supervisor on the terminal: it gets the payment time-out too.
    return isPayment(action) ? this.opts.paymentTimeoutMs : this.opts.commandTimeoutMs;
  }

  private async runCommand(ctx: RequestContext): Promise<Outcome> {
    const { action, requestID, options } = ctx;
    this.emit('activity', { kind: 'sending', action, requestID });
    const res = await this.exchange.send(action, ctx.body, requestID, options.timeoutMs ?? this.timeoutFor(action));
    const outcome: Outcome = { action, requestID, header: res.header, body: res.body, statusQueries: 0, elapsedMs: this.clock.monotonic() - ctx.started };
    if (action === 'TransactionStatus') {
      // A caller's lookup (the status node) settles the journal's open payment it describes.
      const target = (ctx.body as { targetReferenceID: string }).targetReferenceID;
      const open = this.ledger.openFor(target);
      const read = await this.ledger.readLookup(outcome, target);
      if (read.journalBehind !== undefined) this.emit('journal-behind', read.journalBehind);
      // A payment this lookup settled (a status node's, an operator's Check now) reaches the flow as recovered, once,
      // unless its own caller still waits for it here (its own outcome will tell it); with journalBehind when the ledger
      // could not record the settlement (after a restart it may be learnt, and delivered, again).
      for (const entry of open) {
        if (!this.ledger.isRunning(journalKey(entry.action, entry.referenceID))) this.deliverIfSettled(entry.action, entry.referenceID, read.journalBehind);
      }
      return read;
    }
    const status = (res.body as { status?: string }).status;
    if (status === 'Success' || status === 'Failed' || status === 'Pending') outcome.result = status;
    return outcome;
  }

  private async runPayment(ctx: PaymentContext): Promise<Outcome> {
    const { requestID } = ctx;
    // From now on an Abort is about this payment (even while it is still being journalled).
    this.currentPayment = requestID;
    this.currentAsked = { action: ctx.action, referenceID: ctx.asked.referenceID };
    try {
      return await this.runPaymentNow(ctx);
    } finally {
      this.currentPayment = undefined;
      this.currentAsked = undefined;
      this.abortRequested.delete(requestID);
    }
  }

  private async runPaymentNow(ctx: PaymentContext): Promise<Outcome> {
    const { action, requestID, asked } = ctx;
    // Before a new payment, recover what earlier ones left open (ask about them).
    await this.recoverOpen(ctx.key);
    if (ctx.askOnly) {
      // Sent before (the journal holds it open): ask, never send again.
      // Asked about as it was sent (its customer order, say), not as the redelivery spells it.
      const entry = this.ledger.journal!.get(action, asked.referenceID)!;
      const sent = { ...ctx, requestID: entry.requestID, asked: this.ledger.askedOfEntry(entry) };
      const resolved = await this.resolvePayment(sent, { heardFrom: false });
      return { ...(await this.recordResolved(sent, resolved)), duplicate: true };
    }
    // The request is built and encrypted while its journal line goes to disk; it leaves only once the line is there.
    const prepared = await this.ledger.begin(ctx, () => this.exchange.prepare(action, ctx.body, requestID));
    this.windowEnds.set(ctx.key, this.clock.monotonic() + this.opts.paymentTimeoutMs);
    if (this.abortRequested.has(requestID)) {
      // Cancelled before it left: it is never sent.
      await this.ledger.notSent(action, asked.referenceID);
      throw new WonderError('E_ABORTED', `${action} ${asked.referenceID} was aborted before it was sent; nothing reached the terminal`, { notSent: true, referenceID: asked.referenceID });
    }
    this.emit('activity', { kind: 'sending', action, requestID });
    // The card is awaited once the request is out: on a stream when its bytes are written, over HTTP at once (the reply is the answer).
    const waitingCard = () => {
      if (WAITS_FOR_CARDHOLDER.includes(action)) this.emit('activity', { kind: 'waiting-card', action, requestID, referenceID: asked.referenceID });
    };
    if (answersInline(this.transport)) waitingCard();
    let resolved: Resolved;
    let answer;
    let cause: unknown;
    try {
      answer = await this.exchange.send(action, ctx.body, requestID, ctx.options.timeoutMs ?? this.timeoutFor(action), answersInline(this.transport) ? undefined : waitingCard, prepared);
    } catch (err) {
      if (isNotSent(err)) {
        // Certainly never left this host: the same referenceID may be used again.
        await this.ledger.notSent(action, asked.referenceID);
        throw aboutPayment(err, asked.referenceID, true);
      }
      // Closing, or only answers we cannot decrypt: the outcome is unknown and the journal keeps it open.
      if (this.closing.signal.aborted || err instanceof SecurityError) throw aboutPayment(err, asked.referenceID, false);
      cause = err;
    }
    if (answer !== undefined) {
      const decision = decideAnswer(asked, { action: answer.action, body: answer.body });
      resolved = isSettled(decision)
        ? { decision, response: answer, queries: 0 }
        : await this.resolvePayment(ctx, { first: decision, lastBody: answer.body, heardFrom: true });
      // The terminal knew this reference from before (a journal that lost it, another till): its outcome is that earlier one's.
      if (decision.reason === 'reference-used') return { ...(await this.recordResolved(ctx, resolved)), duplicate: true };
    } else {
      resolved = await this.resolvePayment(ctx, { cause, heardFrom: false });
    }
    // Refused after its Abort went out: the terminal cancelled it (whatever words it used), not the card's issuer.
    if (this.abortRequested.has(requestID) && resolved.decision.verdict === 'declined' && resolved.decision.reason === 'declined') {
      resolved = { ...resolved, decision: { ...resolved.decision, reason: 'aborted' } };
    }
    const outcome = await this.recordResolved(ctx, resolved);
    if (this.abortRequested.has(requestID)) {
      outcome.abortRequested = true;
      if (outcome.result === 'Success') outcome.approvedDespiteAbort = true;
    }
    return outcome;
  }

  /** Asks until the payment is settled; a refusal for a taken reference is recorded as such. */
  private async resolvePayment(ctx: PaymentContext, known: Parameters<Resolver['resolve']>[1], timeoutMs?: number): Promise<Resolved> {
    this.emit('activity', { kind: 'resolving', action: ctx.action, requestID: ctx.requestID, referenceID: ctx.asked.referenceID });
    try {
      return await this.resolver.resolve(ctx, known, timeoutMs);
    } catch (err) {
      if (err instanceof ReferenceTakenError) {
        await this.ledger.close(ctx.action, ctx.asked.referenceID, 'Failed', known.lastBody, 'TransactionStatus', { verdict: 'unknown', reason: 'reference-taken', conflict: true });
      }
      throw aboutPayment(err, ctx.asked.referenceID, false);
    }
  }

  /** Closes the journal entry with a settled outcome; a failed write is reported beside the outcome, never instead of it. */
  private async recordResolved(ctx: PaymentContext, resolved: Resolved): Promise<Outcome> {
    const outcome = outcomeOf(ctx, resolved, this.clock.monotonic());
    if (resolved.resolvedBy === 'TransactionStatus') this.ledger.lookedUp(ctx.action, ctx.asked.referenceID, ctx.options.origin === undefined && ctx.body === undefined ? 'recovery' : 'answer', resolved.response.body, resolved.decision);
    const behind = await this.ledger.close(ctx.action, ctx.asked.referenceID, outcome.result as 'Success' | 'Failed', resolved.response.body, resolved.resolvedBy, resolved.decision);
    this.windowEnds.delete(ctx.key);
    if (behind !== undefined) {
      outcome.journalBehind = behind;
      this.emit('journal-behind', behind);
    }
    return outcome;
  }

  /**
   * Settles the journal's open entries of this terminal (all but `except`).
   * Called before each new payment; refuses the payment while one stays open.
   */
  private async recoverOpen(except: string | undefined): Promise<Recovery[]> {
    const results: Recovery[] = [];
    for (const entry of this.ledger.openEntries()) {
      if (journalKey(entry.action, entry.referenceID) === except) continue;
      // Past its card window the terminal is no longer working on it: asked once, and it holds nothing back.
      const windowEnd = this.windowEnd(entry);
      const stale = () => this.clock.monotonic() >= windowEnd;
      const wasStale = stale();
      try {
        const outcome = await this.recoverEntry(entry, wasStale ? 0 : undefined);
        results.push({ entry, outcome });
        this.windowEnds.delete(journalKey(entry.action, entry.referenceID));
        this.deliver(entry, outcome);
      } catch (error) {
        results.push({ entry, error });
        this.ledger.lookedUp(entry.action, entry.referenceID, 'recovery', undefined);
        if (except === undefined) continue;
        const reference = referenceOfKey(except);
        if (error instanceof SecurityError) throw aboutPayment(error, reference, true);
        if (stale()) {
          // Still unknown, still open in the journal, asked about again at every start, reconnect and payment.
          this.emit('unresolved', { entry, error });
          continue;
        }
        throw new WonderError('E_BLOCKED', `an earlier ${entry.action} (${entry.referenceID}) is still unresolved; this payment was not sent and waits until it is settled`, {
          cause: error,
          notSent: true,
          referenceID: reference,
        });
      }
    }
    return results;
  }

  /**
   * When an open payment's card window ends, on the monotonic clock. A payment
   * this session sent: its window from when it was sent. One opened before
   * (another process, a restart): what was left of its window by the wall
   * clock when this session first saw it, never more than a whole window and
   * never less than none, counted on the monotonic clock from then. A wall
   * clock stepped back or forward after that moves it by nothing; one stepped
   * before it at most holds new payments back for one window.
   */
  private windowEnd(entry: JournalEntry): number {
    const key = journalKey(entry.action, entry.referenceID);
    let end = this.windowEnds.get(key);
    if (end === undefined) {
      const window = this.opts.paymentTimeoutMs;
      const age = this.clock.wall() - Date.parse(entry.openedAt);
      const left = Number.isFinite(age) ? Math.min(window, Math.max(0, window - age)) : 0;
      end = this.clock.monotonic() + left;
      this.windowEnds.set(key, end);
    }
    return end;
  }

  private async recoverEntry(entry: JournalEntry, timeoutMs?: number): Promise<Outcome> {
    const ctx: PaymentContext = {
      action: entry.action,
      body: undefined,
      requestID: entry.requestID,
      options: {},
      started: this.clock.monotonic(),
      asked: this.ledger.askedOfEntry(entry),
      key: journalKey(entry.action, entry.referenceID),
      askOnly: true,
    };
    const resolved = await this.resolvePayment(ctx, { heardFrom: false }, timeoutMs);
    return this.recordResolved(ctx, resolved);
  }

  /**
   * The one path by which a settlement not given as the payment's own answer
   * (recovery, a status lookup, an operator's Check now) reaches the flow:
   * `recovered` ({entry, outcome}), once per payment (the ledger records the
   * delivery, so a restart does not emit it again).
   */
  private deliver(entry: JournalEntry, outcome: Outcome): void {
    const key = journalKey(entry.action, entry.referenceID);
    if (this.deliveredHere.has(key)) return;
    this.markDelivered(key, entry.action, entry.referenceID);
    this.emit('recovered', { entry, outcome });
  }

  /**
   * A payment settled in the journal and not yet delivered: delivered now, from what the journal recorded;
   * `behind`: the ledger could not record that settlement (carried as the outcome's journalBehind).
   */
  private deliverIfSettled(action: PaymentAction, referenceID: string, behind?: Outcome['journalBehind']): void {
    const entry = this.ledger.journal?.get(action, referenceID);
    if (entry === undefined || (entry.state !== 'Success' && entry.state !== 'Failed') || entry.deliveredAt !== undefined) return;
    const { duplicate: _recorded, ...outcome } = outcomeFromEntry(entry);
    this.deliver(entry, behind !== undefined ? { ...outcome, journalBehind: behind } : outcome);
  }

  private markDelivered(key: string, action: PaymentAction, referenceID: string): void {
    this.deliveredHere.add(key);
    this.ledger.delivered(action, referenceID);
  }

  /** Releases what waits (never sent), stops settling, closes the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    this.queue.releaseAll((job) => new TransportError(`${job.action} was not sent: the terminal session was closed`, { code: 'E_CLOSED', notSent: true }));
    this.transport.off('message', this.onMessage);
    await this.transport.close();
    this.transport.off('state', this.onState);
  }
}

/**
 * What an Abort answers when the payment it names was taken out of a queue
 * (nothing went to the terminal). `started`: when the Abort was asked, on the
 * clock's wall reading (ms since the epoch); its elapsed time is never below 0.
 */
export function takenOutOfQueue(requestID: string, referenceID: string, started: number, clock: Clock = systemClock): Outcome<'Abort'> {
  const now = clock.wall();
  return outcomeTakenOut(requestID, referenceID, Math.max(0, now - started), now);
}

function outcomeTakenOut(requestID: string, referenceID: string, elapsedMs: number, wallNow: number): Outcome<'Abort'> {
  return {
    action: 'Abort',
    requestID,
    referenceID,
    header: { responseID: requestID, serverDeviceSN: '', timestamp: new Date(wallNow).toISOString() },
    body: { status: 'Success', errorCode: '', errorMessage: '' },
    result: 'Success',
    takenOutOfQueue: true,
    statusQueries: 0,
    elapsedMs,
  };
}

export type { TransactionBody };
