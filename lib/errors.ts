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
  | 'E_TERMINAL'
  | 'E_DUPLICATE';

export interface WonderErrorOptions {
  cause?: unknown;
  field?: string;
}

export class WonderError extends Error {
  readonly code: ErrorCode;
  /** The input or config field that the error is about, where there is one. */
  readonly field?: string;

  constructor(code: ErrorCode, message: string, options: WonderErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WonderError';
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
  }
}

/** Bad input or config, found before anything was sent. */
export class ValidationError extends WonderError {
  constructor(field: string, message: string) {
    super('E_VALIDATION', `${field}: ${message}`, { field });
    this.name = 'ValidationError';
  }
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
  /** True when certainly nothing left this host (e.g. the port was not open): a payment may be tried again. */
  readonly notSent: boolean;
  constructor(message: string, options?: WonderErrorOptions & { code?: 'E_TRANSPORT' | 'E_CLOSED'; notSent?: boolean }) {
    super(options?.code ?? 'E_TRANSPORT', message, options);
    this.name = 'TransportError';
    this.notSent = options?.notSent === true;
  }
}

/** Whether an error says for certain that the request never left this host. */
export function isNotSent(err: unknown): boolean {
  return err instanceof TransportError && err.notSent;
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
