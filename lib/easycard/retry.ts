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
import { BusyError, ValidationError } from '../errors';
import { describeValue } from '../validate';
import { EasyCardError } from './errors';
import type { EasyCardJournal, EasyCardRecord } from './journal';
import { basisOf, failedResponseFromBasis, recordResultOf, resultFromRecord } from './journal-records';
import type { Scan2PayRequestDraft, Scan2PayResponse } from './types';

export const EASYCARD_METHOD = '31800';
/** The most retries EasyCard allows for one transaction. */
export const EASYCARD_MAX_RETRIES = 3;
/** `Data.ErrorCode` values that ask for a retry. */
export const EASYCARD_RETRY_ERROR = /^(000125|0462\d{2})$/;
export const EASYCARD_SUCCESS_ERROR_CODE = '000000';
/** `Data.ErrorCode`: the card placed for the retry is not the original card. */
export const EASYCARD_CARD_MISMATCH = '010128';
/** `Header.StatusCode`: the API call ran. */
export const SCAN2PAY_STATUS_OK = '0000';
/** `Header.StatusCode`: transaction ongoing, to be treated as a failure. */
export const SCAN2PAY_STATUS_ONGOING = '9997';
/** `Header.StatusCode`: StoreOrderNo exists already. */
export const SCAN2PAY_STATUS_ORDER_EXISTS = '7000';
/** Service types whose retry carries RefundKey and ActionType. */
export const EASYCARD_REFUND_SERVICE_TYPES: readonly string[] = ['Refund', 'Cancel', 'EZCRefund'];

export type EasyCardOutcome =
  /** TXNResult Success (and ErrorCode 000000 where present) with StatusCode 0000. */
  | 'success'
  /** Failed, and a retry is asked for (Retry 1..3, ErrorCode 000125 / 0462xx). */
  | 'retryable'
  /** ErrorCode 010128: the card placed is not the original card. */
  | 'card-mismatch'
  /** StatusCode 7000: StoreOrderNo exists already. */
  | 'order-exists'
  /** StatusCode 9997: transaction ongoing, counted as a failure. */
  | 'ongoing'
  /** Any other failure. */
  | 'failed';

