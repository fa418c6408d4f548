import { EventEmitter } from 'node:events';
import { createTransport, type TerminalConfig } from '../../lib/config';
import { validatePairingCode } from '../../lib/crypto';
import { WonderError } from '../../lib/errors';
import { Journal } from '../../lib/journal';
import { CloudPairing } from '../../lib/cloud-pairing';
import { linkCause, type LinkCause } from '../../lib/link-cause';
import type { PairingStore } from '../../lib/pairing-store';
import type { Action, RequestParams } from '../../lib/messages';
import { PendingError, TerminalSession, type BusyPolicy, type Outcome, type Recovery, type RequestOptions, type SessionActivity } from '../../lib/session';
import { SIMULATOR_DEFAULT_PAIRING_CODE } from '../../lib/simulator';
import type { TransportState } from '../../lib/transport';

/**
 * Connection state as the nodes show it. `connected` (shown "ready") only
 * once the terminal answered: an open port or an HTTP transport that has not
 * exchanged anything yet is `unchecked`; a failed exchange is
 * `unreachable:<cause>` until one succeeds; `pair-again` while the terminal
 * refuses the stored cloud pairing (pinCode2).
 */
export type ConnectionState = 'unconfigured' | 'connecting' | 'unchecked' | 'connected' | `unreachable:${LinkCause}` | 'closed' | 'pair-again';

/**
 * What a node using the terminal shows when idle: the connection state, or
 * its own `queued:<n>` (its request waits behind n in the terminal's queue) or
 * `unknown` (its payment's outcome is still unknown, E_PENDING).
 */
export type ShownState = ConnectionState | `queued:${number}` | 'unknown';

export interface HandleOptions {
  config: TerminalConfig;
  pairingCode: string | undefined;
  clientDeviceSN?: string;
  paymentTimeoutMs: number;
  busyPolicy: BusyPolicy;
  /** How long an unknown outcome is asked about with TransactionStatus (default: the larger of 60 s and the card wait). */
  resolveTimeoutMs?: number;
  /** Interval between those TransactionStatus queries (default 2 s). */
  statusPollIntervalMs?: number;
  /** The transaction journal's file (in the Node-RED user directory). */
  journalFile?: string;
  /** This terminal's name in the journal (the config node's id). */
  terminalId?: string;
  /** Idle health check: DeviceInfo this often while nothing else is queued or in flight (0 or absent: off). */
  healthCheckMs?: number;
  /** Where a cloud terminal's pinCode2 is kept across restarts. */
  pairingStore?: PairingStore;
}

export type StateListener = (state: ShownState) => void;

const CLOSE_GRACE_MS = 5_000;
/** A health check gets this long to be answered: a request that arrives meanwhile waits at most this. */
export const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** Actions that wait for a cardholder or are settled by status: their time-out says nothing about the link. */
const PAYMENTS: readonly Action[] = ['Sale', 'Refund', 'Void', 'Pair'];

/** The last exchange with the terminal: none yet, answered, or failed (and why). */
type Link = { ok: undefined } | { ok: true } | { ok: false; cause: LinkCause };

/**
 * What a wonder-terminal config node owns: the transport, the one session in
 * front of it (with its request queue), the connection state and the nodes
 * that use it, registered and deregistered by node id.
 */
export class TerminalHandle extends EventEmitter {
  readonly session: TerminalSession | undefined;
  /** Why the config is unusable, when it is. */
  readonly configError: WonderError | undefined;
  readonly journal: Journal | undefined;
  private current: ConnectionState;
  private recovering: Promise<Recovery[]> | undefined;
  private readonly users = new Map<string, StateListener>();
  private closing: Promise<void> | undefined;
  private transportState: TransportState = 'closed';
  private transportError: Error | undefined;
  private link: Link = { ok: undefined };
  private readonly kind: string;
  private readonly healthCheckMs: number;
  private healthTimer: NodeJS.Timeout | undefined;
  /** The health check in flight: requests wait for it rather than be refused as busy. */
  private healthRun: Promise<void> | undefined;
  /** Requests of each node (by origin) queued and not started yet. */
  private readonly waiting = new Map<string, Set<string>>();
  private readonly originOf = new Map<string, string>();
  /** Those of them under way (sent, waiting for a card, or being settled). */
  private readonly running = new Set<string>();
  /** Which key the session speaks with (pairing code or a stored pinCode2). */
  private readonly pairing: CloudPairing | undefined;
  /** Until the stored pinCode2 is loaded (cloud, device SN learnt at open): requests wait. */
  private keyReady: Promise<void> = Promise.resolve();
  private pairingRun: Promise<unknown> | undefined;
  /** The terminal no longer accepts the stored pairing: shown as "pair again" until a Pair succeeds. */
  private pairAgain = false;

