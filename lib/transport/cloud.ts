import { randomUUID } from 'node:crypto';
import { checkEnvelope, type Envelope, MAX_ENVELOPE_BYTES, ProtocolError, TransportError, ValidationError } from '../protocol';
import { HttpTransportBase, type HttpTarget } from './http';
import type { SendOptions, Transport } from './transport';

/** ConnectionInfo ("obtain device pairing information"), staging. From the seeds. */
export const CLOUD_INFO_URL_STAGING = 'https://gateway-stg.wonder.today/svc/payment/public/api/v1/openapi/terminal/info';
/** ConnectionInfo ("obtain device pairing information"), production. From the seeds. */
export const CLOUD_INFO_URL_PRODUCTION = 'https://gateway.wonder.today/svc/payment/public/api/v1/openapi/terminal/info';
/**
 * UNVERIFIED GUESS. The seeds give no URL for the cloud commands (Pair, Sale,
 * ...): this is only the ConnectionInfo URL with `info` replaced by `ecr`.
 * It must be confirmed with Wonder; `commandUrl` overrides it.
 */
export const CLOUD_COMMAND_URL_STAGING = 'https://gateway-stg.wonder.today/svc/payment/public/api/v1/openapi/terminal/ecr';
/** UNVERIFIED GUESS, see CLOUD_COMMAND_URL_STAGING; `commandUrl` overrides it. */
export const CLOUD_COMMAND_URL_PRODUCTION = 'https://gateway.wonder.today/svc/payment/public/api/v1/openapi/terminal/ecr';

export type CloudEnv = 'staging' | 'production' | 'custom';

/** Values of the response wrapper's `code` that mean success (the seeds do not say: 0 and 200 are the usual ones). */
export const CLOUD_SUCCESS_CODES: readonly number[] = [0, 200];

export interface CloudTransportOptions {
  /**
   * Which gateway: 'staging', 'production' or 'custom' (commandUrl, and
   * infoUrl for ConnectionInfo, required). Default: 'custom' when commandUrl
   * is given, 'production' otherwise.
   */
  env?: CloudEnv;
  /** URL of every action but ConnectionInfo. Overrides the (unverified) default of staging/production. */
  commandUrl?: string;
  /** URL of ConnectionInfo. Overrides the seeds' URL of staging/production. */
  infoUrl?: string;
  /** Sent as `x-p-business-id`. */
  businessId: string;
  /** The terminal's serial number, sent as `x-device-sn`; learnt from ConnectionInfo when not known (see setDeviceSn). */
  deviceSn?: string;
  /** PEM CA certificate(s) to trust instead of the system list (proxies, test gateways). */
  ca?: string | Buffer;
  /** Keep connections to the gateway open between requests (default false). */
  agentKeepAlive?: boolean;
}

/** The gateway answered with a `code` that is not success. Nothing of the body but code and message is kept. */
export class CloudApiError extends TransportError {
  /** The wrapper's `code`. */
  readonly apiCode: number | string;
  /** The wrapper's `message`, cleaned and truncated. */
  readonly apiMessage: string;
  readonly httpStatus: number;

  constructor(label: string, apiCode: number | string, apiMessage: string, httpStatus: number) {
    const status = httpStatus >= 200 && httpStatus <= 299 ? '' : ` (HTTP ${httpStatus})`;
    super(`${label} answered code ${apiCode}${status}${apiMessage === '' ? '' : `: ${apiMessage}`}`);
    this.name = 'CloudApiError';
    this.apiCode = apiCode;
    this.apiMessage = apiMessage;
    this.httpStatus = httpStatus;
  }
}

const MAX_API_MESSAGE = 200;
/** The wrapper around the envelope is small; this bounds the whole response body. */
const MAX_CLOUD_BODY_BYTES = MAX_ENVELOPE_BYTES + 64 * 1024;
/** What may go in an HTTP header here: visible ASCII, no spaces. */
const HEADER_VALUE = /^[\x21-\x7e]{1,256}$/;

function cleanApiMessage(message: unknown): string {
  if (typeof message !== 'string') return '';
  const clean = message.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();
  return clean.length > MAX_API_MESSAGE ? `${clean.slice(0, MAX_API_MESSAGE)}…` : clean;
}

function isSuccessCode(code: number | string): boolean {
  const n = typeof code === 'number' ? code : /^\d+$/.test(code) ? Number(code) : NaN;
  return CLOUD_SUCCESS_CODES.includes(n);
}

function checkHeaderValue(field: string, value: unknown): string {
  if (typeof value !== 'string' || !HEADER_VALUE.test(value)) {
    throw new ValidationError(field, 'must be 1 to 256 visible ASCII characters');
  }
  return value;
}

function toTarget(field: string, raw: unknown): HttpTarget {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ValidationError(field, 'is required');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ValidationError(field, 'is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ValidationError(field, 'must be an http or https URL');
  if (url.username !== '' || url.password !== '') throw new ValidationError(field, 'must not hold credentials');
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    protocol: url.protocol,
    hostname,
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
    path: `${url.pathname}${url.search}`,
    label: `Wonder cloud ${url.host}`,
  };
}