export interface EasyCardClassification {
  outcome: EasyCardOutcome;
  success: boolean;
  retryable: boolean;
  /** `Data.Retry` as a number, where it is a whole number. */
  retry?: number;
  errorCode?: string;
  statusCode?: string;
  txnResult?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object, or a JSON string holding one (Scan2Pay documents `request` as a "JSON String"). */
function asRecord(value: unknown): Record<string, unknown> | undefined {
  if (isRecord(value)) return value;
  if (typeof value === 'string' && value.trim().startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (isRecord(parsed)) return parsed;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function dataOf(response: Record<string, unknown>): Record<string, unknown> | undefined {
  return asRecord(response.Data);
}

function requestOf(data: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (data === undefined) return undefined;
  return asRecord(data.request) ?? asRecord(data.Request);
}

/**
 * What a Scan2Pay EasyCard reply says about the transaction. Success needs
 * StatusCode 0000, TXNResult 'Success' and ErrorCode 000000 where present;
 * everything else is a failure, retryable only when `Data.Retry` is 1..3 and
 * `Data.ErrorCode` is 000125 or 0462xx.
 */
export function classifyFailure(response: unknown): EasyCardClassification {
  const header = isRecord(response) && isRecord(response.Header) ? response.Header : undefined;
  const data = isRecord(response) ? dataOf(response) : undefined;
  const statusCode = header === undefined ? undefined : text(header.StatusCode);
  const errorCode = data === undefined ? undefined : text(data.ErrorCode);
  const txnResult = data === undefined ? undefined : text(data.TXNResult);
  const retryText = data === undefined ? undefined : text(data.Retry);
  const retry = retryText !== undefined && /^\d{1,3}$/.test(retryText.trim()) ? Number(retryText.trim()) : undefined;

  const base: Omit<EasyCardClassification, 'outcome' | 'success' | 'retryable'> = {};
  if (retry !== undefined) base.retry = retry;
  if (errorCode !== undefined) base.errorCode = errorCode;
  if (statusCode !== undefined) base.statusCode = statusCode;
  if (txnResult !== undefined) base.txnResult = txnResult;

  const success =
    statusCode === SCAN2PAY_STATUS_OK &&
    txnResult === 'Success' &&
    (errorCode === undefined || errorCode === EASYCARD_SUCCESS_ERROR_CODE);
  if (success) return { ...base, outcome: 'success', success: true, retryable: false };

  if (errorCode === EASYCARD_CARD_MISMATCH) return { ...base, outcome: 'card-mismatch', success: false, retryable: false };
  if (retry !== undefined && retry >= 1 && retry <= EASYCARD_MAX_RETRIES && errorCode !== undefined && EASYCARD_RETRY_ERROR.test(errorCode)) {
    return { ...base, outcome: 'retryable', success: false, retryable: true };
  }
  if (statusCode === SCAN2PAY_STATUS_ORDER_EXISTS) return { ...base, outcome: 'order-exists', success: false, retryable: false };
  if (statusCode === SCAN2PAY_STATUS_ONGOING) return { ...base, outcome: 'ongoing', success: false, retryable: false };
  return { ...base, outcome: 'failed', success: false, retryable: false };
}

export function isEasyCardSuccess(response: unknown): boolean {
  return classifyFailure(response).success;
}

export interface RetryData {
  DeviceId: string;
  Retry: string;
  Amount: string;
  StoreOrderNo: string;
  TerminalTXNNumber: string;
  HostSerialNumber: string;
  RefundKey?: string;
  ActionType?: string;
}

export interface RetryRequestDraft extends Scan2PayRequestDraft {
  Header: { Method: string; ServiceType: string; MchId: string };
  Data: RetryData;
}

export interface BuildRetryOptions {
  /** MchId to use when the failed response's Header has none. */
  mchIdFallback?: string;
  /**
   * The value for Data.RefundKey: the SHA-256 hex of the refund password
   * (`sha256Hex(password)`; Scan2PayClient does this). Required when the
   * service type is Refund / Cancel / EZCRefund.
   */
  refundKey?: string;
}

function requiredField(value: unknown, path: string): string {
  const t = text(value);
  if (t === undefined || t.length === 0) {
    throw new ValidationError(path, `is missing in the failed response (got ${describeValue(value)}); it is needed to build the retry`);
  }
  return t;
}

/**
 * The retry request for a failed EasyCard response, as the Retry API wants
 * it. Header: Method 31800, ServiceType and MchId of the failed response
 * (TradeKey and CreateTime are added by Scan2PayClient.send). Data: DeviceId =
 * Data.request.DeviceID, Retry = Data.Retry (not Data.request.Retry), Amount =
 * Data.request.Amount, StoreOrderNo = Data.OrderId, TerminalTXNNumber and
 * HostSerialNumber from Data.request; plus RefundKey and ActionType for
 * Refund / Cancel / EZCRefund.
 *
 * Throws ValidationError naming the missing path (e.g.
 * `Data.request.TerminalTXNNumber`) or `refundKey`.
 */
export function buildRetryRequest(failed: unknown, options: BuildRetryOptions = {}): RetryRequestDraft {
  if (!isRecord(failed)) {
    throw new ValidationError('response', `must be the decrypted Scan2Pay response of the failed transaction, got ${describeValue(failed)}`);
  }
  const header = failed.Header;
  if (!isRecord(header)) throw new ValidationError('Header', 'is missing in the failed response');
  const serviceType = requiredField(header.ServiceType, 'Header.ServiceType');
  const mchIdRaw = text(header.MchId) ?? text(header.MchID);
  const mchId = mchIdRaw !== undefined && mchIdRaw.length > 0 ? mchIdRaw : options.mchIdFallback;
  if (mchId === undefined || mchId.length === 0) {
    throw new ValidationError('Header.MchId', 'is missing in the failed response and no fallback merchant id was given');
  }
  const data = dataOf(failed);
  if (data === undefined) throw new ValidationError('Data', 'is missing in the failed response');
  const request = requestOf(data);
  if (request === undefined) throw new ValidationError('Data.request', 'is missing in the failed response');

  const retry = requiredField(data.Retry, 'Data.Retry').trim();
  if (!/^\d{1,3}$/.test(retry) || Number(retry) < 1 || Number(retry) > EASYCARD_MAX_RETRIES) {
    // Retry 0 would make it a new transaction, not a retry.
    throw new ValidationError('Data.Retry', `must be 1, 2 or 3 for a retry, got ${describeValue(data.Retry)}`);
  }

  const needsRefundKey = EASYCARD_REFUND_SERVICE_TYPES.some((s) => s.toLowerCase() === serviceType.toLowerCase());
  if (needsRefundKey && (typeof options.refundKey !== 'string' || options.refundKey.length === 0)) {
    throw new ValidationError('refundKey', `the refund password is required to retry a ${serviceType} transaction; configure it (nothing was sent)`);
  }

  const out: RetryData = {
    DeviceId: requiredField(request.DeviceID ?? request.DeviceId, 'Data.request.DeviceID'),
    Retry: String(Number(retry)),
    Amount: requiredField(request.Amount, 'Data.request.Amount'),
    StoreOrderNo: requiredField(data.OrderId, 'Data.OrderId'),
    TerminalTXNNumber: requiredField(request.TerminalTXNNumber, 'Data.request.TerminalTXNNumber'),
    HostSerialNumber: requiredField(request.HostSerialNumber, 'Data.request.HostSerialNumber'),
  };
  if (needsRefundKey) {
    out.RefundKey = options.refundKey as string;
    out.ActionType = text(data.ActionType) ?? text(request.ActionType) ?? '';
  }
  return { Header: { Method: EASYCARD_METHOD, ServiceType: serviceType, MchId: mchId }, Data: out };
}

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
 * aborted before sending: `EasyCardError.delivery === 'not-sent'`), the card
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
    const stopped = (reason: 'aborted', error: Error): RetryFailure =>
      failure(reason, {
        attempts,
        response: latest,
        reportToEasyCard: false,
        resumable: true,
        storeOrderNo,
        classification,
        message: `cancelled before retry ${retry} was sent; the transaction is still incomplete: run the retry again or report it to EasyCard`,
        error,
      });

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
      if (err instanceof EasyCardError && err.delivery === 'not-sent') {
        return failure('not-sent', {
          attempts,
          response: latest,
          reportToEasyCard: false,
          resumable: true,
          storeOrderNo,
          classification,
          message: `retry ${retry} could not be sent (${err.message}); the transaction is still incomplete: run the retry again when Scan2Pay is reachable`,
          error: err,
        });
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

/**
 * runRetry with fixed options, and one run at a time per transaction: a second
 * run for a MchId + StoreOrderNo that is being retried is refused (BusyError),
 * so two flows can never drive the same card transaction at once.
 */
const SETTLED_KEPT = 1000;

export interface EasyCardRetryOptions {
  /** Where every run is recorded before its first request leaves (see EasyCardJournal). */
  journal?: EasyCardJournal;
}

export class EasyCardRetry {
  readonly #client: RetryClient;
  readonly #options: RunRetryOptions;
  readonly #journal: EasyCardJournal | undefined;
  readonly #running = new Set<string>();
  /** Runs under way, to wait for (`drain`) before the journal is closed. */
  readonly #runs = new Set<Promise<unknown>>();
  /** Final results by MchId + StoreOrderNo, newest last (bounded): a redelivered failed response is not retried again. */
  readonly #settled = new Map<string, RetryResult>();

  constructor(client: RetryClient, options: RunRetryOptions, more: EasyCardRetryOptions = {}) {
    if (!isRecord(client) || typeof client.send !== 'function' || typeof client.buildRetryRequest !== 'function') {
      throw new ValidationError('client', 'must be a Scan2PayClient');
    }
    if (!isRecord(options) || typeof options.waitForCard !== 'function') {
      throw new ValidationError('waitForCard', 'a function that resolves when the card is back on the reader is required');
    }
    this.#client = client;
    this.#options = options;
    this.#journal = more.journal;
  }

  /** Transactions (MchId/StoreOrderNo) being retried now. */
  get running(): string[] {
    return [...this.#running];
  }

  get journal(): EasyCardJournal | undefined {
    return this.#journal;
  }

  /**
   * One retry run. `origin` (a node id) is kept in the journal, to report
   * from it a run that a restart ended.
   */
  run(failedResponse: unknown, overrides: Partial<RunRetryOptions> = {}, origin?: string): Promise<RetryResult> {
    const run = this.#run(failedResponse, overrides, origin);
    this.#runs.add(run);
    const forget = () => this.#runs.delete(run);
    run.then(forget, forget);
    return run;
  }

  /** Resolves once no run is under way (each ends by itself, or by its signal). */
  async drain(): Promise<void> {
    while (this.#runs.size > 0) await Promise.allSettled([...this.#runs]);
  }

  async #run(failedResponse: unknown, overrides: Partial<RunRetryOptions>, origin: string | undefined): Promise<RetryResult> {
    const key = transactionKey(failedResponse, this.#client.mchId);
    if (key !== undefined && this.#running.has(key)) {
      throw new BusyError(`a retry for ${key} is already running`);
    }
    const earlier = key === undefined ? undefined : this.#settled.get(key);
    // Settled already (completed, or ended for good): retrying again could charge twice or burn a retry.
    if (earlier !== undefined) return { ...earlier, duplicate: true };
    const record = key === undefined ? undefined : this.#journal?.get(key);
    if (record !== undefined && (record.state === 'completed' || record.state === 'failed')) return resultFromRecord(record);
    if (key !== undefined) this.#running.add(key);
    try {
      const options = { ...this.#options, ...overrides };
      const result =
        this.#journal !== undefined && key !== undefined
          ? await this.#runJournalled(this.#journal, key, failedResponse, options, record, origin)
          : await runRetry(this.#client, failedResponse, options);
      // Nothing reached Scan2Pay (not-sent, aborted before a retry): it may be run again later.
      const final = result.ok || !result.resumable;
      if (key !== undefined && final && (result.ok || result.attempts > 0)) {
        this.#settled.set(key, result);
        if (this.#settled.size > SETTLED_KEPT) this.#settled.delete(this.#settled.keys().next().value!);
      }
      return result;
    } finally {
      if (key !== undefined) this.#running.delete(key);
    }
  }

  /**
   * The run, recorded: the record is on disk before the card is asked for,
   * the Retry in flight before each request leaves, each reply and the end.
   * An interrupted run resumes from its recorded Retry (or from the failed
   * response given, when that one is further on).
   */
  async #runJournalled(
    journal: EasyCardJournal,
    key: string,
    failedResponse: unknown,
    options: RunRetryOptions,
    record: EasyCardRecord | undefined,
    origin: string | undefined,
  ): Promise<RetryResult> {
    let input = failedResponse;
    let resumed = false;
    if (record?.next !== undefined) {
      const given = classifyFailure(failedResponse);
      if (!given.retryable || (given.retry ?? 0) <= Number(record.next.retry)) {
        input = failedResponseFromBasis(record, record.next);
        resumed = true;
      }
    }
    const classification = classifyFailure(input);
    if (!classification.retryable) return runRetry(this.#client, input, options);
    // Checks every field (and the refund key) before anything is written or asked for.
    const draft = this.#client.buildRetryRequest(input);
    const base = record?.attempts ?? 0;
    let current: EasyCardRecord = {
      key,
      mchId: draft.Header.MchId,
      storeOrderNo: draft.Data.StoreOrderNo,
      serviceType: draft.Header.ServiceType,
      ...(origin !== undefined ? { node: origin } : record?.node !== undefined ? { node: record.node } : {}),
      state: 'running',
      attempts: base,
      next: basisOf(draft, classification.errorCode),
      startedAt: record?.startedAt ?? new Date().toISOString(),
      updatedAt: '',
    };
    journal.put(current);
    const update = (change: Partial<EasyCardRecord>) => {
      current = { ...current, ...change };
      journal.put(current);
    };
    const result = await runRetry(this.#client, input, {
      ...options,
      waitForCard: async (attempt, max, info) => {
        await options.waitForCard(attempt, max, info);
        // The card is back: the retry goes out next. On disk first.
        update({ inFlight: info.retry });
      },
      onAttempt: (e) => {
        let next: EasyCardRecord['next'];
        if (e.classification.retryable) {
          try {
            next = basisOf(this.#client.buildRetryRequest(e.response), e.classification.errorCode);
          } catch {
            next = undefined;
          }
        }
        const change: Partial<EasyCardRecord> = { attempts: base + e.attempt, inFlight: undefined, next };
        current = { ...current, ...change };
        if (next === undefined) delete current.next;
        journal.put(current);
        options.onAttempt?.(e);
      },
    });
    const total = { ...result, attempts: base + result.attempts, ...(resumed ? { resumed: true } : {}) } as RetryResult;
    const final = total.ok || !total.resumable;
    const end: EasyCardRecord = { ...current, attempts: total.attempts, state: total.ok ? 'completed' : final ? 'failed' : 'interrupted' };
    delete end.inFlight;
    if (final) {
      delete end.next;
      end.result = recordResultOf(total);
    }
    journal.put(end);
    return total;
  }

  toJSON(): { running: string[] } {
    return { running: this.running };
  }
}

function transactionKey(response: unknown, mchIdFallback: string): string | undefined {
  if (!isRecord(response)) return undefined;
  const data = dataOf(response);
  const orderNo = data === undefined ? undefined : text(data.OrderId);
  if (orderNo === undefined) return undefined;
  const header = isRecord(response.Header) ? response.Header : {};
  return `${text(header.MchId) ?? text(header.MchID) ?? mchIdFallback}/${orderNo}`;
}