  constructor(options: HandleOptions) {
    super();
    let session: TerminalSession | undefined;
    let configError: WonderError | undefined;
    let journal: Journal | undefined;
    let pairingCode = '';
    try {
      const transport = createTransport(options.config);
      const code = options.config.transport === 'simulator' && !options.pairingCode ? SIMULATOR_DEFAULT_PAIRING_CODE : options.pairingCode;
      pairingCode = validatePairingCode(code);
      if (options.journalFile !== undefined) {
        try {
          journal = new Journal(options.journalFile);
        } catch (cause) {
          throw new WonderError('E_VALIDATION', `the transaction journal cannot be opened: ${(cause as Error).message}`, { cause, field: 'journal' });
        }
      }
      session = new TerminalSession({
        ...(journal !== undefined ? { journal } : {}),
        ...(options.terminalId !== undefined ? { terminalId: options.terminalId } : {}),
        transport,
        pairingCode,
        paymentTimeoutMs: options.paymentTimeoutMs,
        busyPolicy: options.busyPolicy,
        resolveTimeoutMs: options.resolveTimeoutMs ?? Math.max(60_000, options.paymentTimeoutMs),
        ...(options.statusPollIntervalMs !== undefined ? { statusPollIntervalMs: options.statusPollIntervalMs } : {}),
        ...(options.clientDeviceSN ? { clientDeviceSN: options.clientDeviceSN } : {}),
      });
    } catch (err) {
      configError = err as WonderError;
      journal?.close().catch(() => undefined);
      journal = undefined;
    }
    // One listener per node using this terminal: many nodes are normal, not a leak.
    this.setMaxListeners(0);
    session?.setMaxListeners(0);
    this.session = session;
    this.configError = configError;
    this.journal = journal;
    this.kind = options.config.transport;
    this.healthCheckMs = options.healthCheckMs ?? 0;
    this.current = session === undefined ? 'unconfigured' : 'connecting';
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
      if (state === 'connected') void this.recover();
    });
    session?.on('activity', (a: SessionActivity) => this.onActivity(a));
    session?.on('recovered', (recovery: Recovery) => this.emit('recovered', recovery));
    session?.on('unresolved', (recovery: Recovery) => this.emit('unresolved', recovery));
  }

  /** The connection state from the transport's state and the last exchange. */
  private derived(): ConnectionState {
    if (this.session === undefined) return 'unconfigured';
    if (this.closing !== undefined) return 'closed';
    switch (this.transportState) {
      case 'closed':
      case 'connecting':
        return 'connecting';
      case 'reconnecting':
        return `unreachable:${this.link.ok === false ? this.link.cause : 'other'}`;
      default:
        if (this.pairAgain) return 'pair-again';
        if (this.link.ok === false) return `unreachable:${this.link.cause}`;
        // A serial port that opened is a connection (a health check tells whether the terminal answers);
        // a LAN or cloud terminal is only known to be there once it has answered.
        if (this.kind === 'simulator' || this.kind === 'serial' || this.link.ok === true) return 'connected';
        return 'unchecked';
    }
  }

  private update(err?: Error): void {
    this.setState(this.derived(), err ?? this.transportError);
  }

  private onActivity(a: SessionActivity): void {
    // Put in the queue behind others: still waiting, not under way.
    if (a.kind === 'queued') {
      this.showQueued();
      return;
    }
    if (a.kind === 'done') {
      if (this.link.ok !== true) {
        this.link = { ok: true };
        this.update();
      }
    } else if (a.kind === 'failed' && a.code === 'E_TIMEOUT' && !PAYMENTS.includes(a.action)) {
      // A command the terminal did not answer: the link is down (or the terminal is).
      this.link = { ok: false, cause: 'timeout' };
      this.update();
    }
    // A request that started (or ended) no longer waits in the queue.
    const origin = this.originOf.get(a.requestID);
    if (origin !== undefined) {
      this.waiting.get(origin)?.delete(a.requestID);
      if (a.kind === 'done' || a.kind === 'failed') this.forget(a.requestID);
      else this.running.add(a.requestID);
    }
    this.showQueued();
  }

  /** Each node with a request waiting in the queue (and none under way) shows how many wait. */
  private showQueued(): void {
    const n = this.session?.queued ?? 0;
    if (n === 0) return;
    for (const [origin, ids] of this.waiting) {
      if (ids.size === 0) continue;
      const busy = [...this.running].some((id) => this.originOf.get(id) === origin);
      if (!busy) this.users.get(origin)?.(`queued:${n}`);
    }
  }

  private forget(requestID: string | undefined): void {
    if (requestID === undefined) return;
    const origin = this.originOf.get(requestID);
    this.originOf.delete(requestID);
    this.running.delete(requestID);
    if (origin !== undefined) {
      const ids = this.waiting.get(origin);
      ids?.delete(requestID);
      if (ids?.size === 0) this.waiting.delete(origin);
    }
  }

  /** The idle health check: DeviceInfo through the queue, only when nothing else is waiting or in flight. */
  private scheduleHealthCheck(delayMs: number): void {
    if (this.healthCheckMs <= 0 || this.session === undefined || this.closing !== undefined) return;
    clearTimeout(this.healthTimer);
    this.healthTimer = setTimeout(() => this.healthCheck(), delayMs);
    this.healthTimer.unref?.();
  }

  private healthCheck(): void {
    const session = this.session;
    if (session === undefined || this.closing !== undefined) return;
    if (session.inFlight || session.queued > 0 || this.originOf.size > 0) {
      this.scheduleHealthCheck(this.healthCheckMs);
      return;
    }
    // Set before the request is made: the session announces it (and a listener may ask for more) at once.
    let finished!: () => void;
    const run = new Promise<void>((resolve) => (finished = resolve));
    this.healthRun = run;
    session
      .request('DeviceInfo', {}, { timeoutMs: HEALTH_CHECK_TIMEOUT_MS })
      .then(
        () => {
          this.link = { ok: true };
          this.update();
        },
        (err: unknown) => {
          if (this.closing !== undefined) return;
          this.link = { ok: false, cause: linkCause(err) };
          this.emit('health', err);
          this.update(err instanceof Error ? err : undefined);
        },
      )
      .finally(() => {
        if (this.healthRun === run) this.healthRun = undefined;
        finished();
        this.scheduleHealthCheck(this.healthCheckMs);
      });
  }

  /**
   * Settles the journal's open entries with TransactionStatus (at start and
   * on reconnecting). Each settled one is emitted as `recovered`.
   */
  recover(): Promise<Recovery[]> {
    if (this.session === undefined || this.journal === undefined || this.journal.openEntries().length === 0) return Promise.resolve([]);
    if (this.recovering === undefined) {
      const done = () => (this.recovering = undefined);
      const session = this.session;
      // Under the right key (after the stored pinCode2 is loaded), and after a health check under way,
      // so that a terminal set to refuse when busy does not refuse it.
      const health = this.healthRun;
      this.recovering = this.keyReady.then(() => (health === undefined ? session.recover() : health.then(() => session.recover()))).finally(done);
      this.recovering.catch(() => undefined);
    }
    return this.recovering;
  }

  get state(): ConnectionState {
    return this.current;
  }

  /** Starts connecting. Serial keeps retrying by itself; state events tell the outcome. */
  open(): Promise<void> {
    if (this.session === undefined) return Promise.resolve();
    const opening = this.session.open();
    if (this.pairing !== undefined && this.pairing.identity === undefined) {
      // Cloud with the device SN learnt by ConnectionInfo (under the pairing code): then the stored pinCode2.
      this.keyReady = opening.then(
        () => {
          this.pairing!.load();
          if (this.pairing!.unreadable !== undefined) this.flagPairAgain();
        },
        () => undefined,
      );
    }
    // The first health check right after opening, the next ones while idle.
    opening.then(
      () => this.scheduleHealthCheck(0),
      () => this.scheduleHealthCheck(this.healthCheckMs),
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
   * Sends a request through the session's queue. A node's request (options.origin)
   * that waits in the queue shows `queued:<n>` on that node; a payment whose
   * outcome stays unknown (E_PENDING) shows `unknown`, not an error. A request
   * that arrives during a health check waits for it (at most
   * HEALTH_CHECK_TIMEOUT_MS), whatever the busy policy: a check never makes a
   * payment refused.
   */
  request<A extends Action>(action: A, params?: RequestParams[A], options?: RequestOptions): Promise<Outcome<A>> {
    const session = this.session;
    const pairing = this.pairing;
    if (session === undefined || pairing === undefined) return Promise.reject(this.configError);
    const origin = options?.origin;
    let requestID: string | undefined;
    const tracked: RequestOptions | undefined =
      origin === undefined
        ? options
        : {
            ...options,
            onQueued: (info) => {
              requestID = info.requestID;
              this.originOf.set(info.requestID, origin);
              let set = this.waiting.get(origin);
              if (set === undefined) this.waiting.set(origin, (set = new Set()));
              set.add(info.requestID);
              options?.onQueued?.(info);
              // Counted once the session has put it in its queue.
              queueMicrotask(() => this.showQueued());
            },
          };
    const send = async (): Promise<Outcome<A>> => {
      await this.keyReady;
      // A pairing under way: what comes after it speaks with its new key.
      while (this.pairingRun !== undefined) await this.pairingRun.catch(() => undefined);
      const unreadable = pairing.unreadable;
      if (unreadable !== undefined && action !== 'ConnectionInfo') {
        this.flagPairAgain();
        throw unreadable;
      }
      try {
        return await session.request(action, params, tracked);
      } catch (err) {
        const mapped = pairing.mapError(err);
        if (mapped !== err) this.flagPairAgain();
        throw mapped;
      }
    };
    const result = this.healthRun === undefined ? send() : this.healthRun.then(send, send);
    result.then(
      () => this.forget(requestID),
      (err: unknown) => {
        this.forget(requestID);
        this.showQueued();
        if (origin !== undefined && err instanceof PendingError) {
          // After the node has shown its error: the outcome is unknown, not failed.
          setImmediate(() => {
            if (this.closing === undefined) this.users.get(origin)?.('unknown');
          });
        }
      },
    );
    return result;
  }

  /**
   * Pair (under the pairing code), then Ack with the ackUuid the terminal
   * hands back. On the cloud path the second pin code it may hand back is
   * used from the Ack on and kept in the pairing store for after a restart.
   */
  async pair(options: RequestOptions = {}): Promise<{ pair: Outcome<'Pair'>; ack: Outcome<'Ack'> }> {
    if (this.session === undefined || this.pairing === undefined) throw this.configError;
    await this.keyReady;
    if (this.healthRun !== undefined) await this.healthRun;
    while (this.pairingRun !== undefined) await this.pairingRun.catch(() => undefined);
    const run = this.pairing.pair(options);
    this.pairingRun = run;
    try {
      const result = await run;
      this.pairAgain = false;
      this.update();
      return result;
    } finally {
      this.pairingRun = undefined;
    }
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

  /** Closes the session and its port, within a bounded time. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    clearTimeout(this.healthTimer);
    const session = this.session;
    this.closing = new Promise<void>((resolve) => {
      if (session === undefined) return resolve();
      const guard = setTimeout(resolve, CLOSE_GRACE_MS);
      session.close().then(
        () => {
          clearTimeout(guard);
          resolve();
        },
        () => {
          clearTimeout(guard);
          resolve();
        },
      );
    });
    return this.closing.then(async () => {
      await this.journal?.close();
      this.setState('closed');
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
