import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { systemClock, type Clock, type Timer } from '../clock';
import { aboutPayment, buildBody, PAYMENT_ACTIONS, validatePairingCode, WonderError, type Action, type RequestParams } from '../protocol';
import { emptyLineCounters, linkCause, type LineCounters, type TransportState } from '../transport';
import { SIMULATOR_DEFAULT_PAIRING_CODE } from '../simulator';
import {
  CloudPairing,
  createTransport,
  PendingError,
  TerminalSession,
  takenOutOfQueue,
  TraceLog,
  type Diagnosis,
  type ExchangeEvent,
  type Outcome,
  type PaymentStore,
  type Recovery,
  type RequestOptions,
  type SessionActivity,
  type TerminalConfig,
} from '../session';
import { connectionStateOf, type ConnectionState, type Link, type ShownState } from './connection-state';
export type { ConnectionState, ShownState } from './connection-state';
import { HealthCheck } from './health-check';
import { DeviceIdentity, IDENTITY_CHECK_MS } from './device-identity';
import { openLedger, type JournalEntry, type Ledger } from '../ledger';
import { settledWithin } from './settled-within';
import { closedBeforeSent, Scheduler } from './scheduler';
import { LineMonitor, type NodeDiagnosis } from './line-monitor';
import type { TerminalOptions } from './options';

export type StateListener = (state: ShownState) => void;

const CLOSE_GRACE_MS = 5_000;
/** A health check gets this long to be answered: a request that arrives meanwhile waits at most this (it is a job in the same queue). */
export const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/**
 * A payment recovery leaves open (its outcome still unknown) is asked about
 * again after this long (monotonic), then twice as long each time, up to
 * UNRESOLVED_RETRY_MAX_MS: never given up, each time warned with its reference.
 */
export const UNRESOLVED_RETRY_MS = 30_000;
export const UNRESOLVED_RETRY_MAX_MS = 3_600_000;
/** Actions that wait for a cardholder or are settled by status: their time-out says nothing about the link. */
const PAYMENTS: readonly Action[] = ['Sale', 'Refund', 'Void', 'Pair'];

/**
 * One payment terminal as this package runs it, with no Node-RED in it: the
 * transport, the one session in front of it (with its request queue and the
 * ledger), the terminal's identity (its serial number, and the identity check
 * after each connect), recovery of the payments left open and its order (after
 * the key, the identity check and a health check under way), the idle health
 * check, the line monitor and its diagnosis, and pairing. A wonder-terminal
 * config node drives one (its nodes register by node id to be shown its
 * state); the command line drives one per command.
 */
export class Terminal extends EventEmitter {
  readonly session: TerminalSession | undefined;
  /** Why the config is unusable, when it is. */
  readonly configError: WonderError | undefined;
  /** The terminal's SN and software version (`device`) and the journal that follows the SN. */
  private readonly identity: DeviceIdentity;
  private current: ConnectionState;
  private recovering: Promise<Recovery[]> | undefined;
  /** The store its session records payments in when it has no ledger (TerminalOptions.store). */
  private storeGiven: PaymentStore | undefined;
  /**
   * The one queue of this terminal: every caller's request and every internal
   * job (the key, the identity check, Pair, recovery, the health check), one
   * at a time by priority. Its state is what the nodes show ("queued (n)").
   */
  readonly scheduler: Scheduler;
  /** The identity check after a connect, while it waits or runs (one at a time). */
  private identityCheck: Promise<unknown> | undefined;
  /** The payments recovery left open, by key: when each is asked about again (its back-off). */
  private readonly askAgain = new Map<string, { delayMs: number; timer: Timer }>();
  /** Loading the stored pinCode2 once the line is open (cloud, device SN learnt at open): an Abort waits for it too. */
  private keyLoading: Promise<void> | undefined;
  private readonly users = new Map<string, StateListener>();
  private closing: Promise<void> | undefined;
  private transportState: TransportState = 'closed';
  private transportError: Error | undefined;
  private link: Link = { ok: undefined };
  private readonly kind: string;
  private readonly health: HealthCheck;
  /** Which key the session speaks with (pairing code or a stored pinCode2). */
  private readonly pairing: CloudPairing | undefined;
  /** The terminal no longer accepts the stored pairing: shown as "pair again" until a Pair succeeds. */
  private pairAgain = false;
  /** The line's counters since this Terminal started (what the operator tools show; the diagnosis reads them). */
  readonly counters: LineCounters;
  /** The last 200 exchanges, redacted (times, direction, action, request ID, sizes, result). */
  readonly trace = new TraceLog();
  /** Fills the counters and the trace, and names the cause of a fault (diagnosis()). */
  private readonly monitor: LineMonitor | undefined;
  /** How the terminal is reached (no credential in it): for the support bundle. */
  readonly config: TerminalConfig;
  /** What the terminal said of itself (serial number, software version), once it has. */
  get device(): { sn?: string; softwareVersion?: string } { return this.identity.device; }
  /** ISO time of the terminal's last answer (kept as a number: formatted only when read). */
  get lastExchangeAt(): string | undefined { return this.lastExchangeMs === undefined ? undefined : new Date(this.lastExchangeMs).toISOString(); }
  private lastExchangeMs: number | undefined;
  /** The last answer on this line came from a simulated terminal (`wonder-ecr simulate` behind a serial or LAN transport). */
  private simulatedAnswer = false;
  /**
   * Whether this terminal is a simulator: the simulator transport, or a line
   * on which a simulated terminal answered. Its nodes show "simulated" and
   * every result it gives carries `msg.wonder.simulated: true`.
   */
  get simulated(): boolean { return this.kind === 'simulator' || this.simulatedAnswer; }

