import { EventEmitter } from 'node:events';
import { createTransport, type TerminalConfig } from '../../lib/config';
import { validatePairingCode } from '../../lib/crypto';
import { WonderError } from '../../lib/errors';
import { Journal } from '../../lib/journal';
import { CloudPairing } from '../../lib/cloud-pairing';
import type { PairingStore } from '../../lib/pairing-store';
import type { Action, RequestParams } from '../../lib/messages';
import { TerminalSession, type BusyPolicy, type Outcome, type Recovery, type RequestOptions } from '../../lib/session';
import { SIMULATOR_DEFAULT_PAIRING_CODE } from '../../lib/simulator';
import type { TransportState } from '../../lib/transport';

/** Connection state as the nodes show it. */
export type ConnectionState = 'unconfigured' | 'connecting' | 'connected' | 'disconnected' | 'closed' | 'pair-again';

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
  /** Where a cloud terminal's pinCode2 is kept across restarts. */
  pairingStore?: PairingStore;
}

export type StateListener = (state: ConnectionState) => void;

const CLOSE_GRACE_MS = 5_000;

function fromTransport(state: TransportState): ConnectionState {
  switch (state) {
    case 'connected':
      return 'connected';
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return 'disconnected';
    default:
      return 'closed';
  }
}

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
    this.current = session === undefined ? 'unconfigured' : 'connecting';
    if (session !== undefined) {
      this.pairing = new CloudPairing(session, pairingCode, options.pairingStore);
      // The device SN configured: the stored pinCode2 is used from the first request.
      this.pairing.load();
      if (this.pairing.unreadable !== undefined) this.flagPairAgain();
    }
    session?.on('state', (state: TransportState, err?: Error) => {
      this.setState(this.pairAgain && state === 'connected' ? 'pair-again' : fromTransport(state), err);
      // Back on line: settle what was left open before anything new is taken.
      if (state === 'connected') void this.recover();
    });
    session?.on('recovered', (recovery: Recovery) => this.emit('recovered', recovery));
    session?.on('unresolved', (recovery: Recovery) => this.emit('unresolved', recovery));
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
      // Under the right key: after the stored pinCode2 is loaded.
      this.recovering = this.keyReady.then(() => session.recover()).finally(done);
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
    const opened = this.session.open();
    if (this.pairing !== undefined && this.pairing.identity === undefined) {
      // Cloud with the device SN learnt by ConnectionInfo (under the pairing code): then the stored pinCode2.
      this.keyReady = opened.then(
        () => {
          this.pairing!.load();
          if (this.pairing!.unreadable !== undefined) this.flagPairAgain();
        },
        () => undefined,
      );
    }
    return opened;
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

  async request<A extends Action>(action: A, params?: RequestParams[A], options?: RequestOptions): Promise<Outcome<A>> {
    if (this.session === undefined || this.pairing === undefined) throw this.configError;
    await this.keyReady;
    // A pairing under way: what comes after it speaks with its new key.
    while (this.pairingRun !== undefined) await this.pairingRun.catch(() => undefined);
    const unreadable = this.pairing.unreadable;
    if (unreadable !== undefined && action !== 'ConnectionInfo') {
      this.flagPairAgain();
      throw unreadable;
    }
    try {
      return await this.session.request(action, params, options);
    } catch (err) {
      const mapped = this.pairing.mapError(err);
      if (mapped !== err) this.flagPairAgain();
      throw mapped;
    }
  }

  /**
   * Pair (under the pairing code), then Ack with the ackUuid the terminal
   * hands back. On the cloud path the second pin code it may hand back is
   * used from the Ack on and kept in the pairing store for after a restart.
   */
  async pair(options: RequestOptions = {}): Promise<{ pair: Outcome<'Pair'>; ack: Outcome<'Ack'> }> {
    if (this.session === undefined || this.pairing === undefined) throw this.configError;
    await this.keyReady;
    while (this.pairingRun !== undefined) await this.pairingRun.catch(() => undefined);
    const run = this.pairing.pair(options);
    this.pairingRun = run;
    try {
      const result = await run;
      this.pairAgain = false;
      this.setState(fromTransport(this.session.state));
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
      if (this.pairAgain && this.current !== 'closed') this.setState('pair-again');
    });
  }

  /** Closes the session and its port, within a bounded time. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
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
  }
}
