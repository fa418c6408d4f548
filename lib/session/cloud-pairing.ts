/**
 * Which key a session speaks with, across restarts: the pairing code, or the
 * cloud's pinCode2 handed back by Pair and kept in a PairingStore.
 *
 * - After a restart the stored pinCode2 is used at once, no new Pair needed
 *   (`load`, once the terminal's device SN is known).
 * - Pair always goes out under the pairing code (the session is switched to
 *   it the moment the Pair request is sent), then Ack and everything after
 *   under the new pinCode2, which is stored once the Ack is answered.
 * - While a pinCode2 is in use, an answer that does not decrypt means the
 *   terminal no longer accepts it: the error becomes PairAgainError
 *   ("pair again"). Nothing ever falls back to the pairing code silently.
 */
import { SecurityError, isWonderError } from '../protocol';
import { PairAgainError, type CloudTerminalIdentity, type PairingStore } from './pairing-store';
import type { Outcome, RequestOptions, SessionActivity, TerminalSession } from '.';
import { CloudTransport } from '../transport';

export type PairingKey = 'pairingCode' | 'pinCode2';

export class CloudPairing {
  readonly #session: TerminalSession;
  readonly #store: PairingStore | undefined;
  readonly #pairingCode: string;
  #key: PairingKey = 'pairingCode';
  #unreadable: PairAgainError | undefined;
  #loaded = false;

  constructor(session: TerminalSession, pairingCode: string, store?: PairingStore) {
    this.#session = session;
    this.#pairingCode = pairingCode;
    this.#store = store;
  }

  /** The cloud terminal this session talks to, once its device SN is known. */
  get identity(): CloudTerminalIdentity | undefined {
    const t = this.#session.transport;
    return t instanceof CloudTransport && t.deviceSn !== undefined ? { businessId: t.businessId, deviceSn: t.deviceSn } : undefined;
  }

  /** Which code the session uses now. */
  get key(): PairingKey {
    return this.#key;
  }

  /** Set when a stored pairing is there but cannot be trusted: only a new Pair helps. */
  get unreadable(): PairAgainError | undefined {
    return this.#unreadable;
  }

  /**
   * Switches the session to the stored pinCode2 of this terminal, if one is
   * stored. Call once the device SN is known (at once when it is configured,
   * after `session.open()` when ConnectionInfo learns it). Returns the key in use.
   */
  load(): PairingKey {
    const id = this.identity;
    if (this.#store === undefined || id === undefined || this.#loaded) return this.#key;
    this.#loaded = true;
    try {
      const pinCode2 = this.#store.load(id);
      if (pinCode2 !== undefined) {
        this.#session.rekey(pinCode2);
        this.#key = 'pinCode2';
      }
    } catch (err) {
      if (!(err instanceof PairAgainError)) throw err;
      this.#unreadable = err;
    }
    return this.#key;
  }

  /**
   * An error of a request, as the caller should see it: a security error
   * while a pinCode2 is in use says "pair again".
   */
  mapError(err: unknown): unknown {
    if (err instanceof PairAgainError || !isWonderError(err) || err.code !== 'E_SECURITY' || this.#key !== 'pinCode2') return err;
    const id = this.identity;
    const who = id === undefined ? 'the cloud terminal' : `cloud terminal ${id.deviceSn}`;
    return new PairAgainError(`${who} no longer accepts the stored pairing (its answer does not decrypt with the second pin code): pair again`, {
      cause: err instanceof SecurityError ? err : undefined,
      ...(err.referenceID !== undefined ? { referenceID: err.referenceID } : {}),
      ...(err.notSent !== undefined ? { notSent: err.notSent } : {}),
    });
  }

  /** Pair (under the pairing code) then Ack (under the pinCode2 it hands back, if any), and store the result. */
  async pair(options: RequestOptions = {}): Promise<{ pair: Outcome<'Pair'>; ack: Outcome<'Ack'> }> {
    const session = this.#session;
    let pairID: string | undefined;
    const before = this.#key;
    // The moment the Pair request is encrypted: the pairing code, whatever was in use.
    const onActivity = (a: SessionActivity) => {
      if (a.kind === 'sending' && a.action === 'Pair' && a.requestID === pairID) {
        session.rekey(this.#pairingCode);
        this.#key = 'pairingCode';
      }
    };
    session.on('activity', onActivity);
    let pair: Outcome<'Pair'>;
    try {
      pair = await session.request('Pair', {}, {
        ...options,
        onQueued: (info) => {
          pairID = info.requestID;
          options.onQueued?.(info);
        },
      });
    } catch (err) {
      this.#restore(before);
      throw err;
    } finally {
      session.off('activity', onActivity);
    }
    const pinCode2 = (pair.body as { pinCode2?: unknown }).pinCode2;
    const handedOut = typeof pinCode2 === 'string' && pinCode2 !== '' ? pinCode2 : undefined;
    let ack: Outcome<'Ack'>;
    try {
      if (handedOut !== undefined) {
        session.rekey(handedOut);
        this.#key = 'pinCode2';
      }
      ack = await session.request('Ack', { ackUuid: (pair.body as { ackUuid: string }).ackUuid }, options);
    } catch (err) {
      // Pairing did not complete: back to what was in use before it.
      this.#restore(before);
      throw err;
    }
    const id = this.identity;
    if (this.#store !== undefined && id !== undefined) {
      if (handedOut !== undefined) await this.#store.save(id, handedOut);
      else await this.#store.remove(id);
    }
    this.#unreadable = undefined;
    this.#loaded = true;
    return { pair, ack };
  }

  #restore(before: PairingKey): void {
    if (before === 'pairingCode' || this.#store === undefined || this.identity === undefined) {
      this.#session.rekey(this.#pairingCode);
      this.#key = 'pairingCode';
      return;
    }
    try {
      const pinCode2 = this.#store.load(this.identity);
      if (pinCode2 !== undefined) {
        this.#session.rekey(pinCode2);
        this.#key = 'pinCode2';
        return;
      }
    } catch (err) {
      if (err instanceof PairAgainError) this.#unreadable = err;
    }
    this.#session.rekey(this.#pairingCode);
    this.#key = 'pairingCode';
  }
}
