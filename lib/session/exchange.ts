import type { Clock, Timer } from '../clock';
import type { Envelope, WonderCipher } from '../protocol';
import { type Action, encodeRequest, isWonderError, parseResponse, PAYMENT_ACTIONS, ProtocolError, requestOf, type RequestBodies, type Response, type ResponseHeader, SecurityError, TimeoutError, TransportError, WonderError } from '../protocol';
import { answersInline, type Transport } from '../transport';

/**
 * How long a request waits for its genuine answer after a message that does
 * not decrypt arrived on a stream link (noise that happened to frame, an old
 * terminal's message): past it, the request fails as a security error.
 */
export const UNDECRYPTABLE_GRACE_MS = 1_500;

/** Actions whose answers decide money: their envelope must name the same action. */
const ACTION_CHECKED: readonly Action[] = [...PAYMENT_ACTIONS, 'TransactionStatus'];

/** A request's envelope made ahead of sending, or what went wrong making it. */
export type Prepared = { envelope: string } | { error: unknown };

interface Waiter {
  action: Action;
  /** The decrypted answer and its header (parsed once, here). */
  onAnswer(plain: unknown, header: ResponseHeader): void;
  onUndecryptable(err: SecurityError): void;
}

export interface ExchangeDeps {
  transport: Transport;
  /** The key in use now (the cloud's pinCode2 replaces the first one). */
  cipher: () => WonderCipher;
  clientDeviceSN: string;
  /** Time-outs and the undecryptable grace run on it. */
  clock: Clock;
  /** Fires when the session closes: every wait ends. */
  closing: AbortSignal;
  onStray: (info: { responseID?: string; reason: string }) => void;
  /** Sees every message out and in, for the line counters and the trace (sizes and words only, never data). */
  observe?: (event: ExchangeEvent) => void;
}

/**
 * What the exchange saw: a request going out, an answer, a message that did
 * not decrypt, a stray, a time-out, a send that failed. Sizes are the
 * envelope's length; no ciphertext, no plaintext, no secret.
 */
export type ExchangeEvent =
  | { kind: 'sent'; action: Action; requestID: string; bytes: number }
  | { kind: 'answered'; action: Action; requestID: string; bytes: number; status?: 'Success' | 'Failed' | 'Pending'; simulated?: true }
  | { kind: 'undecryptable'; bytes: number }
  | { kind: 'stray'; bytes: number }
  | { kind: 'timeout'; action: Action; requestID: string }
  | { kind: 'failed'; action: Action; requestID: string; code: string };

/** The length of an envelope as serialized (`{"version":"2.0","action":…,"data":…}`). */
function envelopeBytes(envelope: Envelope): number {
  return envelope.data.length + envelope.action.length + 37;
}

function statusOf(plain: unknown): 'Success' | 'Failed' | 'Pending' | undefined {
  const status = (plain as { body?: { status?: unknown } }).body?.status;
  return status === 'Success' || status === 'Failed' || status === 'Pending' ? status : undefined;
}

/**
 * Where a request is encrypted, sent, matched to its answer and decrypted:
 * one place. Answers are matched by responseID (and, for payments and
 * lookups, by the envelope's action); anything else is a stray.
 */
export class Exchange {
  private readonly waiters = new Map<string, Waiter>();
  /** What ends each request in flight when the session closes (one listener on the signal for all of them). */
  private readonly onClose = new Set<() => void>();

  constructor(private readonly deps: ExchangeDeps) {
    deps.closing.addEventListener('abort', () => {
      for (const close of [...this.onClose]) close();
    }, { once: true });
  }

  /** Routes a received envelope to the request it answers. */
  dispatch(envelope: Envelope): void {
    let plain: unknown;
    let header: ResponseHeader;
    try {
      // Strict: valid UTF-8 JSON of the expected shape with a UUID responseID, or it is not from our terminal's key.
      const message = this.deps.cipher().decryptResponse(envelope.data);
      plain = message;
      header = message.header as ResponseHeader;
    } catch (err) {
      const security = err instanceof SecurityError ? err : new SecurityError('response could not be decrypted', { cause: err });
      this.deps.observe?.({ kind: 'undecryptable', bytes: envelopeBytes(envelope) });
      if (this.waiters.size === 0) this.deps.onStray({ reason: 'undecryptable' });
      for (const w of [...this.waiters.values()]) w.onUndecryptable(security);
      return;
    }
    const responseID = header.responseID;
    const waiter = this.waiters.get(responseID);
    if (waiter === undefined) {
      this.deps.observe?.({ kind: 'stray', bytes: envelopeBytes(envelope) });
      this.deps.onStray({ responseID, reason: 'no request waiting for it' });
      return;
    }
    if (ACTION_CHECKED.includes(waiter.action) && envelope.action !== waiter.action) {
      this.deps.observe?.({ kind: 'stray', bytes: envelopeBytes(envelope) });
      this.deps.onStray({ responseID, reason: `answer for ${String(envelope.action).slice(0, 32)}, not ${waiter.action}` });
      return;
    }
    const status = statusOf(plain);
    // A simulated terminal says so in every answer's header (lib/simulator): the nodes and the CLI mark its results.
    const simulated = header.simulated === true ? { simulated: true as const } : {};
    this.deps.observe?.({ kind: 'answered', action: waiter.action, requestID: responseID, bytes: envelopeBytes(envelope), ...(status !== undefined ? { status } : {}), ...simulated });
    waiter.onAnswer(plain, header);
  }