  private readonly clock: Clock;
  private readonly paymentTimeoutMs: number;
  private readonly commandTimeoutMs: number;

  constructor(options: TerminalOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    const clock = this.clock;
    // The busy policy is the scheduler's (a check or a recovery never makes a request refused); the session queues what reaches it.
    this.scheduler = new Scheduler({ busyPolicy: options.busyPolicy, clock });
    this.paymentTimeoutMs = options.paymentTimeoutMs;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 10_000;
    let session: TerminalSession | undefined;
    let configError: WonderError | undefined;
    let identity: DeviceIdentity | undefined;
    let pairingCode = '';
    try {
      if (options.refuse !== undefined) throw options.refuse;
      const transport = options.transport ?? createTransport(options.config);
      const code = options.config.transport === 'simulator' && !options.pairingCode ? SIMULATOR_DEFAULT_PAIRING_CODE : options.pairingCode;
      pairingCode = validatePairingCode(code);
      const duplicate = (err: Error) => void (this.emit('duplicate', err), this.close('same-terminal')); // closes, shown "same terminal"
      let ledger: Ledger | undefined = options.ledger;
      if (ledger === undefined && options.ledgerFile !== undefined) {
        try {
          ledger = openLedger(options.ledgerFile, { ...(options.ledgerOwner !== undefined ? { owner: options.ledgerOwner } : {}), ...(options.retentionDays !== undefined ? { retentionDays: options.retentionDays } : {}) });
        } catch (cause) {
          throw new WonderError('E_VALIDATION', `the ledger cannot be opened: ${(cause as Error).message}`, { cause, field: 'journal' });
        }
      }
      const identityOptions = {
        config: options.config,
        ...(ledger !== undefined ? { ledger } : {}),
        ...(options.terminalId !== undefined ? { terminalId: options.terminalId } : {}),
        ...(options.followDeviceSn !== undefined ? { followDeviceSn: options.followDeviceSn } : {}),
        ...(options.configNode !== undefined ? { configNode: options.configNode } : {}),
        ...(options.address !== undefined ? { address: options.address } : {}),
        ...(options.snTaken !== undefined ? { snTaken: options.snTaken } : {}),
      };
      try {
        identity = DeviceIdentity.open(identityOptions, { moved: (to) => void (this.emit('journal', to), this.recover()), duplicate });
      } catch (err) {
        ledger?.close().catch(() => undefined);
        throw err;
      }
      // Without a ledger, the store given (if any) records the payments.
      if (ledger === undefined && options.store !== undefined) this.storeGiven = options.store;
      session = new TerminalSession({
        ...identity.sessionOptions(options.terminalId),
        ...(ledger === undefined && options.store !== undefined ? { journal: options.store } : {}),
        transport,
        pairingCode,
        clock: this.clock,
        paymentTimeoutMs: options.paymentTimeoutMs,
        ...(options.commandTimeoutMs !== undefined ? { commandTimeoutMs: options.commandTimeoutMs } : {}),
        busyPolicy: 'queue',
        resolveTimeoutMs: options.resolveTimeoutMs ?? Math.max(60_000, options.paymentTimeoutMs),
        ...(options.statusPollIntervalMs !== undefined ? { statusPollIntervalMs: options.statusPollIntervalMs } : {}),
        ...(options.clientDeviceSN ? { clientDeviceSN: options.clientDeviceSN } : {}),
      });
    } catch (err) {
      configError = err as WonderError;
      identity?.close().catch(() => undefined);
      identity = undefined;
    }
    // One listener per node using this terminal: many nodes are normal, not a leak.
    this.setMaxListeners(0);
    session?.setMaxListeners(0);
    this.session = session;
    this.configError = configError;
    // Before the line monitor's listener (below): a state it changes on this answer is shown already as simulated.
    session?.on('exchange', (e: ExchangeEvent) => {
      // The last answer says it: a real terminal answering on the line a simulator answered on is not simulated.
      if (e.kind !== 'answered' || (e.simulated === true) === this.simulatedAnswer) return;
      this.simulatedAnswer = e.simulated === true;
      // The nodes showing "ready" show "simulated" now, or no longer.
      for (const listener of this.users.values()) listener(this.current);
    });
    this.identity = identity?.attach(session!) ?? DeviceIdentity.none();
    this.kind = options.config.transport;
    this.config = options.config;
    // Its diagnosis changes the state shown; each new fault is emitted once as `diagnosis`.
    this.monitor = session && new LineMonitor(session, this.trace, { clock }).on('change', () => this.update()).on('fault', (d: Diagnosis) => this.emit('diagnosis', d));
    this.counters = this.monitor?.counters ?? emptyLineCounters();
    // The idle health check: DeviceInfo as the scheduler's last job, only when nothing else is waiting or running.
    this.health = new HealthCheck(options.healthCheckMs ?? 0, {
      idle: () => session !== undefined && this.scheduler.idle && !session.inFlight,
      closed: () => session === undefined || this.closing !== undefined,
      check: () => this.scheduler.submit({ kind: 'health', run: () => session!.request('DeviceInfo', {}, { timeoutMs: HEALTH_CHECK_TIMEOUT_MS }).then((answer) => this.learn(answer)) }),
      onResult: (err) => {
        this.link = err === undefined ? { ok: true } : { ok: false, cause: linkCause(err) };
        if (err !== undefined) this.emit('health', err);
        this.update(err instanceof Error ? err : undefined);
      },
    }, clock);
    this.current =
      session !== undefined ? 'connecting' : options.refuse !== undefined ? 'same-terminal' : (configError as { field?: string } | undefined)?.field === 'transport' ? 'no-transport' : 'unconfigured';
    if (session !== undefined) {
      this.pairing = new CloudPairing(session, pairingCode, options.pairingStore);
      // The device SN configured: the stored pinCode2 is used from the first request.
      this.pairing.load();
      if (this.pairing.unreadable !== undefined) this.flagPairAgain();
    }
    session?.on('state', (state: TransportState, err?: Error) => {
      const before = this.transportState;
      this.transportState = state;
      if (state === 'reconnecting') {
        this.transportError = err;
        this.link = { ok: false, cause: linkCause(err) };
      } else if (state === 'connected') {
        // HTTP transports become connected again only on an answer; a serial port that opened is not one.
        this.link = before === 'reconnecting' && this.kind !== 'serial' ? { ok: true } : { ok: undefined };
      }
      this.update(err);
      // Back on line: settle what was left open before anything new is taken.
      if (state === 'connected') {
        // Who answers on this line (another terminal may be behind it now): learnt before payments and recovery go on (a job ahead of them).
        // What it learns is learnt within the job, so the job after it (recovery: mayRecover) sees it.
        const check = () => this.session!.request('DeviceInfo', {}, { timeoutMs: IDENTITY_CHECK_MS }).then((answer) => this.identity.observe(answer));
        this.identity.connected(() => (this.identityCheck ??= this.scheduler.submit({ kind: 'identity', run: check }).finally(() => (this.identityCheck = undefined))));
        void this.recover();
      }
    });
    session?.on('activity', (a: SessionActivity) => this.onActivity(a));
    // What waits and what runs changed: the nodes with a request waiting show how many wait.
    this.scheduler.on('change', () => this.showQueued());

    session?.on('recovered', (recovery: Recovery) => this.emit('recovered', recovery));
    session?.on('unresolved', (recovery: Recovery) => this.emit('unresolved', recovery));
  }

