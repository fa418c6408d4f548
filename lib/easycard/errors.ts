/**
 * Errors of the intella Scan2Pay (EasyCard) client: members of the library's
 * one error family (WonderError, ../protocol), with a code of their own
 * (EasyCardErrorCode), an English message that names the step that failed and
 * the underlying error as `cause`. Messages never carry the trade password,
 * the refund key, the TradeKey or an AES key.
 *
 * Bad input or config found before anything is sent is a `ValidationError`
 * (code 'E_VALIDATION'), not an EasyCardError.
 */
import { WonderError, type EasyCardErrorCode } from '../protocol';

export type { EasyCardErrorCode } from '../protocol';

/**
 * What is known about whether Scan2Pay received the request. This is what a
 * caller needs to decide whether resending is safe:
 * - 'not-sent': nothing reached Scan2Pay (refused connection, DNS or TLS
 *   failure, aborted before sending). Resending cannot double anything.
 * - 'unknown': the request may or may not have been received and acted on
 *   (connection dropped mid-exchange, timeout, abort while in flight).
 * - 'received': Scan2Pay received it and answered, but the answer is unusable
 *   (HTTP error, undecryptable or not JSON): the outcome is unknown.
 *
 * It is the family's `notSent` told in more detail: 'not-sent' is
 * `notSent: true`, the others `notSent: false`.
 */
export type EasyCardDelivery = 'not-sent' | 'unknown' | 'received';

export interface EasyCardErrorOptions {
  cause?: unknown;
  delivery: EasyCardDelivery;
  /** The HTTP status, for E_EASYCARD_HTTP. */
  status?: number;
}

export class EasyCardError extends WonderError {
  declare readonly code: EasyCardErrorCode;
  readonly delivery: EasyCardDelivery;
  readonly status?: number;

  constructor(code: EasyCardErrorCode, message: string, options: EasyCardErrorOptions) {
    super(code, message, { ...(options.cause === undefined ? {} : { cause: options.cause }), notSent: options.delivery === 'not-sent' });
    this.name = 'EasyCardError';
    this.delivery = options.delivery;
    if (options.status !== undefined) this.status = options.status;
  }
}

export function isEasyCardError(err: unknown): err is EasyCardError {
  return err instanceof EasyCardError;
}
