import { randomUUID } from 'node:crypto';
import { type Clock, sleep, systemClock } from '../clock';
import { aboutPayment, buildBody, decideAnswer, decideLookup, type Decision, isSettled, isWonderError, type Reason } from '../protocol';
import type { Response } from '../protocol';
import type { PaymentContext } from './context';
import { PendingError, ReferenceTakenError } from './errors';
import type { Exchange } from './exchange';

export interface ResolverOptions {
  statusPollIntervalMs: number;
  resolveTimeoutMs: number;
  commandTimeoutMs: number;
}

/** What is known when the resolver starts asking. */
export interface Unresolved {
  /** The payment's own answer's verdict, if it answered. */
  first?: Decision;
  lastBody?: unknown;
  cause?: unknown;
  /** Whether the terminal said anything about the payment yet. */
  heardFrom: boolean;
}

export interface Resolved {
  decision: Decision & { verdict: 'approved' | 'declined' | 'voided' };
  response: Response;
  resolvedBy?: 'TransactionStatus';
  queries: number;
}

/** Waits `ms` on the clock, or less when `signal` fires (never rejects). */
function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return sleep(clock, ms, signal).catch(() => undefined);
}

/**
 * Settles a payment whose outcome is unknown: asks TransactionStatus on the
 * same reference until a lookup that describes this very payment gives a
 * final state, or a late answer to the payment itself arrives, or the
 * deadline passes (PendingError). Never sends the payment again.
 */
export class Resolver {
  constructor(
    private readonly exchange: Exchange,
    private readonly closing: AbortSignal,
    private readonly opts: ResolverOptions,
    private readonly clock: Clock = systemClock,
  ) {}

  /** `timeoutMs`: how long to keep asking (default: the resolve time-out); 0 asks once. */
  async resolve(ctx: PaymentContext, known: Unresolved, timeoutMs = this.opts.resolveTimeoutMs): Promise<Resolved> {
    const { asked } = ctx;
    const now = () => this.clock.monotonic();
    const deadline = now() + timeoutMs;
    let queries = 0;
    let heardFrom = known.heardFrom;
    let lastBody = known.lastBody;
    let cause = known.cause;
    let reason: Reason | undefined = known.first?.reason;
    let late: Resolved | undefined;
    const stop = new AbortController();
    const wake = AbortSignal.any([stop.signal, this.closing]);
    // A late answer to the payment itself settles it too, when it is final.
    const unlisten = ctx.askOnly
      ? () => undefined
      : this.exchange.listen(ctx.requestID, ctx.action, (res) => {
          const decision = decideAnswer(asked, { action: res.action, body: res.body });
          if (isSettled(decision)) {
            late = { decision, response: res, queries };
            stop.abort();
          }
        });
    try {
      // A Pending answer is asked about after an interval; no answer, or one that settles nothing, at once.
      let wait = known.first?.reason === 'pending' ? this.opts.statusPollIntervalMs : 0;
      while ((queries === 0 || now() < deadline) && !this.closing.aborted) {
        const pauseMs = Math.min(wait, Math.max(0, deadline - now()));
        // No wait asked (the first lookup after no answer): none taken, on any clock.
        if (pauseMs > 0) await pause(this.clock, pauseMs, wake);
        wait = this.opts.statusPollIntervalMs;
        if (late !== undefined || this.closing.aborted) break;
        if (queries > 0 && now() >= deadline) break;
        queries++;
        let res: Response<'TransactionStatus'>;
        try {
          // Asked once (an old payment): the whole command time-out, so a slow terminal's answer is learnt; else what is left, at least 1 s.
          const timeout = timeoutMs === 0 ? this.opts.commandTimeoutMs : Math.min(this.opts.commandTimeoutMs, Math.max(1_000, deadline - now()));
          res = await this.exchange.send('TransactionStatus', buildBody('TransactionStatus', { targetReferenceID: asked.referenceID }), randomUUID(), timeout);
        } catch (err) {
          if (isWonderError(err) && err.code === 'E_SECURITY') throw aboutPayment(err, asked.referenceID, false);
          cause = err;
          if (late !== undefined) break;
          continue;
        }
        heardFrom = true;
        lastBody = res.body;
        const decision = decideLookup(asked, { action: res.action, body: res.body });
        if (isSettled(decision)) return { decision, response: res, resolvedBy: 'TransactionStatus', queries };
        // The terminal refused this payment as a duplicate, and its reference names another transaction.
        if (decision.conflict === true && known.first?.reason === 'reference-used') throw new ReferenceTakenError(ctx.action, asked.referenceID, decision.field);
        reason = decision.reason;
        if (late !== undefined) break;
      }
    } finally {
      unlisten();
    }
    if (late !== undefined) return { ...late, queries };
    throw new PendingError(ctx.action, asked.referenceID, {
      heardFrom,
      ...(lastBody !== undefined ? { lastBody } : {}),
      ...(cause !== undefined ? { cause } : {}),
      ...(reason !== undefined ? { reason } : {}),
    });
  }
}