  /**
   * Listens for a late answer to a request already sent (while its outcome
   * is asked about). Returns the function that stops listening.
   */
  listen(requestID: string, action: Action, onAnswer: (res: Response) => void): () => void {
    const waiter: Waiter = {
      action,
      onAnswer: (plain, header) => {
        let res: Response;
        try {
          res = parseResponse(action, plain, header);
        } catch {
          return; // A malformed late answer settles nothing; TransactionStatus will.
        }
        onAnswer(res);
      },
      onUndecryptable: () => undefined,
    };
    this.waiters.set(requestID, waiter);
    return () => {
      if (this.waiters.get(requestID) === waiter) this.waiters.delete(requestID);
    };
  }

  /**
   * The envelope of a request (its body made by buildBody, the serial number
   * validated by the session): built and encrypted, not sent; what went wrong
   * is thrown by send(). A payment's is made while its journal line goes to disk.
   */
  prepare(action: Action, body: unknown, requestID: string): Prepared {
    try {
      return { envelope: encodeRequest(this.deps.cipher(), requestOf(action, body as RequestBodies[Action], this.deps.clientDeviceSN, { requestID })) };
    } catch (error) {
      return { error };
    }
  }

  /**
   * Sends one request (its body made by buildBody; `prepared`: its envelope from prepare()) and waits for its answer. Rejects with the transport's
   * error (carrying `notSent` where nothing left), TimeoutError, SecurityError
   * (only undecryptable messages came back), ProtocolError (an HTTP reply
   * that answered something else, or an answer of the wrong shape) or
   * E_CLOSED.
   */
  send<A extends Action>(action: A, body: unknown, requestID: string, timeoutMs: number, onSent?: () => void, prepared?: Prepared): Promise<Response<A>> {
    const made = prepared ?? this.prepare(action, body, requestID);
    if ('error' in made) throw made.error;
    const envelope = made.envelope;
    const controller = new AbortController();
    const inline = answersInline(this.deps.transport);
    const closing = this.deps.closing;
    return new Promise<Response<A>>((resolve, reject) => {
      let settled = false;
      let sent = false;
      let undecryptable: SecurityError | undefined;
      let grace: Timer | undefined;
      const finish = (err: unknown, res?: Response<A>) => {
        if (settled) return;
        settled = true;
        timer.cancel();
        grace?.cancel();
        this.onClose.delete(onClose);
        if (this.waiters.get(requestID) === waiter) this.waiters.delete(requestID);
        // Stop a send still under way (an HTTP request); aborting a finished one costs for nothing.
        if (!sent) controller.abort();
        if (err !== undefined) reject(err);
        else resolve(res!);
      };
      const waiter: Waiter = {
        action,
        onAnswer: (plain, header) => {
          try {
            finish(undefined, parseResponse(action, plain, header));
          } catch (err) {
            finish(err);
          }
        },
        onUndecryptable: (err) => {
          undecryptable ??= err;
          // On HTTP the reply was the only answer: decided when send() returns. On a stream, give the genuine answer a moment.
          if (!inline && grace === undefined) grace = this.deps.clock.setTimer(() => finish(undecryptable), UNDECRYPTABLE_GRACE_MS);
        },
      };
      const timer = this.deps.clock.setTimer(() => {
        if (!settled && undecryptable === undefined) this.deps.observe?.({ kind: 'timeout', action, requestID });
        finish(undecryptable ?? new TimeoutError(`${action}: no answer from the terminal within ${Math.round(timeoutMs / 100) / 10} s`));
      }, timeoutMs);
      const onClose = () => finish(new TransportError(`${action}: the terminal session was closed`, { code: 'E_CLOSED' }));
      if (closing.aborted) return onClose();
      this.onClose.add(onClose);
      this.waiters.set(requestID, waiter);
      this.deps.observe?.({ kind: 'sent', action, requestID, bytes: envelope.length });
      this.deps.transport.send(envelope, { signal: controller.signal, action, requestID }).then(
        () => {
          sent = true;
          onSent?.();
          // An HTTP transport has emitted its reply by now: if it did not answer this request, none will.
          if (inline) finish(undecryptable ?? new ProtocolError(`${action}: the terminal's reply did not answer this request`));
        },
        (err: unknown) => {
          sent = true;
          if (!controller.signal.aborted && !settled) this.deps.observe?.({ kind: 'failed', action, requestID, code: isWonderError(err) ? err.code : 'E_TRANSPORT' });
          if (!controller.signal.aborted) finish(err instanceof WonderError || !(err instanceof Error) ? err : new TransportError(err.message, { cause: err }));
        },
      );
    });
  }
}