/**
 * Cloud transport: envelopes are POSTed to Wonder's gateway with the headers
 * `x-p-business-id`, `x-device-sn` and a fresh `x-request-id` (a UUID per
 * HTTP request, not the ECR requestID). The answer is
 * `{code, message, data: envelope}`: a non-success code rejects with
 * CloudApiError, `data` is emitted as `message`.
 *
 * `x-device-sn`: ConnectionInfo is how the SN is learnt, so before it is
 * known ConnectionInfo is sent with the header present and EMPTY (the seeds
 * mark the header required; whether the gateway wants it empty or absent is
 * unverified). Every other action needs the SN and is refused without it.
 */
export class CloudTransport extends HttpTransportBase implements Transport {
  readonly kind = 'cloud' as const;
  readonly env: CloudEnv;
  readonly businessId: string;
  readonly commandUrl: string;
  readonly infoUrl: string | undefined;
  private readonly commandTarget: HttpTarget;
  private readonly infoTarget: HttpTarget | undefined;
  private readonly ca: string | Buffer | undefined;
  private sn: string | undefined;

  constructor(options: CloudTransportOptions) {
    const env: CloudEnv = options?.env ?? (options?.commandUrl !== undefined ? 'custom' : 'production');
    if (env !== 'staging' && env !== 'production' && env !== 'custom') {
      throw new ValidationError('env', 'must be staging, production or custom');
    }
    const businessId = checkHeaderValue('businessId', options.businessId);
    const deviceSn = options.deviceSn === undefined || options.deviceSn === '' ? undefined : checkHeaderValue('deviceSn', options.deviceSn);
    let commandUrl = options.commandUrl;
    let infoUrl = options.infoUrl;
    if (env === 'custom') {
      if (commandUrl === undefined || commandUrl === '') throw new ValidationError('commandUrl', 'is required for a custom gateway');
    } else {
      commandUrl ??= env === 'staging' ? CLOUD_COMMAND_URL_STAGING : CLOUD_COMMAND_URL_PRODUCTION;
      infoUrl ??= env === 'staging' ? CLOUD_INFO_URL_STAGING : CLOUD_INFO_URL_PRODUCTION;
    }
    const commandTarget = toTarget('commandUrl', commandUrl);
    const infoTarget = infoUrl === undefined || infoUrl === '' ? undefined : toTarget('infoUrl', infoUrl);
    super(commandTarget.label, options.agentKeepAlive === true);
    this.env = env;
    this.businessId = businessId;
    this.commandUrl = commandUrl;
    this.infoUrl = infoTarget === undefined ? undefined : infoUrl;
    this.commandTarget = commandTarget;
    this.infoTarget = infoTarget;
    this.ca = options.ca;
    this.sn = deviceSn;
  }

  /** The terminal's SN sent as `x-device-sn`, once known. */
  get deviceSn(): string | undefined {
    return this.sn;
  }

  /** Sets the terminal's SN (learnt from ConnectionInfo) for the following requests. */
  setDeviceSn(sn: string): void {
    this.sn = checkHeaderValue('deviceSn', sn);
  }

  async send(envelope: string, options: SendOptions): Promise<void> {
    if (this.state === 'closed') throw this.closedError();
    const isInfo = options.action === 'ConnectionInfo';
    const target = isInfo ? this.infoTarget : this.commandTarget;
    if (target === undefined) {
      throw new TransportError(`${this.commandTarget.label}: no infoUrl configured for ConnectionInfo`, { notSent: true });
    }
    if (this.sn === undefined && !isInfo) {
      throw new TransportError(`${target.label}: ${options.action} needs the terminal's device SN (set deviceSn or run ConnectionInfo first)`, { notSent: true });
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      'x-p-business-id': this.businessId,
      'x-device-sn': this.sn ?? '',
      'x-request-id': randomUUID(),
    };
    const request = { headers, body: envelope, maxBytes: MAX_CLOUD_BODY_BYTES, ...(this.ca === undefined ? {} : { ca: this.ca }) };
    const response = await this.post(target, request, options.signal);
    const ok = response.status >= 200 && response.status <= 299;

    let wrapper: unknown;
    try {
      wrapper = JSON.parse(response.body.toString('utf8'));
    } catch {
      wrapper = undefined;
    }
    const fields = typeof wrapper === 'object' && wrapper !== null && !Array.isArray(wrapper) ? (wrapper as Record<string, unknown>) : undefined;
    const code = fields?.code;
    const hasCode = typeof code === 'number' || (typeof code === 'string' && code !== '');

    if (!ok && !hasCode) {
      throw this.linkFailed(new TransportError(`${target.label} answered HTTP ${response.status}`));
    }
    // The gateway answered in its own format: the link works.
    this.linkWorks();
    if (fields === undefined) throw this.discard(target, 'response body is not a JSON object');
    if (!hasCode) throw this.discard(target, 'response has no code');
    if (!ok || !isSuccessCode(code as number | string)) {
      throw new CloudApiError(target.label, code as number | string, cleanApiMessage(fields.message), response.status);
    }
    let parsed: Envelope;
    try {
      parsed = checkEnvelope(fields.data);
    } catch (err) {
      throw this.discard(target, `response data is not an envelope: ${err instanceof Error ? err.message : 'invalid'}`, err);
    }
    this.emit('message', parsed);
  }

  private discard(target: HttpTarget, reason: string, cause?: unknown): ProtocolError {
    const text = `${target.label}: ${reason}`;
    this.emit('discard', text);
    return new ProtocolError(text, cause === undefined ? undefined : { cause });
  }
}
