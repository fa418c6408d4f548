import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Envelope } from './envelope';
import { MAX_ENVELOPE_BYTES } from './envelope';
import { SimulatedTerminal } from './simulator';
import type { Transport } from './transport';

export const LAN_PATH = '/v2/wonder/payment/ecr';

/**
 * Puts a simulated terminal behind a stream transport (a serial port): every
 * envelope received is answered on the same transport.
 */
export function attachSimulator(terminal: SimulatedTerminal, transport: Transport): () => void {
  const onMessage = (env: Envelope) => {
    void terminal.handle(JSON.stringify(env)).then(async (answer) => {
      if (answer === null || transport.state !== 'connected') return;
      try {
        await transport.send(answer, { signal: new AbortController().signal, action: 'DeviceInfo', requestID: '' });
      } catch {
        // The line went away; the ECR will ask TransactionStatus.
      }
    });
  };
  transport.on('message', onMessage);
  return () => transport.off('message', onMessage);
}

export interface LanServerOptions {
  port?: number;
  host?: string;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

export interface LanServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Serves a simulated terminal over LAN HTTP(S), as `POST /v2/wonder/payment/ecr`. */
export async function serveLan(terminal: SimulatedTerminal, options: LanServerOptions = {}): Promise<LanServer> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'POST' || req.url !== LAN_PATH) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_ENVELOPE_BYTES) {
        res.writeHead(413).end();
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      void terminal.handle(Buffer.concat(chunks)).then((answer) => {
        // No answer: hold the request open, as a terminal that never replies.
        if (answer === null || res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      });
    });
  };
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `${options.tls ? 'https' : 'http'}://${host}:${port}${LAN_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
