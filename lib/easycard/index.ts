/** intella Scan2Pay EasyCard retry: public API of lib/easycard. */
export { EasyCardError, isEasyCardError, type EasyCardErrorCode, type EasyCardDelivery, type EasyCardErrorOptions } from './errors';
export {
  SCAN2PAY_AES_ALGORITHM,
  sha256Hex,
  parseAesIv,
  parseRsaPublicKey,
  encryptRequest,
  normalizeResponseBase64,
  decryptResponseField,
  type EncryptedRequest,
} from './crypto';
export {
  Scan2PayClient,
  MAX_REPLY_BYTES,
  SCAN2PAY_STAGE_ENDPOINT,
  SCAN2PAY_PRODUCTION_ENDPOINT,
  SCAN2PAY_ENDPOINTS,
  SCAN2PAY_DEFAULT_TIMEOUT_MS,
  formatCreateTime,
  type Scan2PayClientOptions,
  type Scan2PaySendOptions,
} from './client';
export {
  classifyFailure,
  isEasyCardSuccess,
  EASYCARD_METHOD,
  EASYCARD_MAX_RETRIES,
  EASYCARD_RETRY_ERROR,
  EASYCARD_SUCCESS_ERROR_CODE,
  EASYCARD_CARD_MISMATCH,
  EASYCARD_REFUND_SERVICE_TYPES,
  SCAN2PAY_STATUS_OK,
  SCAN2PAY_STATUS_ONGOING,
  SCAN2PAY_STATUS_ORDER_EXISTS,
  type EasyCardOutcome,
  type EasyCardClassification,
} from './classify';
export { buildRetryRequest, type RetryData, type RetryRequestDraft, type BuildRetryOptions } from './retry-request';
export {
  runRetry,
  type RetryClient,
  type WaitForCardInfo,
  type RetryAttemptEvent,
  type RunRetryOptions,
  type RetryFailureReason,
  type RetrySuccess,
  type RetryFailure,
  type RetryResult,
} from './retry';
export { EasyCardRetry, type EasyCardRetryOptions } from './completions';
export type {
  Scan2PayRequest,
  Scan2PayRequestHeader,
  Scan2PayRequestDraft,
  Scan2PayResponse,
  Scan2PayResponseHeader,
} from './types';
export { failedResponseOf, withoutCredentials, REDACTED } from './response';
export { resolveEndpoint } from './endpoint';
export { makeRedactor, redactError, type Redactor } from './redact';
export * from './journal';
export * from './journal-records';
