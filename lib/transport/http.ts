/**
 * What the LAN and cloud transports share: one bounded JSON POST over
 * node:http / node:https (not fetch, so each request can carry its own CA),
 * and the state / close handling of a request/response transport.
 *
 * Nothing here logs, and no error text carries a request or response body.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import { TransportError } from '../protocol';
import { connectPinned } from './tls-pin';
import type { TransportState } from './transport';

export type HttpProtocol = 'http:' | 'https:';

/** Where a request goes. `label` names the peer in error texts (host:port, never a body). */
export interface HttpTarget {
  protocol: HttpProtocol;
  /** Host name or IP, IPv6 without brackets. */
  hostname: string;
  port: number;
  /** Path and query. */
  path: string;
  label: string;
}

export interface HttpPostRequest extends HttpTarget {
  headers: Record<string, string>;
  body: string;
  /** PEM CA(s) trusted for this request (https only), in place of the system list. */
  ca?: string | Buffer;
  /** https only: the SHA-256 fingerprint the peer's certificate must have (canonical AB:CD:… form); checked before the body is written. */
  fingerprint256?: string;
  agent: http.Agent;
  signal: AbortSignal;
  /** The response body may not be longer than this; reading stops as soon as it is. */
  maxBytes: number;
  /**
   * `connected` is set once a connection to the peer stands (TCP, or TLS for
   * https): before it, nothing was sent. `responded` once the response's
   * status line and headers came.
   */
  progress?: { connected: boolean; responded?: boolean };
}

export interface HttpPostResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Codes of TLS errors that mean the peer's certificate was not accepted. */
const CERT_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A response body longer than the request's `maxBytes`: refused unread (code E_TRANSPORT). */
export class ResponseTooLargeError extends TransportError {
  constructor(message: string) {
    super(message);
    this.name = 'ResponseTooLargeError';
  }
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return 'request failed';
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && CERT_ERROR_CODES.has(code)) {
    return `TLS certificate not accepted (${code}): ${err.message}; give the terminal's CA certificate`;
  }
  return code !== undefined && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
}

/**
 * POSTs `body` and reads the whole response, whatever its status, up to
 * `maxBytes`. Rejects with TransportError (E_TRANSPORT) on network and TLS
 * errors and on a too long body, and with `signal.reason` when the signal
 * fires; in both cases the request and its socket are destroyed.
 */
export async function httpPost(req: HttpPostRequest): Promise<HttpPostResponse> {
  if (req.protocol !== 'https:' || req.fingerprint256 === undefined) return postOn(req);
  // Pinned: handshake and compare first; the request goes on that socket only if it matches.
  const socket = await connectPinned({
    host: req.hostname,
    port: req.port,
    fingerprint256: req.fingerprint256,
    ...(req.ca !== undefined ? { ca: req.ca } : {}),
    label: req.label,
    signal: req.signal,
  });
  if (req.progress !== undefined) req.progress.connected = true;
  return postOn(req, socket);
}

function postOn(req: HttpPostRequest, pinned?: import('node:tls').TLSSocket): Promise<HttpPostResponse> {
  return new Promise<HttpPostResponse>((resolve, reject) => {
    const { signal, label, maxBytes } = req;
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const payload = Buffer.from(req.body, 'utf8');
    const options: https.RequestOptions = {
      method: 'POST',
      protocol: req.protocol,
      hostname: req.hostname,
      port: req.port,
      path: req.path,
      agent: req.agent,
      headers: { ...req.headers, 'content-length': String(payload.length) },
    };
    if (req.protocol === 'https:' && req.ca !== undefined) options.ca = req.ca;
    if (pinned !== undefined) {
      // The verified socket, used once: no agent (agent: false would make a new one), no other connection.
      delete options.agent;
      options.createConnection = () => pinned;
    }

    let settled = false;
    let request: http.ClientRequest | undefined;
    const cleanup = () => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: unknown) => {
      if (settled) return;
      cleanup();
      request?.destroy();
      reject(err);
    };
    const succeed = (res: HttpPostResponse) => {
      if (settled) return;
      cleanup();
      resolve(res);
    };
    const onAbort = () => fail(signal.reason);
    const networkError = (err: unknown) => new TransportError(`${label}: ${describeNetworkError(err)}`, { cause: err });
    const tooLarge = (declared?: number) =>
      new ResponseTooLargeError(
        `${label}: response body ${declared === undefined ? 'is longer' : `of ${declared} bytes is longer`} than the limit of ${maxBytes} bytes`,
      );
    const markConnected = () => {
      if (req.progress !== undefined) req.progress.connected = true;
    };

    signal.addEventListener('abort', onAbort, { once: true });
    try {
      request = (req.protocol === 'https:' ? https : http).request(options);
    } catch (err) {
      // Invalid options (e.g. a header with a control character): nothing was sent.
      fail(networkError(err));
      return;
    }

    request.on('socket', (socket) => {
      if (request?.reusedSocket) {
        markConnected();
        return;
      }
      socket.once(req.protocol === 'https:' ? 'secureConnect' : 'connect', markConnected);
    });
    request.on('error', (err) => fail(networkError(err)));
    request.on('response', (res) => {
      markConnected();
      if (req.progress !== undefined) req.progress.responded = true;
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        fail(tooLarge(declared));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        size += chunk.length;
        if (size > maxBytes) {
          res.destroy();
          fail(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => succeed({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks, size) }));
      res.on('error', (err) => fail(networkError(err)));
      res.on('close', () => {
        if (!res.complete) fail(networkError(new Error('connection closed before the response was complete')));
      });
    });
    request.end(payload);
  });
}

