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
import * as http from 'node:http';
import * as https from 'node:https';
import { inspect, type InspectOptions } from 'node:util';
import { describeValue, isRecord, TransportError, ValidationError } from '../protocol';
import { httpPost, ResponseTooLargeError, type HttpPostResponse, type HttpTarget } from '../transport';
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
  /** PEM CA certificate(s) trusted for the endpoint (https only), in place of the system list. */
  ca?: string | Buffer;
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

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Scan2Pay's replies are a few KB; a reply longer than this is refused unread (the outcome is then unknown). */
export const MAX_REPLY_BYTES = 1024 * 1024;

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

/** The system's error code (ECONNREFUSED, ENOTFOUND, a TLS code, …) under a transport error, for the message. */
function causeCode(err: unknown): string | undefined {
  let cur: unknown = err instanceof TransportError ? err.cause : err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const errors = (cur as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) return causeCode(errors[0]);
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
  readonly #target: HttpTarget;
  readonly #ca: string | Buffer | undefined;
  readonly #agent: http.Agent;

  constructor(options: Scan2PayClientOptions) {
    if (!isRecord(options)) throw new ValidationError('options', `must be an object, got ${describeValue(options)}`);
    this.endpoint = validateEndpoint(options.endpoint);
    const url = new URL(this.endpoint);
    this.#target = {
      protocol: url.protocol as HttpTarget['protocol'],
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
      path: `${url.pathname}${url.search}`,
      label: url.host,
    };
    if (options.ca !== undefined && typeof options.ca !== 'string' && !Buffer.isBuffer(options.ca)) {
      throw new ValidationError('ca', `must be PEM text or a Buffer, got ${describeValue(options.ca)}`);
    }
    this.#ca = options.ca === '' ? undefined : options.ca;
    // One request at a time and no idle socket left behind: no keep-alive.
    this.#agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: false }) : new http.Agent({ keepAlive: false });
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

    const progress = { connected: false, responded: false };
    let res: HttpPostResponse;
    try {
      res = await httpPost({
        ...this.#target,
        headers: { 'content-type': 'application/json; charset=utf-8', accept: 'application/json' },
        body: JSON.stringify(body),
        ...(this.#ca !== undefined ? { ca: this.#ca } : {}),
        agent: this.#agent,
        signal: combined,
        maxBytes: MAX_REPLY_BYTES,
        progress,
      });
    } catch (err) {
      throw this.#exchangeError(err, timeout, signal, progress);
    }

    if (res.status < 200 || res.status > 299) {
      const statusText = http.STATUS_CODES[res.status];
      throw new EasyCardError('E_EASYCARD_HTTP', `Scan2Pay answered HTTP ${res.status}${statusText ? ` ${statusText}` : ''}; the outcome of the request is unknown`, {
        delivery: 'received',
        status: res.status,
      });
    }
    const text = res.body.toString('utf8');

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

  /**
   * The exchange failed: what is known about delivery follows the transports'
   * rule. Before a connection stood nothing was sent; after it, the request
   * may have been received; once the reply's head came, it was.
   */
  #exchangeError(err: unknown, timeout: AbortSignal, signal: AbortSignal | undefined, progress: { connected: boolean; responded: boolean }): EasyCardError {
    const step = progress.responded ? 'reading the reply' : 'sending the request';
    const delivery = progress.responded ? 'received' : progress.connected ? 'unknown' : 'not-sent';
    const maybe = delivery === 'not-sent' ? 'nothing was sent' : 'Scan2Pay may or may not have received the request';
    if (err instanceof ResponseTooLargeError) {
      return new EasyCardError('E_EASYCARD_RESPONSE', `the reply is longer than ${MAX_REPLY_BYTES} bytes; the outcome of the request is unknown`, { delivery: 'received' });
    }
    if (signal?.aborted) {
      return new EasyCardError('E_EASYCARD_ABORTED', `${step} was aborted; ${maybe}`, { cause: err, delivery });
    }
    if (timeout.aborted) {
      return new EasyCardError('E_EASYCARD_TIMEOUT', `${step}: no reply from Scan2Pay within ${this.timeoutMs} ms; ${maybe}`, { cause: err, delivery });
    }
    const code = causeCode(err) ?? 'no error code';
    if (delivery === 'not-sent') {
      return new EasyCardError('E_EASYCARD_NETWORK', `${step} failed: could not connect to ${this.#target.label} (${code}); nothing was sent`, { cause: err, delivery });
    }
    return new EasyCardError('E_EASYCARD_NETWORK', `${step} failed: the connection to Scan2Pay broke (${code}); ${maybe}`, { cause: err, delivery });
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