  /** The connection state from the transport's state and the last exchange. */
  private derived(): ConnectionState {
    return connectionStateOf({
      configured: this.session !== undefined,
      closing: this.closing !== undefined,
      transport: this.transportState,
      link: this.link,
      kind: this.kind,
      pairAgain: this.pairAgain,
      diagnosis: this.monitor?.diagnosis()?.code,
    });
  }

  private update(err?: Error): void {
    this.setState(this.derived(), err ?? this.transportError);
  }

  /** The session's activity, passed on as this terminal's (`activity`), with the scheduler's own `queued`. */
  private onActivity(a: SessionActivity): void {
    this.emit('activity', a);
    if (a.kind === 'done') {
      this.lastExchangeMs = this.clock.wall();
      if (this.link.ok !== true) {
        this.link = { ok: true };
        this.update();
      }
    } else if (a.kind === 'failed' && a.code === 'E_TIMEOUT' && !PAYMENTS.includes(a.action)) {
      // A command the terminal did not answer: the link is down (or the terminal is).
      this.link = { ok: false, cause: 'timeout' };
      this.update();
    }
  }

  /** Each node with a request waiting behind another request (and none of its own running) shows how many requests wait. */
  private showQueued(): void {
    const n = this.scheduler.requestsWaiting;
    if (n === 0 || this.closing !== undefined) return;
    for (const origin of this.scheduler.waitingOrigins()) this.users.get(origin)?.(`queued:${n}`);
  }

