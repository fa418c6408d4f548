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
import { isRecord } from '../protocol';

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


/** An object, or a JSON string holding one (Scan2Pay documents `request` as a "JSON String"). */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
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

export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function dataOf(response: Record<string, unknown>): Record<string, unknown> | undefined {
  return asRecord(response.Data);
}

export function requestOf(data: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
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
