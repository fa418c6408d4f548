/**
 * EasyCard "Payment Retry" on intella's Scan2Pay API (Method 31800).
 *
 * When an EasyCard transaction fails with `Data.Retry` 1..3 and error code
 * 000125 or 0462xx (typically the card was removed from the reader mid
 * transaction), the same transaction must be completed with the Retry API: the
 * cardholder puts the card back and a retry request is sent that copies the
 * failed transaction's fields, with `Retry` set to the failed response's
 * `Data.Retry`. At most 3 retries; if the third (Retry = 3) fails, the
 * transaction cannot be completed and must be reported to EasyCard.
 *
 * Reading a reply: `Header.StatusCode` 0000 only says that the API call ran.
 * The EasyCard outcome is `Data.TXNResult` / `Data.ErrorCode`.
 */
import { describeValue, isNotSent, isRecord, ValidationError } from '../protocol';
import { classifyFailure, dataOf, EASYCARD_CARD_MISMATCH, EASYCARD_MAX_RETRIES, text, type EasyCardClassification } from './classify';
import type { RetryRequestDraft } from './retry-request';
import type { Scan2PayRequestDraft, Scan2PayResponse } from './types';

/** What runRetry needs of a client; Scan2PayClient has it. */
export interface RetryClient {
  readonly mchId: string;
  buildRetryRequest(failed: unknown): RetryRequestDraft;
  send(draft: Scan2PayRequestDraft, options?: { signal?: AbortSignal }): Promise<Scan2PayResponse>;
}

export interface WaitForCardInfo {
  /** The Retry value this attempt will send (1..3). */
  retry: number;
  storeOrderNo: string;
  /** The ErrorCode of the failure being retried. */
  errorCode?: string;
}

export interface RetryAttemptEvent {
  attempt: number;
  max: typeof EASYCARD_MAX_RETRIES;
  /** The Retry value that was sent. */
  retry: number;
  storeOrderNo: string;
  response: Scan2PayResponse;
  classification: EasyCardClassification;
}

export interface RunRetryOptions {
  /**
   * Resolves once the cardholder has put the card back on the reader; called
   * before every retry. Rejecting it cancels the retry (reason 'aborted').
   */
  waitForCard: (attempt: number, max: typeof EASYCARD_MAX_RETRIES, info: WaitForCardInfo) => Promise<void>;
  signal?: AbortSignal;
  /** Told about every retry reply. Errors it throws are ignored. */
  onAttempt?: (event: RetryAttemptEvent) => void;
}

export type RetryFailureReason =
  /** The failed response does not ask for a retry, or a retry got a failure that cannot be retried again. */
  | 'not-retryable'
  /** ErrorCode 010128: the card placed is not the original card. */
  | 'card-mismatch'
  /** The third retry (Retry = 3) failed. */
  | 'retries-exhausted'
  /** A retry may have reached Scan2Pay but no usable reply came back. */
  | 'unknown-outcome'
  /** A retry could not be sent (no connection); nothing reached Scan2Pay. */
  | 'not-sent'
  /** Cancelled (signal, or waitForCard rejected) before a retry was sent. */
  | 'aborted'
  /** A retry reply cannot be followed safely (fields missing, another StoreOrderNo or ServiceType). */
  | 'invalid-response';

export interface RetrySuccess {
  ok: true;
  /** This transaction (MchId + StoreOrderNo) was settled before: its recorded result, nothing sent. */
  duplicate?: boolean;
  /** This run continued one that was interrupted (a restart, a cancel) from its recorded Retry. */
  resumed?: boolean;
  /** The successful response. */
  response: Scan2PayResponse;
  /** Retry requests that reached (or may have reached) Scan2Pay. */
  attempts: number;
  storeOrderNo?: string;
  classification: EasyCardClassification;
}

export interface RetryFailure {
  ok: false;
  /** This transaction (MchId + StoreOrderNo) was settled before: its recorded result, nothing sent. */
  duplicate?: boolean;
  /** This run continued one that was interrupted (a restart, a cancel) from its recorded Retry. */
  resumed?: boolean;
  reason: RetryFailureReason;
  /** Retry requests that reached (or may have reached) Scan2Pay. */
  attempts: number;
  /** The last response received: the failed response given, when no retry reply came. */
  response: Scan2PayResponse;
  /** The transaction cannot be completed by retrying and must be reported to EasyCard. */
  reportToEasyCard: boolean;
  /** Calling runRetry again with `response` later is safe and may complete the transaction. */
  resumable: boolean;
  storeOrderNo?: string;
  classification: EasyCardClassification;
  /** English description, for logs and status text. */
  message: string;
  /** The error that ended the run, for 'unknown-outcome', 'not-sent', 'aborted', 'invalid-response'. */
  error?: Error;
}

