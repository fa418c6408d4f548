import type { NodeAPI } from 'node-red';
import { canonicalAmount, isWonderError, type Action } from '../../lib/protocol';
import type { Outcome, SessionActivity } from '../../lib/session';
import { t } from './i18n';

/**
 * The steps a customer display shows, in order: `queued` (accepted, waiting
 * for the terminal), `sent` (on its way to the terminal), `waiting-card`,
 * `checking` (the outcome is being asked about), then one of `approved`,
 * `declined` (also a cancelled or voided payment: no money taken), `unknown`
 * (may be approved: staff must check) or `not-sent` (nothing reached the
 * terminal: try again).
 */
export type ProgressStep = 'queued' | 'sent' | 'waiting-card' | 'checking' | 'approved' | 'declined' | 'unknown' | 'not-sent';

type Msg = Record<string, unknown>;

/** Wall-clock milliseconds with a fraction (for latency measurements across one process). */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One payment's progress messages, sent on the node's second output as the
 * session reports each step. Each step is sent once, in order; a step the
 * session skips is not invented (only `sent`, which a payment's card wait
 * implies).
 */
export class ProgressReporter {
  private readonly seen = new Set<ProgressStep>();
  private requestID: string | undefined;
  private referenceID: string | undefined;
  private abortSeen = false;
  private finished = false;

  constructor(
    private readonly RED: NodeAPI,
    private readonly action: Action,
    private readonly input: Msg,
    private readonly amount: unknown,
    private readonly currency: unknown,
    private readonly emit: (msg: Msg) => void,
  ) {}

  /** The session accepted the request (validated, in its queue). */
  queued(info: { requestID: string; referenceID?: string }): void {
    this.requestID = info.requestID;
    this.referenceID = info.referenceID;
    this.step('queued');
  }

  /** Whether a session activity is about this payment. */
  private mine(a: SessionActivity): boolean {
    if (a.requestID === this.requestID) return true;
    // A payment sent before (journal open) is asked about under its first request's id.
    return a.kind === 'resolving' && a.action === this.action && this.referenceID !== undefined && a.referenceID === this.referenceID;
  }

  activity(a: SessionActivity): void {
    if (this.finished) return;
    if (a.action === 'Abort' && a.kind === 'sending' && this.seen.has('waiting-card')) this.abortSeen = true;
    if (!this.mine(a)) return;
    if (a.kind === 'waiting-card' || a.kind === 'sending') {
      this.step('sent');
      if (a.kind === 'waiting-card') this.step('waiting-card');
    } else if (a.kind === 'resolving') {
      this.step('checking');
    }
  }

  /** The payment settled. */
  settled(outcome: Outcome): void {
    const verdict = outcome.verdict ?? (outcome.result === 'Success' ? 'approved' : outcome.result === 'Failed' ? 'declined' : 'unknown');
    const cancelled = verdict === 'voided' || (verdict === 'declined' && (this.abortSeen || outcome.abortRequested === true || outcome.reason === 'aborted'));
    const step: ProgressStep = verdict === 'approved' ? 'approved' : verdict === 'unknown' ? 'unknown' : 'declined';
    this.step(step, cancelled ? { cancelled: true } : {}, cancelled ? 'cancelled' : undefined);
    this.finished = true;
  }

  /** The payment failed: not sent at all, or its outcome is unknown (it may be approved). */
  failed(err: unknown): void {
    if (this.finished) return;
    const notSent = isWonderError(err) && err.notSent === true;
    if (isWonderError(err) && this.referenceID === undefined && err.referenceID !== undefined) this.referenceID = err.referenceID;
    // Taken out of the queue by an Abort naming it: cancelled, never sent.
    const cancelled = notSent && isWonderError(err) && err.code === 'E_ABORTED';
    this.step(notSent ? 'not-sent' : 'unknown', { code: isWonderError(err) ? err.code : 'E_INTERNAL', ...(cancelled ? { cancelled: true } : {}) }, cancelled ? 'cancelled' : undefined);
    this.finished = true;
  }

  private text(step: ProgressStep, variant: string | undefined): string {
    const key = variant ?? step;
    if (this.action === 'Refund' && (key === 'approved' || key === 'declined' || key === 'waiting-card')) return t(this.RED, `progress.refund.${key}`);
    return t(this.RED, `progress.text.${key}`);
  }

  private step(step: ProgressStep, extra: Record<string, unknown> = {}, variant?: string): void {
    if (this.seen.has(step)) return;
    this.seen.add(step);
    const at = preciseNow();
    const text = this.text(step, variant);
    const amount = canonicalAmount(this.amount);
    const { payload: _payload, wonder: _wonder, receipt: _receipt, _msgid: _id, ...rest } = this.input;
    this.emit({
      // A copy: a flow that changes a progress message does not change the payment's own message.
      ...(this.RED.util.cloneMessage(rest as never) as Msg),
      _msgid: this.RED.util.generateId(),
      payload: text,
      wonder: {
        action: this.action,
        progress: step,
        text,
        ...(this.referenceID !== undefined ? { referenceID: this.referenceID } : {}),
        ...(this.requestID !== undefined ? { requestID: this.requestID } : {}),
        ...(amount !== undefined ? { amount } : {}),
        ...(typeof this.currency === 'string' ? { currency: this.currency } : {}),
        ...extra,
        at,
      },
    });
  }
}