/**
 * State, agents and close() of an HTTP request/response transport.
 *
 * State: `connected` after open(); `reconnecting` after a network failure
 * (including a request aborted before any connection stood) until the next
 * request gets an answer; `closed` after close(). close() aborts what is in
 * flight with E_CLOSED and destroys the agents' sockets, keep-alive ones
 * included, so nothing keeps the process alive.
 */
export abstract class HttpTransportBase extends EventEmitter {
  private current: TransportState = 'closed';
  private readonly agents = new Map<HttpProtocol, http.Agent>();
  private readonly inflight = new Set<AbortController>();

  protected constructor(
    /** Names the peer in E_CLOSED texts. */
    private readonly peerLabel: string,
    private readonly keepAlive: boolean,
  ) {
    super();
  }

  get state(): TransportState {
    return this.current;
  }

  async open(): Promise<void> {
    if (this.current === 'closed') this.setState('connected');
  }

  async close(): Promise<void> {
    const err = new TransportError(`${this.peerLabel}: the transport was closed`, { code: 'E_CLOSED' });
    for (const controller of this.inflight) controller.abort(err);
    this.inflight.clear();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
    this.setState('closed');
  }

  private isClosed(): boolean {
    return this.current === 'closed';
  }

  protected closedError(): TransportError {
    return new TransportError(`${this.peerLabel}: the transport is closed`, { code: 'E_CLOSED', notSent: true });
  }

  protected setState(state: TransportState, error?: Error): void {
    if (state === this.current) return;
    this.current = state;
    if (error === undefined) this.emit('state', state);
    else this.emit('state', state, error);
  }

  /** Records a failure of the link and returns the error, for `throw this.linkFailed(err)`. */
  protected linkFailed(err: TransportError): TransportError {
    if (this.current !== 'closed') this.setState('reconnecting', err);
    return err;
  }

  /** Records that the peer answered. */
  protected linkWorks(): void {
    if (this.current !== 'closed') this.setState('connected');
  }

  private agentFor(protocol: HttpProtocol): http.Agent {
    let agent = this.agents.get(protocol);
    if (agent === undefined) {
      const options: http.AgentOptions = { keepAlive: this.keepAlive };
      agent = protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
      this.agents.set(protocol, agent);
    }
    return agent;
  }

  /**
   * One POST while open. Network failures become `reconnecting`; close()
   * during the request rejects it with E_CLOSED; the caller's abort rejects
   * with the signal's reason. Any status is returned: judging it is the
   * caller's job (with linkFailed / linkWorks).
   */
  protected async post(
    target: HttpTarget,
    request: { headers: Record<string, string>; body: string; ca?: string | Buffer; fingerprint256?: string; maxBytes: number },
    signal: AbortSignal,
  ): Promise<HttpPostResponse> {
    if (this.current === 'closed') throw this.closedError();
    if (signal.aborted) throw signal.reason;
    const exchange = new AbortController();
    const onAbort = () => exchange.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    this.inflight.add(exchange);
    const progress = { connected: false };
    try {
      const response = await httpPost({ ...target, ...request, agent: this.agentFor(target.protocol), signal: exchange.signal, progress });
      // close() may have come between the response's end and this line.
      if (this.isClosed()) throw this.closedError();
      return response;
    } catch (err) {
      if (err instanceof TransportError && err.code === 'E_TRANSPORT') {
        this.linkFailed(err);
        // No connection was made (refused, unreachable, TLS failed): the request never left.
        if (!progress.connected && !err.notSent) throw new TransportError(err.message, { cause: err.cause, notSent: true });
      } else if (signal.aborted && err === signal.reason && !progress.connected) {
        this.linkFailed(new TransportError(`${target.label}: no connection before the request was aborted`));
      }
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.inflight.delete(exchange);
    }
  }
}
