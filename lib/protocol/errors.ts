/**
 * Error classes of the library. Every error has a stable `code` that the
 * node layer turns into translated text; messages here are English and never
 * carry a secret (pairing code, key, password).
 */

export type ErrorCode =
  | 'E_VALIDATION'
  | 'E_FRAME'
  | 'E_PROTOCOL'
  | 'E_SECURITY'
  | 'E_TIMEOUT'
  | 'E_TRANSPORT'
  | 'E_CLOSED'
  | 'E_BUSY'
  | 'E_QUEUE_FULL'
  | 'E_PENDING'
  | 'E_BLOCKED'
  | 'E_REFERENCE_TAKEN'
  | 'E_ABORTED'
  | 'E_NOT_FOUND'
  | 'E_JOURNAL';

/**
 * Codes of the EasyCard (Scan2Pay) client's errors (lib/easycard/errors.ts),
 * beside ErrorCode so that one family holds both.
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

/** Every code a library error can carry. */
export type LibraryErrorCode = ErrorCode | EasyCardErrorCode;

export interface WonderErrorOptions {
  cause?: unknown;
  field?: string;
  /** True when certainly nothing left this host; false when a payment may have reached the terminal. */
  notSent?: boolean;
  /** The payment the error is about. */
  referenceID?: string;
}

export class WonderError extends Error {
  readonly code: LibraryErrorCode;
  /** The input or config field that the error is about, where there is one. */
  readonly field?: string;
  /**
   * `true`: certainly nothing left this host (the same referenceID may be used
   * again). `false`: the request may have reached the terminal; its outcome is
   * asked about, never guessed. Undefined for errors about no request.
   */
  notSent?: boolean;
  /** The payment (Sale, Refund: its own; Void: the voided one) the error is about. */
  referenceID?: string;

  constructor(code: LibraryErrorCode, message: string, options: WonderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WonderError';
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.notSent !== undefined) this.notSent = options.notSent;
    if (options.referenceID !== undefined) this.referenceID = options.referenceID;
  }
}

/**
 * Marks an error as being about a payment: its reference and whether it can
 * have left. A certain `notSent: true` given earlier is kept. Errors that are
 * not the library's own are wrapped, so every failure a caller sees has a code.
 */
export function aboutPayment(err: unknown, referenceID: string | undefined, notSent: boolean): WonderError {
  const e = isWonderError(err) ? err : new WonderError('E_TRANSPORT', err instanceof Error ? err.message : String(err), { cause: err });
  if (referenceID !== undefined) e.referenceID ??= referenceID;
  if (e.notSent !== true) e.notSent = notSent;
  return e;
}

/** Bad input or config, found before anything was sent. */
export class ValidationError extends WonderError {
  constructor(field: string, message: string) {
    super('E_VALIDATION', `${field}: ${message}`, { field });
    this.name = 'ValidationError';
  }
}

/** An error's message without the `field: ` its ValidationError put in front. */
export function fieldDetail(err: WonderError): string {
  return err.field !== undefined && err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
}

/** The same bad-input error under the name the user knows the field by (a config field, a CLI flag). */
export function renameField(err: WonderError, field: string): ValidationError {
  return new ValidationError(field, fieldDetail(err));
}

/** Bytes on the wire that are not a valid frame. */
export class FrameError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions) {
    super('E_FRAME', message, options);
    this.name = 'FrameError';
  }
}

/** A message that is not a valid envelope or response. */
export class ProtocolError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions) {
    super('E_PROTOCOL', message, options);
    this.name = 'ProtocolError';
  }
}

/**
 * Data that does not decrypt under the paired key: a wrong pairing code or
 * tampered ciphertext. Never to be read as a declined payment.
 */
export class SecurityError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions) {
    super('E_SECURITY', message, options);
    this.name = 'SecurityError';
  }
}

export class TimeoutError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions) {
    super('E_TIMEOUT', message, options);
    this.name = 'TimeoutError';
  }
}

export class TransportError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions & { code?: 'E_TRANSPORT' | 'E_CLOSED' }) {
    super(options?.code ?? 'E_TRANSPORT', message, options);
    this.name = 'TransportError';
  }
}

/** Whether an error says for certain that the request never left this host. */
export function isNotSent(err: unknown): boolean {
  return isWonderError(err) && err.notSent === true;
}

/** The journal could not record a payment (before it left: nothing sent) or its outcome (the outcome is still delivered). */
export class JournalError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions) {
    super('E_JOURNAL', message, options);
    this.name = 'JournalError';
  }
}

/** The terminal or the session cannot take the request now. */
export class BusyError extends WonderError {
  constructor(message: string, options?: WonderErrorOptions & { code?: 'E_BUSY' | 'E_QUEUE_FULL' }) {
    super(options?.code ?? 'E_BUSY', message, options);
    this.name = 'BusyError';
  }
}

export function isWonderError(err: unknown): err is WonderError {
  return err instanceof WonderError;
}