  /**
   * Settles the journal's open entries with TransactionStatus (at start and
   * on reconnecting). Each settled one is emitted as `recovered`.
   */
  recover(): Promise<Recovery[]> {
    if (this.session === undefined || this.payments === undefined || this.session.openPayments().length === 0) return Promise.resolve([]);
    if (this.recovering === undefined) {
      const done = () => (this.recovering = undefined);
      const session = this.session;
      // A job behind the key and the identity check (its SN's journal) and ahead of the callers' requests; not before the
      // terminal has said who it is when an SN was seen at this place before.
      const run = () => (this.identity.mayRecover ? session.recover() : Promise.resolve([])).then((recoveries) => this.afterRecovery(recoveries));
      this.recovering = this.scheduler.submit({ kind: 'recovery', run }).finally(done);
      this.recovering.catch(() => undefined);
    }
    return this.recovering;
  }

  /**
   * What recovery left open is asked about again with back-off (on the
   * monotonic clock), and warned about (`unresolved`) with its reference;
   * what it settled needs no more asking.
   */
  private afterRecovery(recoveries: Recovery[]): Recovery[] {
    const open = new Set(this.openPayments().map((e) => `${e.action}:${e.referenceID}`));
    for (const r of recoveries) {
      const key = `${r.entry.action}:${r.entry.referenceID}`;
      const before = this.askAgain.get(key);
      if (r.error === undefined || !open.has(key)) {
        before?.timer.cancel();
        this.askAgain.delete(key);
        continue;
      }
      if (this.closing !== undefined) continue;
      this.emit('unresolved', r);
      before?.timer.cancel();
      const delayMs = before === undefined ? UNRESOLVED_RETRY_MS : Math.min(before.delayMs * 2, UNRESOLVED_RETRY_MAX_MS);
      this.askAgain.set(key, { delayMs, timer: this.clock.setTimer(() => void this.recover(), delayMs, { background: true }) });
    }
    return recoveries;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** The ledger this terminal writes (shared by every terminal of the runtime). */
  get journal(): Ledger | undefined { return this.identity.journal; }

  /** Where its payments are recorded: the ledger, or the store given instead of one (TerminalOptions.store). */
  get payments(): PaymentStore | undefined { return this.identity.journal ?? this.storeGiven; }

  /** This terminal's open payments (made under its place's name, or by its serial number). */
  openPayments(): JournalEntry[] { return this.session?.openPayments() ?? []; }

  /** Learns the terminal's SN and version from an answer; recovers once the SN is newly confirmed. */
  private learn<T>(answer: T): T { if (this.identity.observe(answer)) void this.recover(); return answer; }

  /** Why the terminal does not work, when a fault is seen (texts: i18n `diagnosis.<code>`). */
  diagnosis(): NodeDiagnosis | undefined {
    return this.monitor?.diagnosis();
  }

  /** Starts connecting. Serial keeps retrying by itself; state events tell the outcome. */
  open(): Promise<void> {
    if (this.session === undefined) return Promise.resolve();
    const opening = this.session.open();
    if (this.pairing !== undefined && this.pairing.identity === undefined) {
      // Cloud with the device SN learnt by ConnectionInfo (under the pairing code): then the stored pinCode2, the first job.
      const pairing = this.pairing;
      const load = () =>
        opening.then(
          () => {
            pairing.load();
            if (pairing.unreadable !== undefined) this.flagPairAgain();
          },
          () => undefined,
        );
      const loading = this.scheduler.submit({ kind: 'key', run: load }).catch(() => undefined);
      this.keyLoading = loading;
      void loading.then(() => {
        if (this.keyLoading === loading) this.keyLoading = undefined;
      });
    }
    // The first health check right after opening, the next ones while idle.
    opening.then(
      () => this.health.schedule(0),
      () => this.health.schedule(),
    );
    return opening;
  }

  register(id: string, listener: StateListener): void {
    this.users.set(id, listener);
    listener(this.current);
  }

  deregister(id: string): void {
    this.users.delete(id);
  }

  get userCount(): number {
    return this.users.size;
  }

  /**
   * Sends a request through this terminal's scheduler. It is validated first
   * (bad input is refused at once: nothing queued, nothing sent), and a Sale
   * or Refund gets its reference now, so that it can be named (an Abort) while
   * it waits. A node's request (options.origin) that waits behind another
   * request shows `queued:<n>` on that node; a payment whose outcome stays
   * unknown (E_PENDING) shows `unknown`, not an error. A request that arrives
   * during an internal job (a health or identity check, recovery, Pair) waits
   * for it, whatever the busy policy: a check never makes a payment refused.
   * An Abort goes out at once, beside the payment it aborts; one naming a
   * payment still waiting takes it out, and nothing is sent.
   */
  request<A extends Action>(action: A, params?: RequestParams[A], options?: RequestOptions): Promise<Outcome<A>> {
    const session = this.session;
    const pairing = this.pairing;
    if (session === undefined || pairing === undefined) return Promise.reject(this.configError);
    if (action === 'Abort') return this.abort(params as RequestParams['Abort'], options) as Promise<Outcome<A>>;
    let body: unknown;
    try {
      body = buildBody(action, params);
    } catch (err) {
      return Promise.reject(aboutPayment(err, undefined, true));
    }
    const named = action === 'Sale' || action === 'Refund' ? (body as { referenceID: string }).referenceID : undefined;
    const requestID = randomUUID();
    const { onQueued, signal, ...rest } = options ?? {};
    // The reference a Sale or Refund got here is the one the session sends (its customer order follows it when not given).
    const sent = (named !== undefined ? { ...params, referenceID: named } : params) as RequestParams[A];
    const sessionOptions: RequestOptions = { ...rest, requestID };
    onQueued?.(named !== undefined ? { requestID, referenceID: named } : { requestID });
    const origin = options?.origin;
    const run = (): Promise<Outcome<A>> => {
      const unreadable = pairing.unreadable;
      if (unreadable !== undefined && action !== 'ConnectionInfo') {
        this.flagPairAgain();
        return Promise.reject(unreadable);
      }
      return session.request(action, sent, sessionOptions).then(
        (outcome) => this.monitor!.noteOutcome(this.learn(outcome)),
        (err: unknown) => {
          const mapped = pairing.mapError(err);
          if (mapped !== err) this.flagPairAgain();
          throw this.monitor!.explain(mapped);
        },
      );
    };
    const result = this.scheduler.submit({
      kind: 'request',
      action,
      ...(origin !== undefined ? { origin } : {}),
      ...(named !== undefined ? { referenceID: named } : {}),
      // As long as the session would let it wait (a Void may wait for a supervisor: it gets the payment time-out too).
      waitMs: options?.timeoutMs ?? (PAYMENT_ACTIONS.includes(action) ? this.paymentTimeoutMs : this.commandTimeoutMs),
      ...(signal !== undefined ? { signal } : {}),
      onWaiting: (position) => this.emit('activity', { kind: 'queued', action, requestID, ...(named !== undefined ? { referenceID: named } : {}), position } satisfies SessionActivity),
      run,
    });
    result.catch((err: unknown) => {
      if (origin !== undefined && err instanceof PendingError) {
        // After the node has shown its error: the outcome is unknown, not failed.
        setImmediate(() => {
          if (this.closing === undefined) this.users.get(origin)?.('unknown');
        });
      }
    });
    return result;
  }

  /**
   * An Abort. Naming a Sale or Refund still waiting here: taken out (its
   * caller gets E_ABORTED, notSent), nothing sent. Otherwise it goes to the
   * session at once: the running payment named is aborted at the terminal,
   * any other name answers E_NOT_FOUND; without a name, the payment running now.
   */
  private async abort(params: RequestParams['Abort'] | undefined, options: RequestOptions | undefined): Promise<Outcome<'Abort'>> {
    const session = this.session!;
    const pairing = this.pairing!;
    const named = (params as { referenceID?: unknown } | undefined)?.referenceID;
    if (typeof named === 'string' && named !== '') {
      const taken = this.scheduler.take(named, () => new WonderError('E_ABORTED', `${named} was taken out of the queue by an Abort; it was never sent`, { notSent: true, referenceID: named }));
      if (taken > 0 && !session.runs(named)) {
        const requestID = randomUUID();
        options?.onQueued?.({ requestID, referenceID: named });
        this.emit('activity', { kind: 'done', action: 'Abort', requestID, result: 'Success' } satisfies SessionActivity);
        return takenOutOfQueue(requestID, named, this.clock.wall(), this.clock) as Outcome<'Abort'>;
      }
    }
    // Under the right key: after the stored pinCode2 is loaded.
    if (this.keyLoading !== undefined) await this.keyLoading;
    try {
      return this.monitor!.noteOutcome(this.learn(await session.request('Abort', params, options)));
    } catch (err) {
      const mapped = pairing.mapError(err);
      if (mapped !== err) this.flagPairAgain();
      throw this.monitor!.explain(mapped);
    }
  }

  /**
   * Pair (under the pairing code), then Ack with the ackUuid the terminal
   * hands back. On the cloud path the second pin code it may hand back is
   * used from the Ack on and kept in the pairing store for after a restart.
   */
  async pair(options: RequestOptions = {}): Promise<{ pair: Outcome<'Pair'>; ack: Outcome<'Ack'> }> {
    if (this.session === undefined || this.pairing === undefined) throw this.configError;
    const pairing = this.pairing;
    // A job of its own: what waits behind it speaks with its new key.
    const result = await this.scheduler.submit({
      kind: 'pair',
      run: async () => {
        const paired = await pairing.pair(options);
        this.learn(paired.pair);
        this.learn(paired.ack);
        return paired;
      },
    });
    this.pairAgain = false;
    this.update();
    return result;
  }

  /** Whether the terminal has to be paired again (the stored pairing is refused or unreadable). */
  get needsPairing(): boolean {
    return this.pairAgain;
  }

  /**
   * Shows "pair again" on every node of this terminal. Deferred by a turn of
   * the event loop so that it follows the failing node's own error status.
   */
  private flagPairAgain(): void {
    this.pairAgain = true;
    setImmediate(() => {
      if (this.pairAgain && this.closing === undefined) this.update();
    });
  }

  /** Closes the session and its port, within a bounded time; `final`: the state shown after. */
  close(final: ConnectionState = 'closed'): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.health.stop();
    this.monitor?.stop();
    for (const { timer } of this.askAgain.values()) timer.cancel();
    this.askAgain.clear();
    // What still waits was never sent: released so; what runs is ended by the session's close.
    this.scheduler.close(closedBeforeSent);
    this.closing = this.session === undefined ? Promise.resolve() : settledWithin(this.session.close(), CLOSE_GRACE_MS, this.clock);
    return this.closing.then(async () => {
      await this.identity.close();
      this.setState(final);
      this.users.clear();
    });
  }

  private setState(state: ConnectionState, err?: Error): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', state, err);
    for (const listener of this.users.values()) listener(state);
    this.showQueued();
  }
}
