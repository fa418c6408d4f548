import type { JournalEntry } from '../ledger';
import type { ResponseHeader, TransactionBody } from '../protocol';
import { resultOf, type Reason, type Verdict } from '../protocol';
import type { PaymentContext } from './context';
import type { Resolved } from './resolver';
import type { Outcome } from './types';

/** The outcome a caller gets for a settled payment (`now`: the monotonic reading `ctx.started` was taken on). */
export function outcomeOf(ctx: PaymentContext, resolved: Resolved, now: number): Outcome {
  const { decision, response } = resolved;
  const outcome: Outcome = {
    action: ctx.action,
    requestID: ctx.requestID,
    referenceID: ctx.asked.referenceID,
    header: response.header,
    body: response.body,
    result: resultOf(ctx.action, decision.verdict),
    verdict: decision.verdict,
    reason: decision.reason,
    statusQueries: resolved.queries,
    elapsedMs: now - ctx.started,
  };
  if (resolved.resolvedBy !== undefined) outcome.resolvedBy = resolved.resolvedBy;
  return outcome;
}

/** The recorded outcome of a payment settled before (a duplicate delivery). Nothing is sent. */
export function outcomeFromEntry(entry: JournalEntry): Outcome {
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
  if (entry.outcome?.verdict !== undefined) outcome.verdict = entry.outcome.verdict as Verdict;
  if (entry.outcome?.reason !== undefined) outcome.reason = entry.outcome.reason as Reason;
  if (entry.outcome?.resolvedBy === 'TransactionStatus') outcome.resolvedBy = 'TransactionStatus';
  return outcome;
}
