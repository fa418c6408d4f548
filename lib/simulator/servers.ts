import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type Clock, sleep, systemClock } from '../clock';
import type { Envelope } from '../protocol';
import { encodeFrame, MAX_ENVELOPE_BYTES } from '../protocol';
import { SimulatedTerminal } from './terminal';
import { SerialTransport } from '../transport';

export const LAN_PATH = '/v2/wonder/payment/ecr';

/** A faulty line, for tests and the soak: each a probability from 0 to 1 per response. */
export interface LineFaults {
  /** Random bytes before the frame. */
  noise?: number;
  /** The frame written one byte at a time. */
  drip?: number;
  /** A corrupted copy of the frame (bad data CRC) before the good one. */
  corrupt?: number;
}

export interface SerialServerOptions {
  path: string;
  baudRate?: number;
  faults?: LineFaults;
  /** Holds each write for the time its bytes take on an 8N1 line at this baud rate (a pty has no baud rate). */
  paceBaud?: number;
  /** Random source for the faults (seed it for a repeatable run). */
  random?: () => number;
  /** The clock the pacing waits on (default the system's: a pty's bytes pace in real time). */
  clock?: Clock;
}

export interface SerialServer {
  readonly transport: SerialTransport;
  close(): Promise<void>;
}


/**
 * Serves a simulated terminal on a serial port, optionally as a faulty line
 * (noise, drip-fed bytes, corrupt frames) and paced like a real baud rate.
 */
export async function serveSerial(terminal: SimulatedTerminal, options: SerialServerOptions): Promise<SerialServer> {
  const transport = new SerialTransport({ path: options.path, baudRate: options.baudRate ?? 115_200, reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 } });
  const random = options.random ?? Math.random;
  const faults = options.faults ?? {};
  const hit = (p: number | undefined) => p !== undefined && p > 0 && random() < p;
  const write = async (bytes: Buffer) => {
    if (options.paceBaud !== undefined) await sleep(options.clock ?? systemClock, (bytes.length * 10 * 1000) / options.paceBaud);
    await transport.writeRaw(bytes);
  };
  // One response at a time on the wire, in the order they are ready.
  let line: Promise<void> = Promise.resolve();
  const onMessage = (env: Envelope) => {
    void terminal.handle(JSON.stringify(env)).then((answer) => {
      if (answer === null) return;
      const frame = encodeFrame(Buffer.from(answer, 'utf8'));
      line = line.then(async () => {
        try {
          if (hit(faults.noise)) {
            const noise = Buffer.alloc(1 + Math.floor(random() * 24));
            for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(random() * 256);
            await write(noise);
          }
          if (hit(faults.corrupt)) {
            const bad = Buffer.from(frame);
            bad[10 + Math.floor(random() * (bad.length - 14))]! ^= 0x5a;
            await write(bad);
          }
          if (hit(faults.drip)) {
            for (const byte of frame) await write(Buffer.from([byte]));
          } else {
            await write(frame);
          }
        } catch {
          // The line went away; the ECR settles the outcome with TransactionStatus.
        }
      });
    });
  };
  transport.on('message', onMessage);
  await transport.open().catch(() => undefined);
  return {
    transport,
    // The terminal outlives its line (an unplugged cable, a reboot): its owner stops it.
    close: async () => {
      transport.off('message', onMessage);
      await transport.close();
    },
  };
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
