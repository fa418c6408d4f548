/**
 * A real HTTP server on 127.0.0.1 that plays intella's Scan2Pay "general" API
 * for tests. It owns an RSA key pair, decrypts what a client sends exactly as
 * Scan2Pay would (RSA PKCS#1 v1.5 → base64 AES key text → AES-128-CBC with the
 * configured IV), records every request, and answers with scripted replies
 * encrypted with the request's own AES key and the IV.
 *
 * Independent of lib/easycard on purpose: it uses node:crypto directly, so a
 * bug in the library's crypto cannot cancel out in the tests.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as crypto from 'node:crypto';

export interface ReceivedRequest {
  /** The HTTP body exactly as received. */
  rawBody: string;
  contentType: string | undefined;
  method: string | undefined;
  envelope: { Request: string; ApiKey: string };
  /** What RSA protected: the AES key's base64 text. */
  apiKeyText: string;
  aesKey: Buffer;
  /** The decrypted request JSON text. */
  plaintext: string;
  request: { Header: Record<string, unknown>; Data: unknown };
  /** Header of the request. */
  header: Record<string, unknown>;
  /** The request's Data, parsed from its JSON string. */
  data: Record<string, unknown>;
  /** Whether Data was sent as a JSON string, as Scan2Pay wants. */
  dataWasString: boolean;
}

export interface ScriptedReply {
  /** The Scan2Pay response object to encrypt and send. */
  response?: unknown;
  /** Turn the base64 ciphertext into the HTTP body text (default `{"Response":"<b64>"}`). */
  body?: (responseBase64: string) => string;
  /** Send this body as is, nothing encrypted. */
  rawBody?: string;
  /** HTTP status (default 200). */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Drop the connection instead of answering. */
  destroySocket?: boolean;
  /** Encrypt the reply under another AES key (a reply that will not decrypt). */
  wrongKey?: boolean;
}

export type Script = ScriptedReply | ((req: ReceivedRequest, index: number) => ScriptedReply);

export interface Scan2PayTestServerOptions {
  iv: string;
  modulusLength?: number;
  /** Serve HTTPS with this key and certificate (PEM) instead of HTTP. */
  tls?: { key: string; cert: string };
}

/** Undo PKCS#1 v1.5 type 2 padding (done by hand: Node 20 refuses RSA_PKCS1_PADDING in privateDecrypt). */
export function unpadPkcs1v15(em: Buffer): Buffer {
  if (em.length < 11 || em[0] !== 0x00 || em[1] !== 0x02) throw new Error('not a PKCS#1 v1.5 encryption block (expected 00 02)');
  const sep = em.indexOf(0x00, 2);
  if (sep < 0) throw new Error('PKCS#1 v1.5: no separator');
  if (sep - 2 < 8) throw new Error('PKCS#1 v1.5: padding string shorter than 8 bytes');
  return em.subarray(sep + 1);
}

export class Scan2PayTestServer {
  readonly publicKeyPem: string;
  readonly privateKey: crypto.KeyObject;
  readonly iv: Buffer;
  readonly requests: ReceivedRequest[] = [];
  /** Bodies that could not be decrypted (a test expects this to stay empty). */
  readonly failures: { rawBody: string; error: string }[] = [];
  /** Number of HTTP requests received, whatever they were. */
  hits = 0;
  #script: Script[] = [];
  #server: http.Server;
  #port = 0;
  readonly #scheme: 'http' | 'https';

  constructor(options: Scan2PayTestServerOptions, keys?: { publicKeyPem: string; privateKey: crypto.KeyObject }) {
    if (keys) {
      this.publicKeyPem = keys.publicKeyPem;
      this.privateKey = keys.privateKey;
    } else {
      const pair = crypto.generateKeyPairSync('rsa', { modulusLength: options.modulusLength ?? 2048 });
      this.publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      this.privateKey = pair.privateKey;
    }
    this.iv = Buffer.from(options.iv, 'ascii');
    const handle = (req: http.IncomingMessage, res: http.ServerResponse) => this.#handle(req, res);
    this.#scheme = options.tls === undefined ? 'http' : 'https';
    this.#server = options.tls === undefined ? http.createServer(handle) : https.createServer({ key: options.tls.key, cert: options.tls.cert }, handle);
  }