export type RetryResult = RetrySuccess | RetryFailure;

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function failure(
  reason: RetryFailureReason,
  fields: Omit<RetryFailure, 'ok' | 'reason' | 'storeOrderNo'> & { storeOrderNo: string | undefined },
): RetryFailure {
  const out: RetryFailure = { ok: false, reason, ...fields, storeOrderNo: fields.storeOrderNo };
  if (out.storeOrderNo === undefined) delete out.storeOrderNo;
  if (out.error === undefined) delete out.error;
  return out;
}

function abortedError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error('aborted');
}

/**
 * Run EasyCard's retry procedure for one failed transaction.
 *
 * - A success response → `{ok:true, attempts:0}`; a failure that does not ask
 *   for a retry → 'not-retryable', nothing sent, nothing to report.
 * - Otherwise, up to 3 times: await `waitForCard`, send the retry built from
 *   the LATEST failed response (its Data.Retry), and read the reply. Success →
 *   ok. 010128 → 'card-mismatch' (stop: another card must not be charged). A
 *   failed retry that had Retry = 3 → 'retries-exhausted'. A failed retry that
 *   cannot be retried again → 'not-retryable'. Those three are reported to
 *   EasyCard (`reportToEasyCard: true`): the interrupted transaction stays
 *   incomplete and the retry path is closed.
 * - The retry never becomes a new Payment: Method 31800 with Retry 1..3 and
 *   the original StoreOrderNo, always. A reply naming another StoreOrderNo or
 *   ServiceType ends the run ('invalid-response').
 *
 * Errors on an attempt (our choice, deliberately conservative): when the
 * client proves that nothing left this process (connection refused, DNS, TLS,
 * aborted before sending: `error.notSent`, an EasyCardError's delivery
 * 'not-sent'), the card
 * and Scan2Pay are exactly as the latest failed response says, so the run ends
 * with 'not-sent', `resumable: true`, and the caller may run the retry again
 * later with `result.response`. In every other case (timeout, dropped
 * connection, HTTP error, undecryptable or non-JSON reply) the retry may have
 * been applied to the card, and we do not know the next Retry value: sending
 * again would act on a stale counter and could charge twice or burn the last
 * retry. So the run ends with 'unknown-outcome' and `reportToEasyCard: true`;
 * the merchant should check the transaction (single order query / EasyCard)
 * rather than resend blindly.
 *
 * Throws (nothing sent) only for bad input: ValidationError for a missing
 * field in the failed response or a missing refund key for Refund / Cancel /
 * EZCRefund, or a missing waitForCard.
 */
