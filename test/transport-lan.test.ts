import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { MAX_ENVELOPE_BYTES, serializeEnvelope, type Envelope } from '../lib/protocol/envelope';
import { ProtocolError, TransportError, ValidationError } from '../lib/protocol/errors';
import type { SendOptions, TransportState } from '../lib/transport/transport';
import { LAN_DEFAULT_PATH, LAN_DEFAULT_PORT, LanTransport } from '../lib/transport/lan';
import { selfSignedCertificate } from './helpers/tls';
import { settles, until } from './helpers/wait';

const REQUEST = serializeEnvelope('Sale', 'cmVxdWVzdCBjaXBoZXJ0ZXh0');
const RESPONSE: Envelope = { version: '2.0', action: 'Sale', data: 'cmVzcG9uc2UgY2lwaGVydGV4dA==' };

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface TestServer {
  server: http.Server;
  port: number;
  received: Received[];
  /** Server side of every connection made to it. */
  sockets: net.Socket[];
  stop(): Promise<void>;
}

async function startServer(handler: Handler, tls?: { key: string; cert: string }, port = 0): Promise<TestServer> {
  const received: Received[] = [];
  const sockets: net.Socket[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  };
  const server: http.Server = tls === undefined ? http.createServer(onRequest) : https.createServer(tls, onRequest);
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: net.Socket) => sockets.push(s));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address() as net.AddressInfo;
  return {
    server,
    port: address.port,
    received,
    sockets,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function answer(status: number, body: string, contentType = 'application/json'): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': contentType });
    res.end(body);
  };
}

function sendOptions(signal: AbortSignal = new AbortController().signal): SendOptions {
  return { signal, action: 'Sale', requestID: '5f0e8b7a-3c1d-4e2f-9a8b-7c6d5e4f3a2b' };
}

function socketClosed(socket: net.Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  // Not events.once: it rejects on 'error', and a reset connection both errors and closes.
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function tcpSocketCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TLSWrap').length;
}

