/**
 * Errors of the intella Scan2Pay (EasyCard) client. Same pattern as
 * ../errors.ts: a stable `code`, an English message that names the step that
 * failed, the underlying error as `cause`. Messages never carry the trade
 * password, the refund key, the TradeKey or an AES key.
 *
 * Bad input or config found before anything is sent is a `ValidationError`
 * (code 'E_VALIDATION', from ../errors.ts), not an EasyCardError.
 */

export type EasyCardErrorCode =
  /** The HTTP exchange did not complete (connection refused, reset, DNS, TLS). */
  | 'E_EASYCARD_NETWORK'
  /** No reply within `timeoutMs`. */
  | 'E_EASYCARD_TIMEOUT'
  /** The caller's AbortSignal fired. */
  | 'E_EASYCARD_ABORTED'
  /** Scan2Pay answered with an HTTP status other than 2xx. */
  | 'E_EASYCARD_HTTP'
  /** The request could not be encrypted (should not happen with a validated key). */
  | 'E_EASYCARD_ENCRYPT'
  /** The `Response` field is not base64 or does not decrypt under the request's key and IV. */
  | 'E_EASYCARD_DECRYPT'
  /** The body, or the decrypted `Response`, is not the JSON that Scan2Pay sends. */
  | 'E_EASYCARD_RESPONSE';

/**
 * What is known about whether Scan2Pay received the request. This is what a
 * caller needs to decide whether resending is safe:
 * - 'not-sent': nothing reached Scan2Pay (refused connection, DNS or TLS
 *   failure, aborted before sending). Resending cannot double anything.
 * - 'unknown': the request may or may not have been received and acted on
 *   (connection dropped mid-exchange, timeout, abort while in flight).
 * - 'received': Scan2Pay received it and answered, but the answer is unusable
 *   (HTTP error, undecryptable or not JSON): the outcome is unknown.
 */
export type EasyCardDelivery = 'not-sent' | 'unknown' | 'received';

export interface EasyCardErrorOptions {
  cause?: unknown;
  delivery: EasyCardDelivery;
  /** The HTTP status, for E_EASYCARD_HTTP. */
  status?: number;
}

export class EasyCardError extends Error {
  readonly code: EasyCardErrorCode;
  readonly delivery: EasyCardDelivery;
  readonly status?: number;

  constructor(code: EasyCardErrorCode, message: string, options: EasyCardErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EasyCardError';
    this.code = code;
    this.delivery = options.delivery;
    if (options.status !== undefined) this.status = options.status;
  }
}

export function isEasyCardError(err: unknown): err is EasyCardError {
  return err instanceof EasyCardError;
}
