/**
 * Client of intella's Scan2Pay "general" API (one entry point, HTTP POST,
 * JSON, encrypted as in ./crypto.ts). No Node-RED, no logging.
 *
 * Secrets: the trade password is hashed once in the constructor and only its
 * SHA-256 (the TradeKey) is kept, in a private field; the refund password
 * likewise (Scan2Pay wants RefundKey as SHA-256 hex too). Neither the clear
 * values nor the hashes appear in error messages, `toJSON()` or
 * `util.inspect()` of the client.
 */
import type { KeyObject } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import { describeValue, isRecord, ValidationError } from '../protocol';
import { makeRedactor, type Redactor } from './redact';
import { decryptResponseField, encryptRequest, parseAesIv, parseRsaPublicKey, sha256Hex } from './crypto';
import { EasyCardError } from './errors';
import { buildRetryRequest, type RetryRequestDraft } from './retry-request';
import type { Scan2PayRequest, Scan2PayRequestDraft, Scan2PayResponse } from './types';

export const SCAN2PAY_STAGE_ENDPOINT = 'https://s.intella.co/allpaypass/api/general';
export const SCAN2PAY_PRODUCTION_ENDPOINT = 'https://a.intella.co/allpaypass/api/general';
export const SCAN2PAY_ENDPOINTS = {
  stage: SCAN2PAY_STAGE_ENDPOINT,
  production: SCAN2PAY_PRODUCTION_ENDPOINT,
} as const;

/**
 * An EasyCard call makes the reader talk to the card, so the reply can take a
 * while; 60 s unless configured.
 */
export const SCAN2PAY_DEFAULT_TIMEOUT_MS = 60_000;
const MAX_TIMEOUT_MS = 600_000;

export interface Scan2PayClientOptions {
  /** The API URL intella supplies (see SCAN2PAY_STAGE_ENDPOINT / SCAN2PAY_PRODUCTION_ENDPOINT). */
  endpoint: string;
  /** Merchant id (Header.MchId). */
  mchId: string;
  /** Trade password in the clear; only its SHA-256 hex (TradeKey) is kept and sent. */
  tradePassword: string;
  /** Refund password in the clear; only its SHA-256 hex is kept and sent as RefundKey. Needed to retry Refund / Cancel / EZCRefund. */
  refundKey?: string;
  /** intella's RSA public key, PEM. */
  rsaPublicKey: string;
  /** The 16-character AES IV intella supplies. */
  aesIv: string;
  /** Time to wait for a reply, ms (default 60000). */
  timeoutMs?: number;
  /** Source of the current time, for CreateTime (default: `new Date()`). */
  clock?: () => Date;
  /**
   * IANA time zone of the merchant (e.g. 'Asia/Taipei') for CreateTime. Default:
   * the time zone of this process. Set it when the process runs in UTC (e.g. a
   * container) but the merchant does not.
   */
  timeZone?: string;
}

export interface Scan2PaySendOptions {
  signal?: AbortSignal;
}

/**
 * Error codes (of the cause) that mean the connection was never established,
 * so no byte of the request reached Scan2Pay.
 */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EAI_NONAME',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Scan2Pay's replies are a few KB; a reply longer than this is refused unread (the outcome is then unknown). */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** The body as text, refusing (and cancelling) one longer than `max` bytes, declared or streamed. */
async function readBounded(res: Response, max: number): Promise<string> {
  const tooLong = () =>
    new EasyCardError('E_EASYCARD_RESPONSE', `the reply is longer than ${max} bytes; the outcome of the request is unknown`, { delivery: 'received' });
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw tooLong();
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLong();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * `yyyyMMddHHmmss` of `date` in the given IANA time zone, or in this process's
 * local time when none is given.
 */
export function formatCreateTime(date: Date, timeZone?: string): string {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new ValidationError('clock', `must give a valid Date, got ${date instanceof Date ? 'an invalid Date' : describeValue(date)}`);
  }
  if (timeZone === undefined) {
    return `${pad(date.getFullYear(), 4)}${pad(date.getMonth() + 1)}${pad(date.getDate())}${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
  }
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(date);
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year').padStart(4, '0')}${get('month')}${get('day')}${get('hour')}${get('minute')}${get('second')}`;
}

function validateEndpoint(value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ValidationError('endpoint', `the Scan2Pay API URL is required (e.g. ${SCAN2PAY_STAGE_ENDPOINT}), got ${describeValue(value)}`);
  }
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new ValidationError('endpoint', `is not a URL: ${describeValue(value)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError('endpoint', `must be an http(s) URL, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError('endpoint', 'must not contain a user name or password');
  }
  return url.toString();
}

function validateRequiredText(value: unknown, field: string, what: string, echo: boolean): string {
  if (typeof value !== 'string' || value.length === 0) {
    const got = echo || typeof value !== 'string' ? describeValue(value) : 'an empty string';
    throw new ValidationError(field, `${what} is required, got ${got}`);
  }
  return value;
}

function validateTimeZone(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new ValidationError('timeZone', `must be an IANA time zone name such as "Asia/Taipei", got ${describeValue(value)}`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
  } catch {
    throw new ValidationError('timeZone', `is not a known IANA time zone: ${describeValue(value)}`);
  }
  return value;
}

function causeCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) {
      const codes = errors.map((e) => causeCode(e));
      if (codes.every((c) => c !== undefined && NOT_SENT_CODES.has(c))) return codes[0];
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}


export class Scan2PayClient {
  readonly endpoint: string;
  readonly mchId: string;
  readonly timeoutMs: number;
  readonly timeZone: string | undefined;

  readonly #tradeKey: string;
  readonly #refundKey: string | undefined;
  readonly #redact: Redactor;
  readonly #publicKey: KeyObject;
  readonly #iv: Buffer;
  readonly #clock: () => Date;

  constructor(options: Scan2PayClientOptions) {
    if (!isRecord(options)) throw new ValidationError('options', `must be an object, got ${describeValue(options)}`);
    this.endpoint = validateEndpoint(options.endpoint);
    this.mchId = validateRequiredText(options.mchId, 'mchId', 'the merchant id (MchId) from intella', true);
    // Never echo the password, whatever it is.
    const password = validateRequiredText(options.tradePassword, 'tradePassword', 'the trade password from intella', false);
    if (options.refundKey !== undefined && options.refundKey !== null && options.refundKey !== '' && typeof options.refundKey !== 'string') {
      throw new ValidationError('refundKey', `must be the refund password as text, got a ${typeof options.refundKey}`);
    }
    this.#publicKey = parseRsaPublicKey(options.rsaPublicKey, 'rsaPublicKey');
    this.#iv = parseAesIv(options.aesIv, 'aesIv');
    const timeoutMs = options.timeoutMs ?? SCAN2PAY_DEFAULT_TIMEOUT_MS;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
      throw new ValidationError('timeoutMs', `must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${describeValue(timeoutMs)}`);
    }
    this.timeoutMs = timeoutMs;
    if (options.clock !== undefined && typeof options.clock !== 'function') {
      throw new ValidationError('clock', `must be a function returning a Date, got ${describeValue(options.clock)}`);
    }
    this.#clock = options.clock ?? (() => new Date());
    this.timeZone = validateTimeZone(options.timeZone);
    this.#tradeKey = sha256Hex(password);
    this.#refundKey = typeof options.refundKey === 'string' && options.refundKey !== '' ? sha256Hex(options.refundKey) : undefined;
    this.#redact = makeRedactor([password, this.#tradeKey, options.refundKey, this.#refundKey]);
  }

  /** Whether a refund password was configured (needed to retry Refund / Cancel / EZCRefund). */
  get hasRefundKey(): boolean {
    return this.#refundKey !== undefined;
  }

  /**
   * A copy of `value` without the trade password, TradeKey, refund password or
   * its hash, by key name and by value, in any encoding (lib/easycard/redact.ts).
   */
  redact<T>(value: T): T {
    return this.#redact(value);
  }

  /** Now, as Scan2Pay's CreateTime: the merchant's local time, `yyyyMMddHHmmss`. */
  createTime(): string {
    return formatCreateTime(this.#clock(), this.timeZone);
  }

  /**
   * The retry request (Method 31800) for a failed EasyCard response, with this
   * client's merchant id as fallback and its RefundKey where the service type
   * needs one. Throws ValidationError; sends nothing. The draft carries the
   * hashed RefundKey for Refund / Cancel / EZCRefund: do not log it.
   */
  buildRetryRequest(failed: unknown): RetryRequestDraft {
    return buildRetryRequest(failed, { mchIdFallback: this.mchId, refundKey: this.#refundKey });
  }

  /**
   * Encrypt and POST one request, and return the decrypted reply. TradeKey and
   * CreateTime are filled in here (and MchId when the draft has none).
   *
   * Throws ValidationError for a bad draft (nothing sent) and EasyCardError
   * naming the step that failed: E_EASYCARD_NETWORK / E_EASYCARD_TIMEOUT /
   * E_EASYCARD_ABORTED (the exchange), E_EASYCARD_HTTP (status, in `status`),
   * E_EASYCARD_DECRYPT, E_EASYCARD_RESPONSE (not JSON / not a Scan2Pay reply).
   * `error.delivery` says whether Scan2Pay may have received the request.
   *
   * The reply is returned whatever its Header.StatusCode: judging the
   * transaction is the caller's job (see classifyFailure).
   */
  async send(draft: Scan2PayRequestDraft, options: Scan2PaySendOptions = {}): Promise<Scan2PayResponse> {
    if (!isRecord(draft) || !isRecord(draft.Header)) throw new ValidationError('request', 'must be an object with Header and Data');
    const { Method, ServiceType, MchId } = draft.Header;
    if (typeof Method !== 'string' || Method.length === 0) throw new ValidationError('Header.Method', `is required, got ${describeValue(Method)}`);
    if (typeof ServiceType !== 'string' || ServiceType.length === 0) throw new ValidationError('Header.ServiceType', `is required, got ${describeValue(ServiceType)}`);
    if (MchId !== undefined && (typeof MchId !== 'string' || MchId.length === 0)) throw new ValidationError('Header.MchId', `must be a merchant id, got ${describeValue(MchId)}`);
    let data: string;
    if (typeof draft.Data === 'string') data = draft.Data;
    else if (isRecord(draft.Data as unknown)) data = JSON.stringify(draft.Data);
    else throw new ValidationError('Data', `must be an object or a JSON string, got ${describeValue(draft.Data)}`);

    const request: Scan2PayRequest = {
      Header: { Method, ServiceType, MchId: MchId ?? this.mchId, TradeKey: this.#tradeKey, CreateTime: this.createTime() },
      Data: data,
    };
    const { body, key } = encryptRequest(JSON.stringify(request), this.#publicKey, this.#iv);

    const signal = options.signal;
    if (signal?.aborted) {
      throw new EasyCardError('E_EASYCARD_ABORTED', 'the request was aborted before it was sent; nothing was sent', { delivery: 'not-sent' });
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);

    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json' },
        body: JSON.stringify(body),
        signal: combined,
        redirect: 'error',
      });
    } catch (err) {
      throw this.#exchangeError(err, timeout, signal, 'sending the request');
    }

    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      const text = res.statusText ? ` ${res.statusText}` : '';
      throw new EasyCardError('E_EASYCARD_HTTP', `Scan2Pay answered HTTP ${res.status}${text}; the outcome of the request is unknown`, {
        delivery: 'received',
        status: res.status,
      });
    }

    let text: string;
    try {
      text = await readBounded(res, MAX_REPLY_BYTES);
    } catch (err) {
      if (err instanceof EasyCardError) throw err;
      const e = this.#exchangeError(err, timeout, signal, 'reading the reply');
      throw new EasyCardError(e.code, e.message, { cause: err, delivery: 'received' });
    }

    let outer: unknown;
    try {
      outer = JSON.parse(text);
    } catch (err) {
      throw new EasyCardError('E_EASYCARD_RESPONSE', `the reply is not JSON (${text.length} characters, HTTP ${res.status})`, { cause: err, delivery: 'received' });
    }
    if (!isRecord(outer) || typeof outer.Response !== 'string') {
      let detail = '';
      if (isRecord(outer) && isRecord(outer.Header) && typeof outer.Header.StatusCode === 'string') {
        const desc = typeof outer.Header.StatusDesc === 'string' ? ` ${outer.Header.StatusDesc.slice(0, 80)}` : '';
        detail = ` (it carries StatusCode ${outer.Header.StatusCode.slice(0, 16)}${desc})`;
      }
      throw new EasyCardError('E_EASYCARD_RESPONSE', `the reply has no encrypted Response field${detail}`, { delivery: 'received' });
    }

    const plain = decryptResponseField(outer.Response, key, this.#iv);
    let response: unknown;
    try {
      response = JSON.parse(plain);
    } catch (err) {
      throw new EasyCardError('E_EASYCARD_RESPONSE', 'the decrypted reply is not JSON', { cause: err, delivery: 'received' });
    }
    if (!isRecord(response) || !isRecord(response.Header)) {
      throw new EasyCardError('E_EASYCARD_RESPONSE', 'the decrypted reply is not a Scan2Pay response (no Header object)', { delivery: 'received' });
    }
    return response as Scan2PayResponse;
  }

  #exchangeError(err: unknown, timeout: AbortSignal, signal: AbortSignal | undefined, step: string): EasyCardError {
    if (signal?.aborted) {
      return new EasyCardError('E_EASYCARD_ABORTED', `${step} was aborted; Scan2Pay may or may not have received the request`, { cause: err, delivery: 'unknown' });
    }
    if (timeout.aborted) {
      return new EasyCardError('E_EASYCARD_TIMEOUT', `${step}: no reply from Scan2Pay within ${this.timeoutMs} ms; it may or may not have received the request`, {
        cause: err,
        delivery: 'unknown',
      });
    }
    const code = causeCode(err);
    if (code !== undefined && NOT_SENT_CODES.has(code)) {
      return new EasyCardError('E_EASYCARD_NETWORK', `${step} failed: could not connect to ${new URL(this.endpoint).host} (${code}); nothing was sent`, {
        cause: err,
        delivery: 'not-sent',
      });
    }
    return new EasyCardError('E_EASYCARD_NETWORK', `${step} failed: the connection to Scan2Pay broke (${code ?? 'no error code'}); Scan2Pay may or may not have received the request`, {
      cause: err,
      delivery: 'unknown',
    });
  }

  toJSON(): { endpoint: string; mchId: string; timeoutMs: number; timeZone?: string; hasRefundKey: boolean } {
    const out: { endpoint: string; mchId: string; timeoutMs: number; timeZone?: string; hasRefundKey: boolean } = {
      endpoint: this.endpoint,
      mchId: this.mchId,
      timeoutMs: this.timeoutMs,
      hasRefundKey: this.hasRefundKey,
    };
    if (this.timeZone !== undefined) out.timeZone = this.timeZone;
    return out;
  }

  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `Scan2PayClient ${inspect(this.toJSON(), { ...options, customInspect: false })}`;
  }
}