describe('LanTransport', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  });

  async function server(handler: Handler, tls?: { key: string; cert: string }, port?: number): Promise<TestServer> {
    const s = await startServer(handler, tls, port);
    cleanup.push(() => s.stop());
    return s;
  }
  function lan(options: ConstructorParameters<typeof LanTransport>[0]): LanTransport {
    const t = new LanTransport(options);
    cleanup.push(() => t.close());
    return t;
  }

  describe('options', () => {
    it('defaults to http on port 8443 and the seeds path', () => {
      const t = new LanTransport({ host: '192.168.1.50' });
      assert.equal(t.kind, 'lan');
      assert.equal(t.port, LAN_DEFAULT_PORT);
      assert.equal(LAN_DEFAULT_PORT, 8443);
      assert.equal(t.path, LAN_DEFAULT_PATH);
      assert.equal(LAN_DEFAULT_PATH, '/v2/wonder/payment/ecr');
      assert.equal(t.https, false);
      assert.equal(t.state, 'closed');
    });

    it('uses https when a CA is given, and refuses a CA with plain http', () => {
      assert.equal(new LanTransport({ host: '10.0.0.2', ca: 'PEM' }).https, true);
      assert.throws(() => new LanTransport({ host: '10.0.0.2', ca: 'PEM', https: false }), (e: unknown) => e instanceof ValidationError && e.field === 'ca');
    });

    it('refuses a host with scheme or port, and a bad port or path', () => {
      for (const host of ['', 'http://10.0.0.2', '10.0.0.2:8443', '10.0.0.2/x', 'a b']) {
        assert.throws(() => new LanTransport({ host }), (e: unknown) => e instanceof ValidationError && e.field === 'host', host);
      }
      for (const port of [0, 65536, 1.5, Number.NaN]) {
        assert.throws(() => new LanTransport({ host: '10.0.0.2', port }), (e: unknown) => e instanceof ValidationError && e.field === 'port');
      }
      assert.throws(() => new LanTransport({ host: '10.0.0.2', path: 'no-slash' }), (e: unknown) => e instanceof ValidationError && e.field === 'path');
      assert.equal(new LanTransport({ host: '[::1]' }).host, '::1');
    });
  });

  it('POSTs the exact envelope to the ECR path and emits the answer before send resolves', async () => {
    const s = await server(answer(200, JSON.stringify(RESPONSE)));
    const t = lan({ host: '127.0.0.1', port: s.port });
    await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => e instanceof TransportError && e.code === 'E_CLOSED');
    const states: TransportState[] = [];
    t.on('state', (st: TransportState) => states.push(st));
    await t.open();
    assert.equal(t.state, 'connected');

    const order: string[] = [];
    const messages: Envelope[] = [];
    t.on('message', (env: Envelope) => {
      order.push('message');
      messages.push(env);
    });
    await t.send(REQUEST, sendOptions()).then(() => order.push('resolved'));

    assert.deepEqual(order, ['message', 'resolved']);
    assert.deepEqual(messages, [RESPONSE]);
    assert.equal(s.received.length, 1);
    assert.equal(s.received[0]!.method, 'POST');
    assert.equal(s.received[0]!.url, '/v2/wonder/payment/ecr');
    assert.equal(s.received[0]!.body, REQUEST);
    assert.equal(s.received[0]!.headers['content-type'], 'application/json');
    assert.equal(s.received[0]!.headers['content-length'], String(Buffer.byteLength(REQUEST)));
    assert.deepEqual(states, ['connected']);
  });

  it('accepts the number 2.0 as version and a custom path', async () => {
    const body = '{"version":2.0,"action":"DeviceInfo","data":"YWJj"}';
    const s = await server(answer(200, body));
    const t = lan({ host: '127.0.0.1', port: s.port, path: '/custom/ecr' });
    await t.open();
    const messages: Envelope[] = [];
    t.on('message', (env: Envelope) => messages.push(env));
    await t.send(REQUEST, sendOptions());
    assert.equal(s.received[0]!.url, '/custom/ecr');
    assert.deepEqual(messages, [{ version: 2, action: 'DeviceInfo', data: 'YWJj' }]);
  });

  describe('https', () => {
    it('talks to a terminal with a self-signed certificate when given its CA', async () => {
      const tls = selfSignedCertificate();
      const s = await server(answer(200, JSON.stringify(RESPONSE)), tls);
      const t = lan({ host: '127.0.0.1', port: s.port, ca: tls.cert });
      await t.open();
      const messages: Envelope[] = [];
      t.on('message', (env: Envelope) => messages.push(env));
      await t.send(REQUEST, sendOptions());
      assert.deepEqual(messages, [RESPONSE]);
      assert.equal(s.received[0]!.body, REQUEST);
      assert.equal(t.state, 'connected');
    });

    it('refuses the certificate without the CA, with a clear TransportError', async () => {
      const tls = selfSignedCertificate();
      const s = await server(answer(200, JSON.stringify(RESPONSE)), tls);
      const t = lan({ host: '127.0.0.1', port: s.port, https: true });
      await t.open();
      let messages = 0;
      t.on('message', () => messages++);
      await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.code, 'E_TRANSPORT');
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${s.port}`));
        assert.match(e.message, /certificate/i);
        assert.match(e.message, /SELF_SIGNED/);
        return true;
      });
      assert.equal(messages, 0);
      assert.equal(s.received.length, 0);
      assert.equal(t.state, 'reconnecting');
    });
  });

  it('rejects a non-2xx status with the status code and host:port', async () => {
    const s = await server(answer(503, JSON.stringify(RESPONSE)));
    const t = lan({ host: '127.0.0.1', port: s.port });
    await t.open();
    let messages = 0;
    t.on('message', () => messages++);
    await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => {
      assert.ok(e instanceof TransportError);
      assert.equal(e.code, 'E_TRANSPORT');
      assert.match(e.message, /503/);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${s.port}`));
      return true;
    });
    assert.equal(messages, 0);
    assert.equal(t.state, 'reconnecting');
  });

  it('rejects a body that is not an envelope with a ProtocolError, without quoting it', async () => {
    const secret = 'not-json-secret-body-text';
    let reply = answer(200, secret, 'text/plain');
    const s = await server((req, res, body) => reply(req, res, body));
    const t = lan({ host: '127.0.0.1', port: s.port });
    await t.open();
    const discards: string[] = [];
    let messages = 0;
    t.on('discard', (reason: string) => discards.push(reason));
    t.on('message', () => messages++);
    await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.equal(e.code, 'E_PROTOCOL');
      assert.ok(!e.message.includes(secret));
      return true;
    });
    assert.equal(messages, 0);
    assert.equal(discards.length, 1);
    assert.ok(!discards[0]!.includes(secret));
    // The terminal answered, so the link itself works.
    assert.equal(t.state, 'connected');

    reply = answer(200, '{"version":"1.0","action":"Sale","data":"x"}');
    await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => e instanceof ProtocolError && /version/.test(e.message));
    assert.equal(messages, 0);
  });

  describe('oversized bodies', () => {
    it('stops reading a streamed body past the limit', async () => {
      const total = 64 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let written = 0;
      let serverSocket: net.Socket | undefined;
      const serverErrors: string[] = [];
      const s = await server((req, res) => {
        serverSocket = req.socket;
        // The client resets the connection mid-body: that is the point of the test.
        req.socket.on('error', (err: NodeJS.ErrnoException) => serverErrors.push(err.code ?? err.message));
        res.writeHead(200, { 'content-type': 'application/json' }); // no content-length: chunked
        const pump = () => {
          while (written < total && !res.destroyed) {
            written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          if (!res.destroyed) res.end();
        };
        pump();
      });
      const t = lan({ host: '127.0.0.1', port: s.port });
      await t.open();
      let messages = 0;
      t.on('message', () => messages++);
      await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.code, 'E_TRANSPORT');
        assert.match(e.message, new RegExp(`limit of ${MAX_ENVELOPE_BYTES} bytes`));
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${s.port}`));
        return true;
      });
      assert.ok(serverSocket !== undefined);
      await settles('the server socket to close', socketClosed(serverSocket), 2000);
      assert.ok(written < total / 2, `the server could write ${written} bytes: the client kept reading`);
      assert.ok(serverErrors.every((code) => code === 'ECONNRESET' || code === 'EPIPE'), serverErrors.join());
      assert.equal(messages, 0);
    });

    it('refuses a declared content-length over the limit before reading it', async () => {
      let serverSocket: net.Socket | undefined;
      const s = await server((req, res) => {
        serverSocket = req.socket;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_ENVELOPE_BYTES + 1) });
        res.write('{"version":"2.0",'); // and never the rest
      });
      const t = lan({ host: '127.0.0.1', port: s.port });
      await t.open();
      await assert.rejects(
        settles('the rejection', t.send(REQUEST, sendOptions()), 2000),
        (e: unknown) => e instanceof TransportError && e.code === 'E_TRANSPORT' && e.message.includes(`of ${MAX_ENVELOPE_BYTES + 1} bytes`),
      );
      assert.ok(serverSocket !== undefined);
      await settles('the server socket to close', socketClosed(serverSocket), 2000);
    });
  });

  describe('abort', () => {
    it('rejects with the abort reason and closes the connection of a terminal that never answers', async () => {
      let serverSocket: net.Socket | undefined;
      const s = await server((req) => {
        serverSocket = req.socket; // never answers
      });
      const t = lan({ host: '127.0.0.1', port: s.port });
      await t.open();
      const signal = AbortSignal.timeout(200);
      const started = Date.now();
      await assert.rejects(t.send(REQUEST, sendOptions(signal)), (e: unknown) => {
        assert.equal(e, signal.reason);
        assert.equal((e as Error).name, 'TimeoutError');
        return true;
      });
      assert.ok(Date.now() - started >= 150);
      assert.equal(s.received.length, 1);
      assert.ok(serverSocket !== undefined);
      await settles('the server socket to close', socketClosed(serverSocket), 2000);
      // The terminal was reached: an abort is not a link failure.
      assert.equal(t.state, 'connected');
    });

    it('rejects at once when the signal is already aborted, sending nothing', async () => {
      const s = await server(answer(200, JSON.stringify(RESPONSE)));
      const t = lan({ host: '127.0.0.1', port: s.port });
      await t.open();
      const controller = new AbortController();
      const reason = new Error('cancelled by the caller');
      controller.abort(reason);
      await assert.rejects(t.send(REQUEST, sendOptions(controller.signal)), (e: unknown) => e === reason);
      assert.equal(s.received.length, 0);
    });

    it('counts an abort before any connection stood as a link failure', async () => {
      // A TCP server that never speaks TLS: the handshake never completes.
      const silent = net.createServer(() => undefined);
      const accepted: net.Socket[] = [];
      silent.on('connection', (sock) => accepted.push(sock));
      silent.listen(0, '127.0.0.1');
      await once(silent, 'listening');
      cleanup.push(async () => {
        for (const sock of accepted) sock.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      });
      const t = lan({ host: '127.0.0.1', port: (silent.address() as net.AddressInfo).port, https: true });
      await t.open();
      const signal = AbortSignal.timeout(200);
      const states: Array<[TransportState, Error | undefined]> = [];
      t.on('state', (st: TransportState, err?: Error) => states.push([st, err]));
      await assert.rejects(t.send(REQUEST, sendOptions(signal)), (e: unknown) => e === signal.reason);
      assert.equal(t.state, 'reconnecting');
      assert.equal(states.length, 1);
      assert.ok(states[0]![1] instanceof TransportError);
      assert.match(states[0]![1]!.message, /no connection/);
    });
  });

  it('reports a refused connection with host:port and reconnecting, then connected after a success', async () => {
    const port = await freePort();
    const t = lan({ host: '127.0.0.1', port });
    await t.open();
    const states: Array<[TransportState, Error | undefined]> = [];
    t.on('state', (st: TransportState, err?: Error) => states.push([st, err]));
    await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => {
      assert.ok(e instanceof TransportError);
      assert.equal(e.code, 'E_TRANSPORT');
      assert.match(e.message, new RegExp(`LAN terminal 127\\.0\\.0\\.1:${port}`));
      assert.match(e.message, /ECONNREFUSED/);
      return true;
    });
    assert.equal(t.state, 'reconnecting');
    assert.equal(states.length, 1);
    assert.equal(states[0]![0], 'reconnecting');
    assert.ok(states[0]![1] instanceof TransportError);

    await server(answer(200, JSON.stringify(RESPONSE)), undefined, port);
    const messages: Envelope[] = [];
    t.on('message', (env: Envelope) => messages.push(env));
    await t.send(REQUEST, sendOptions());
    assert.deepEqual(messages, [RESPONSE]);
    assert.equal(t.state, 'connected');
    assert.deepEqual(
      states.map(([st]) => st),
      ['reconnecting', 'connected'],
    );
  });

  describe('close', () => {
    it('closes keep-alive connections, leaves no handles and refuses later sends', async () => {
      const s = await server(answer(200, JSON.stringify(RESPONSE)));
      const baseline = tcpSocketCount();
      const t = new LanTransport({ host: '127.0.0.1', port: s.port, agentKeepAlive: true });
      await t.open();
      await t.send(REQUEST, sendOptions());
      await t.send(REQUEST, sendOptions());
      assert.equal(s.received.length, 2);
      assert.equal(s.sockets.length, 1, 'keep-alive reuses one connection');
      assert.equal(s.sockets[0]!.destroyed, false, 'the keep-alive connection is open before close()');

      const states: TransportState[] = [];
      t.on('state', (st: TransportState) => states.push(st));
      await t.close();
      assert.equal(t.state, 'closed');
      assert.deepEqual(states, ['closed']);
      await settles('the keep-alive connection to close', socketClosed(s.sockets[0]!), 2000);
      await until('no socket handle left', () => tcpSocketCount() <= baseline, { within: 2000, detail: () => `${tcpSocketCount()} sockets, ${baseline} before` });
      assert.equal(tcpSocketCount(), baseline, 'no socket handle remains');

      await assert.rejects(t.send(REQUEST, sendOptions()), (e: unknown) => e instanceof TransportError && e.code === 'E_CLOSED');
      assert.equal(s.received.length, 2);
    });

    it('rejects a request in flight with E_CLOSED and emits nothing', async () => {
      let serverSocket: net.Socket | undefined;
      const s = await server((req) => {
        serverSocket = req.socket;
      });
      const t = new LanTransport({ host: '127.0.0.1', port: s.port });
      await t.open();
      let messages = 0;
      t.on('message', () => messages++);
      const pending = t.send(REQUEST, sendOptions());
      await until('the request at the server', () => s.received.length > 0, 5_000);
      assert.equal(s.received.length, 1, 'the request reached the server once');
      await t.close();
      await assert.rejects(pending, (e: unknown) => e instanceof TransportError && e.code === 'E_CLOSED');
      assert.ok(serverSocket !== undefined);
      await settles('the server socket to close', socketClosed(serverSocket), 2000);
      assert.equal(messages, 0);
    });

    it('can be opened again after close', async () => {
      const s = await server(answer(200, JSON.stringify(RESPONSE)));
      const t = lan({ host: '127.0.0.1', port: s.port, agentKeepAlive: true });
      await t.open();
      await t.send(REQUEST, sendOptions());
      await t.close();
      await t.open();
      assert.equal(t.state, 'connected');
      await t.send(REQUEST, sendOptions());
      assert.equal(s.received.length, 2);
    });
  });
});
