import { isIP } from 'node:net';
import { MAX_ENVELOPE_BYTES, parseEnvelope, ProtocolError, TransportError, ValidationError } from '../protocol';
import { HttpTransportBase, type HttpTarget } from './http';
import { normalizeFingerprint } from './tls-pin';
import type { SendOptions, Transport } from './transport';

/** The port in the seeds' pairing example. */
export const LAN_DEFAULT_PORT = 8443;
/** The seeds' LAN URL path: `http://<terminal ip>:<port>/v2/wonder/payment/ecr`. */
export const LAN_DEFAULT_PATH = '/v2/wonder/payment/ecr';

export interface LanTransportOptions {
  /** The terminal's IP address or host name, as its pairing page shows it (IPv6 with or without brackets). */
  host: string;
  /** Default 8443. */
  port?: number;
  /**
   * Use HTTPS. The seeds give an http:// URL, so the default is plain HTTP,
   * unless `ca` is given (then HTTPS).
   */
  https?: boolean;
  /** PEM CA certificate(s) to trust, for terminals that serve a self-signed certificate. HTTPS only. */
  ca?: string | Buffer;
  /**
   * SHA-256 fingerprint of the terminal's own certificate (`AB:CD:…` or 64 hex
   * digits): the certificate must match it, else a SecurityError and nothing
   * is sent. Implies HTTPS. With `ca` too, the chain is checked as well.
   */
  fingerprint?: string;
  /** Default '/v2/wonder/payment/ecr'. */
  path?: string;
  /** Keep the connection open between requests (default false: one connection per request). */
  agentKeepAlive?: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function checkHost(raw: unknown): string {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ValidationError('host', 'is required');
  let host = raw.trim();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new ValidationError('host', 'must be an IP address or a host name, without scheme, port or path');
  }
  return host;
}

/**
 * LAN transport: each envelope is POSTed as JSON to the terminal, whose HTTP
 * response is the answering envelope. send() emits that envelope as
 * `message` and then resolves.
 */
export class LanTransport extends HttpTransportBase implements Transport {
  readonly kind = 'lan' as const;
  readonly host: string;
  readonly port: number;
  readonly path: string;
  readonly https: boolean;
  private readonly ca: string | Buffer | undefined;
  /** The pinned certificate fingerprint (canonical form), if any. */
  readonly fingerprint: string | undefined;
  private readonly target: HttpTarget;

  constructor(options: LanTransportOptions) {
    const host = checkHost(options?.host);
    const port = options.port ?? LAN_DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ValidationError('port', 'must be an integer from 1 to 65535');
    const path = options.path ?? LAN_DEFAULT_PATH;
    if (typeof path !== 'string' || !path.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(path)) {
      throw new ValidationError('path', 'must start with "/" and hold no spaces or control characters');
    }
    const fingerprint = options.fingerprint === undefined || options.fingerprint === '' ? undefined : normalizeFingerprint(options.fingerprint, 'fingerprint');
    const useHttps = options.https ?? (options.ca !== undefined || fingerprint !== undefined);
    if (options.ca !== undefined && !useHttps) throw new ValidationError('ca', 'a CA certificate needs https');
    if (fingerprint !== undefined && !useHttps) throw new ValidationError('fingerprint', 'a certificate fingerprint needs https');
    const label = `LAN terminal ${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
    super(label, options.agentKeepAlive === true);
    this.host = host;
    this.port = port;
    this.path = path;
    this.https = useHttps;
    this.ca = options.ca;
    this.fingerprint = fingerprint;
    this.target = { protocol: useHttps ? 'https:' : 'http:', hostname: host, port, path, label };
  }

  async send(envelope: string, options: SendOptions): Promise<void> {
    const label = this.target.label;
    const headers = { 'content-type': 'application/json', accept: 'application/json' };
    const request = {
      headers,
      body: envelope,
      maxBytes: MAX_ENVELOPE_BYTES,
      ...(this.ca === undefined ? {} : { ca: this.ca }),
      ...(this.fingerprint === undefined ? {} : { fingerprint256: this.fingerprint }),
    };
    const response = await this.post(this.target, request, options.signal);
    if (response.status < 200 || response.status > 299) {
      throw this.linkFailed(new TransportError(`${label} answered HTTP ${response.status}`));
    }
    // The terminal answered: whatever the body, the link works.
    this.linkWorks();
    let parsed;
    try {
      parsed = parseEnvelope(response.body);
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'not an envelope';
      this.emit('discard', `${label}: response body is not an envelope: ${reason}`);
      throw new ProtocolError(`${label}: response body is not an envelope: ${reason}`, { cause: err });
    }
    this.emit('message', parsed);
  }
}