export async function runRetry(client: RetryClient, failedResponse: unknown, options: RunRetryOptions): Promise<RetryResult> {
  if (!isRecord(options) || typeof options.waitForCard !== 'function') {
    throw new ValidationError('waitForCard', 'a function that resolves when the card is back on the reader is required');
  }
  if (!isRecord(failedResponse) || !isRecord(failedResponse.Header)) {
    throw new ValidationError('response', `must be the decrypted Scan2Pay response of the failed transaction (with Header and Data), got ${describeValue(failedResponse)}`);
  }
  const { waitForCard, signal, onAttempt } = options;
  let latest = failedResponse as Scan2PayResponse;
  let classification = classifyFailure(latest);
  const firstData = dataOf(latest);
  const orderNo = firstData === undefined ? undefined : text(firstData.OrderId);
  let attempts = 0;

  if (classification.success) {
    const out: RetrySuccess = { ok: true, response: latest, attempts: 0, classification };
    if (orderNo !== undefined) out.storeOrderNo = orderNo;
    return out;
  }
  if (!classification.retryable) {
    // Whatever the failure (010128 included: classification.outcome says which), we sent nothing.
    return failure('not-retryable', {
      attempts: 0,
      response: latest,
      reportToEasyCard: false,
      resumable: false,
      storeOrderNo: orderNo,
      classification,
      message: `the failed transaction does not ask for a retry (ErrorCode ${classification.errorCode ?? 'none'}, Retry ${classification.retry ?? 'none'}); nothing was sent`,
    });
  }

  // Validates everything (fields, refund key) before the cardholder is asked for anything.
  let draft = client.buildRetryRequest(latest);
  const storeOrderNo = draft.Data.StoreOrderNo;
  const serviceType = draft.Header.ServiceType;

  for (;;) {
    const retry = Number(draft.Data.Retry);
    const attempt = attempts + 1;
    /** Nothing of this retry was sent: the transaction is still incomplete and the run can be resumed. */
    const resumable = (reason: 'aborted' | 'not-sent', message: string, error: Error): RetryFailure =>
      failure(reason, { attempts, response: latest, reportToEasyCard: false, resumable: true, storeOrderNo, classification, message, error });
    const stopped = (reason: 'aborted', error: Error): RetryFailure =>
      resumable(reason, `cancelled before retry ${retry} was sent; the transaction is still incomplete: run the retry again or report it to EasyCard`, error);

    if (signal?.aborted) return stopped('aborted', abortedError(signal));
    try {
      const info: WaitForCardInfo = { retry, storeOrderNo };
      if (classification.errorCode !== undefined) info.errorCode = classification.errorCode;
      await waitForCard(attempt, EASYCARD_MAX_RETRIES, info);
    } catch (err) {
      return stopped('aborted', toError(err));
    }
    if (signal?.aborted) return stopped('aborted', abortedError(signal));

    let response: Scan2PayResponse;
    try {
      response = await client.send(draft, signal === undefined ? {} : { signal });
    } catch (err) {
      if (isNotSent(err)) {
        return resumable('not-sent', `retry ${retry} could not be sent (${toError(err).message}); the transaction is still incomplete: run the retry again when Scan2Pay is reachable`, toError(err));
      }
      attempts = attempt;
      return failure('unknown-outcome', {
        attempts,
        response: latest,
        reportToEasyCard: true,
        resumable: false,
        storeOrderNo,
        classification,
        message: `the outcome of retry ${retry} is unknown (${toError(err).message}); do not resend blindly: check the transaction and report it to EasyCard`,
        error: toError(err),
      });
    }
    attempts = attempt;
    latest = response;
    classification = classifyFailure(response);
    if (onAttempt !== undefined) {
      try {
        onAttempt({ attempt, max: EASYCARD_MAX_RETRIES, retry, storeOrderNo, response, classification });
      } catch {
        // A progress hook must not change the outcome of a payment.
      }
    }

    const done = (reason: RetryFailureReason, message: string, error?: Error): RetryFailure =>
      failure(reason, {
        attempts,
        response,
        reportToEasyCard: true,
        resumable: false,
        storeOrderNo,
        classification,
        message,
        error,
      });

    if (classification.success) {
      return { ok: true, response, attempts, storeOrderNo, classification };
    }
    if (classification.outcome === 'card-mismatch') {
      return done('card-mismatch', `retry ${retry}: the card placed is not the original card (${EASYCARD_CARD_MISMATCH}); stopped, report the transaction to EasyCard`);
    }
    if (retry >= EASYCARD_MAX_RETRIES || attempts >= EASYCARD_MAX_RETRIES) {
      return done('retries-exhausted', `retry ${retry} failed (ErrorCode ${classification.errorCode ?? 'none'}); no retry is left: report the transaction to EasyCard`);
    }
    if (!classification.retryable) {
      return done(
        'not-retryable',
        `retry ${retry} failed and cannot be retried again (StatusCode ${classification.statusCode ?? 'none'}, ErrorCode ${classification.errorCode ?? 'none'}); report the transaction to EasyCard`,
      );
    }

    let next: RetryRequestDraft;
    try {
      next = client.buildRetryRequest(response);
    } catch (err) {
      return done('invalid-response', `the reply to retry ${retry} cannot be followed: ${toError(err).message}; report the transaction to EasyCard`, toError(err));
    }
    if (next.Data.StoreOrderNo !== storeOrderNo || next.Header.ServiceType !== serviceType) {
      return done(
        'invalid-response',
        `the reply to retry ${retry} names another transaction (StoreOrderNo ${next.Data.StoreOrderNo}, ServiceType ${next.Header.ServiceType}); stopped, report the transaction to EasyCard`,
      );
    }
    draft = next;
  }
}