  get url(): string {
    return `${this.#scheme}://127.0.0.1:${this.#port}/allpaypass/api/general`;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Queue replies, one per coming request. */
  script(...replies: Script[]): this {
    this.#script.push(...replies);
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
    this.hits = 0;
    this.#script = [];
  }

  /** Encrypt a reply the way Scan2Pay does: AES-128-CBC, the request's key, the IV, base64. */
  encryptReply(response: unknown, key: Buffer): string {
    const cipher = crypto.createCipheriv('aes-128-cbc', key, this.iv);
    return Buffer.concat([cipher.update(JSON.stringify(response), 'utf8'), cipher.final()]).toString('base64');
  }

  decrypt(rawBody: string): ReceivedRequest {
    const envelope = JSON.parse(rawBody) as { Request?: unknown; ApiKey?: unknown };
    if (typeof envelope.Request !== 'string' || typeof envelope.ApiKey !== 'string') throw new Error('body lacks Request/ApiKey');
    const keys = Object.keys(envelope).sort();
    if (keys.join(',') !== 'ApiKey,Request') throw new Error(`unexpected body fields: ${keys.join(',')}`);
    const em = crypto.privateDecrypt({ key: this.privateKey, padding: crypto.constants.RSA_NO_PADDING }, Buffer.from(envelope.ApiKey, 'base64'));
    const apiKeyText = unpadPkcs1v15(em).toString('ascii');
    if (!/^[A-Za-z0-9+/]{22}==$/.test(apiKeyText)) throw new Error(`ApiKey does not hold the base64 text of a 16-byte key: ${apiKeyText}`);
    const aesKey = Buffer.from(apiKeyText, 'base64');
    const decipher = crypto.createDecipheriv('aes-128-cbc', aesKey, this.iv);
    const plaintext = Buffer.concat([decipher.update(Buffer.from(envelope.Request, 'base64')), decipher.final()]).toString('utf8');
    const request = JSON.parse(plaintext) as { Header: Record<string, unknown>; Data: unknown };
    const dataWasString = typeof request.Data === 'string';
    const data = (dataWasString ? JSON.parse(request.Data as string) : request.Data) as Record<string, unknown>;
    return {
      rawBody,
      contentType: undefined,
      method: undefined,
      envelope: { Request: envelope.Request, ApiKey: envelope.ApiKey },
      apiKeyText,
      aesKey,
      plaintext,
      request,
      header: request.Header,
      data,
      dataWasString,
    };
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.hits += 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let received: ReceivedRequest;
      try {
        received = this.decrypt(rawBody);
      } catch (err) {
        this.failures.push({ rawBody, error: (err as Error).message });
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ Header: { StatusCode: '8003', StatusDesc: 'Decryption failed' } }));
        return;
      }
      received.contentType = req.headers['content-type'];
      received.method = req.method;
      const index = this.requests.length;
      this.requests.push(received);
      const next = this.#script.shift();
      const reply: ScriptedReply | undefined = typeof next === 'function' ? next(received, index) : next;
      if (reply === undefined) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('no scripted reply');
        return;
      }
      const answer = (): void => {
        if (reply.destroySocket) {
          req.socket.destroy();
          return;
        }
        let body: string;
        if (reply.rawBody !== undefined) {
          body = reply.rawBody;
        } else {
          const key = reply.wrongKey ? crypto.randomBytes(16) : received.aesKey;
          const b64 = this.encryptReply(reply.response ?? {}, key);
          body = reply.body ? reply.body(b64) : JSON.stringify({ Response: b64 });
        }
        res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json' });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(answer, reply.delayMs);
      else answer();
    });
  }
}
