import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type * as net from 'node:net';
import { serializeEnvelope, type Envelope } from '../lib/protocol/envelope';
import { ProtocolError, TransportError, ValidationError } from '../lib/protocol/errors';
import type { Action } from '../lib/protocol/messages';
import type { SendOptions, TransportState } from '../lib/transport/transport';
import {
  CLOUD_COMMAND_URL_PRODUCTION,
  CLOUD_COMMAND_URL_STAGING,
  CLOUD_INFO_URL_PRODUCTION,
  CLOUD_INFO_URL_STAGING,
  CloudApiError,
  CloudTransport,
  type CloudTransportOptions,
} from '../lib/transport/cloud';
import { selfSignedCertificate } from './helpers/tls';

const BUSINESS_ID = '411d6207-1470-4d35-a557-54852463844d';
const DEVICE_SN = 'NEXGO-N96-1170270945';
const ECR_REQUEST_ID = '2c7f32e1-b9e4-4b34-96cc-15c51289f69b';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const SALE = serializeEnvelope('Sale', 'c2FsZSBjaXBoZXJ0ZXh0');
const INFO = serializeEnvelope('ConnectionInfo', 'aW5mbyBjaXBoZXJ0ZXh0');
const INNER: Envelope = { version: '2.0', action: 'Sale', data: 'cmVzcG9uc2UgY2lwaGVydGV4dA==' };

interface Received {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  body: string;
}

interface Gateway {
  port: number;
  received: Received[];
  /** What the next requests get (null: no answer at all); by default a success wrapper around INNER. */
  reply: (r: Received) => Reply | null;
  url(path: string): string;
}

function wrap(code: unknown, message: unknown, data: unknown): string {
  return JSON.stringify({ code, message, data });
}

function sendOptions(action: Action = 'Sale', signal: AbortSignal = new AbortController().signal): SendOptions {
  return { signal, action, requestID: ECR_REQUEST_ID };
}

describe('CloudTransport', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  });

  async function gateway(tls?: { key: string; cert: string }): Promise<Gateway> {
    const gw: Gateway = {
      port: 0,
      received: [],
      reply: () => ({ status: 200, body: wrap(0, 'success', INNER) }),
      url: (path) => `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${gw.port}${path}`,
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        gw.received.push(r);
        const reply = gw.reply(r);
        if (reply === null) return;
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(reply.body);
      });
    };
    const server: http.Server = tls === undefined ? http.createServer(onRequest) : https.createServer(tls, onRequest);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    gw.port = (server.address() as net.AddressInfo).port;
    cleanup.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return gw;
  }

  async function cloud(gw: Gateway, extra: Partial<CloudTransportOptions> = {}): Promise<CloudTransport> {
    const t = new CloudTransport({
      env: 'custom',
      commandUrl: gw.url('/gw/ecr'),
      infoUrl: gw.url('/gw/info?v=1'),
      businessId: BUSINESS_ID,
      ...extra,
    });
    cleanup.push(() => t.close());
    await t.open();
    return t;
  }

  describe('options', () => {
    it('knows the seeds ConnectionInfo URLs and documents the command URL guess', () => {
      assert.equal(CLOUD_INFO_URL_STAGING, 'https://gateway-stg.wonder.today/svc/payment/public/api/v1/openapi/terminal/info');
      assert.equal(CLOUD_INFO_URL_PRODUCTION, 'https://gateway.wonder.today/svc/payment/public/api/v1/openapi/terminal/info');
      const stg = new CloudTransport({ env: 'staging', businessId: BUSINESS_ID });
      assert.equal(stg.kind, 'cloud');
      assert.equal(stg.infoUrl, CLOUD_INFO_URL_STAGING);
      assert.equal(stg.commandUrl, CLOUD_COMMAND_URL_STAGING);
      assert.match(stg.commandUrl, /^https:\/\/gateway-stg\.wonder\.today\//);
      const prod = new CloudTransport({ env: 'production', businessId: BUSINESS_ID });
      assert.equal(prod.infoUrl, CLOUD_INFO_URL_PRODUCTION);
      assert.equal(prod.commandUrl, CLOUD_COMMAND_URL_PRODUCTION);
      assert.match(prod.commandUrl, /^https:\/\/gateway\.wonder\.today\//);
      const overridden = new CloudTransport({ env: 'production', businessId: BUSINESS_ID, commandUrl: 'https://example.test/ecr' });
      assert.equal(overridden.commandUrl, 'https://example.test/ecr');
      assert.equal(overridden.infoUrl, CLOUD_INFO_URL_PRODUCTION);
    });

    it('defaults env to custom with a commandUrl and to production without', () => {
      assert.equal(new CloudTransport({ businessId: BUSINESS_ID }).env, 'production');
      const custom = new CloudTransport({ businessId: BUSINESS_ID, commandUrl: 'http://127.0.0.1:1/ecr' });
      assert.equal(custom.env, 'custom');
      assert.equal(custom.infoUrl, undefined);
    });

    it('refuses a custom gateway without commandUrl, bad URLs and bad header values', () => {
      const invalid = (field: string) => (e: unknown) => e instanceof ValidationError && e.field === field;
      assert.throws(() => new CloudTransport({ env: 'custom', businessId: BUSINESS_ID }), invalid('commandUrl'));
      assert.throws(() => new CloudTransport({ env: 'custom', commandUrl: 'not a url', businessId: BUSINESS_ID }), invalid('commandUrl'));
      assert.throws(() => new CloudTransport({ env: 'custom', commandUrl: 'ftp://x/ecr', businessId: BUSINESS_ID }), invalid('commandUrl'));
      assert.throws(() => new CloudTransport({ env: 'staging', infoUrl: 'https://u:p@x/info', businessId: BUSINESS_ID }), invalid('infoUrl'));
      assert.throws(() => new CloudTransport({ env: 'staging', businessId: '' }), invalid('businessId'));
      assert.throws(() => new CloudTransport({ env: 'staging', businessId: 'a\r\nx-evil: 1' }), invalid('businessId'));
      assert.throws(() => new CloudTransport({ env: 'staging', businessId: BUSINESS_ID, deviceSn: 'sn with space' }), invalid('deviceSn'));
      const t = new CloudTransport({ env: 'staging', businessId: BUSINESS_ID });
      assert.throws(() => t.setDeviceSn('bad\nsn'), invalid('deviceSn'));
      assert.equal(t.deviceSn, undefined);
    });
  });

  it('sends the three headers with a fresh UUID request id and emits the unwrapped envelope', async () => {
    const gw = await gateway();
    const t = await cloud(gw, { deviceSn: DEVICE_SN });
    const order: string[] = [];
    const messages: Envelope[] = [];
    t.on('message', (env: Envelope) => {
      order.push('message');
      messages.push(env);
    });
    await t.send(SALE, sendOptions()).then(() => order.push('resolved'));
    assert.deepEqual(order, ['message', 'resolved']);
    await t.send(SALE, sendOptions());

    assert.deepEqual(messages, [INNER, INNER]);
    assert.equal(gw.received.length, 2);
    for (const r of gw.received) {
      assert.equal(r.url, '/gw/ecr');
      assert.equal(r.body, SALE);
      assert.equal(r.headers['x-p-business-id'], BUSINESS_ID);
      assert.equal(r.headers['x-device-sn'], DEVICE_SN);
      assert.equal(r.headers['content-type'], 'application/json');
      assert.match(String(r.headers['x-request-id']), UUID);
      assert.notEqual(r.headers['x-request-id'], ECR_REQUEST_ID);
    }
    assert.notEqual(gw.received[0]!.headers['x-request-id'], gw.received[1]!.headers['x-request-id']);
    assert.equal(t.state, 'connected');
  });

  it('routes ConnectionInfo to infoUrl with an empty device SN, and uses the SN set afterwards', async () => {
    const gw = await gateway();
    const t = await cloud(gw);
    const info: Envelope = { version: '2.0', action: 'DeviceInfo', data: 'aW5mbyByZXNwb25zZQ==' };
    gw.reply = () => ({ status: 200, body: wrap(200, 'OK', info) });
    const messages: Envelope[] = [];
    t.on('message', (env: Envelope) => messages.push(env));

    await t.send(INFO, sendOptions('ConnectionInfo'));
    assert.equal(gw.received[0]!.url, '/gw/info?v=1');
    assert.equal(gw.received[0]!.body, INFO);
    assert.equal(gw.received[0]!.headers['x-device-sn'], '');
    assert.equal(gw.received[0]!.headers['x-p-business-id'], BUSINESS_ID);
    assert.match(String(gw.received[0]!.headers['x-request-id']), UUID);
    assert.deepEqual(messages, [info]);

    // Without the SN, a command is refused before anything is sent.
    await assert.rejects(
      t.send(SALE, sendOptions()),
      (e: unknown) => e instanceof TransportError && e.code === 'E_TRANSPORT' && /device SN/.test(e.message),
    );
    assert.equal(gw.received.length, 1);
    assert.equal(t.state, 'connected');

    t.setDeviceSn(DEVICE_SN);
    assert.equal(t.deviceSn, DEVICE_SN);
    gw.reply = () => ({ status: 200, body: wrap(0, 'success', INNER) });
    await t.send(SALE, sendOptions());
    assert.equal(gw.received[1]!.url, '/gw/ecr');
    assert.equal(gw.received[1]!.headers['x-device-sn'], DEVICE_SN);

    t.setDeviceSn('NEXGO-N62-N620W318000');
    await t.send(SALE, sendOptions());
    assert.equal(gw.received[2]!.headers['x-device-sn'], 'NEXGO-N62-N620W318000');
    assert.deepEqual(messages, [info, INNER, INNER]);
  });

  it('refuses ConnectionInfo on a custom gateway without infoUrl', async () => {
    const gw = await gateway();
    const t = await cloud(gw, { infoUrl: undefined });
    await assert.rejects(t.send(INFO, sendOptions('ConnectionInfo')), (e: unknown) => e instanceof TransportError && /infoUrl/.test(e.message));
    assert.equal(gw.received.length, 0);
  });

  describe('errors', () => {
    it('surfaces a non-success code with its code and message', async () => {
      const gw = await gateway();
      const t = await cloud(gw, { deviceSn: DEVICE_SN });
      let messages = 0;
      t.on('message', () => messages++);
      gw.reply = () => ({ status: 200, body: wrap(40012, 'device is offline', null) });
      await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof CloudApiError);
        assert.ok(e instanceof TransportError);
        assert.equal(e.code, 'E_TRANSPORT');
        assert.equal(e.apiCode, 40012);
        assert.equal(e.apiMessage, 'device is offline');
        assert.equal(e.httpStatus, 200);
        assert.match(e.message, /40012/);
        assert.match(e.message, /device is offline/);
        assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${gw.port}`));
        return true;
      });
      assert.equal(messages, 0);
      // The gateway answered: the link works.
      assert.equal(t.state, 'connected');
    });

    it('truncates a long message and strips control characters', async () => {
      const gw = await gateway();
      const t = await cloud(gw, { deviceSn: DEVICE_SN });
      gw.reply = () => ({ status: 200, body: wrap('E500', `bad\r\nthing ${'x'.repeat(5000)}`, null) });
      await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof CloudApiError);
        assert.equal(e.apiCode, 'E500');
        assert.ok(e.message.length < 400, `message of ${e.message.length} characters`);
        assert.ok(!/[\r\n]/.test(e.message));
        assert.match(e.message, /bad thing x+…$/);
        return true;
      });
    });

    it('takes the wrapper of a non-2xx answer, or reports the HTTP status', async () => {
      const gw = await gateway();
      const t = await cloud(gw, { deviceSn: DEVICE_SN });
      const states: TransportState[] = [];
      t.on('state', (st: TransportState) => states.push(st));

      gw.reply = () => ({ status: 401, body: wrap(401001, 'unknown business', null) });
      await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof CloudApiError);
        assert.equal(e.apiCode, 401001);
        assert.equal(e.httpStatus, 401);
        assert.match(e.message, /401001.*HTTP 401.*unknown business/);
        return true;
      });
      assert.equal(t.state, 'connected');

      gw.reply = () => ({ status: 502, body: '<html>bad gateway</html>' });
      await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof TransportError && !(e instanceof CloudApiError));
        assert.match(e.message, /HTTP 502/);
        assert.ok(!e.message.includes('bad gateway'));
        return true;
      });
      assert.equal(t.state, 'reconnecting');

      gw.reply = () => ({ status: 200, body: wrap('0', 'success', INNER) });
      await t.send(SALE, sendOptions());
      assert.deepEqual(states, ['reconnecting', 'connected']);
    });

    it('refuses a response that is not the wrapper, or whose data is not an envelope, without quoting it', async () => {
      const gw = await gateway();
      const t = await cloud(gw, { deviceSn: DEVICE_SN });
      const discards: string[] = [];
      let messages = 0;
      t.on('discard', (reason: string) => discards.push(reason));
      t.on('message', () => messages++);
      const secret = 'c2VjcmV0IGNpcGhlcnRleHQ=';
      const bodies = [
        `not json ${secret}`,
        JSON.stringify([secret]),
        JSON.stringify({ message: secret, data: INNER }),
        wrap(0, 'success', { version: '2.0', action: 'Sale' }),
        wrap(0, 'success', { version: '9', action: 'Sale', data: secret }),
        wrap(0, 'success', JSON.stringify(INNER)),
      ];
      for (const body of bodies) {
        gw.reply = () => ({ status: 200, body });
        await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => {
          assert.ok(e instanceof ProtocolError, body);
          assert.ok(!e.message.includes(secret));
          return true;
        });
      }
      assert.equal(discards.length, bodies.length);
      assert.ok(discards.every((d) => !d.includes(secret)));
      assert.equal(messages, 0);
    });

    it('reports a refused connection with the gateway host, then recovers', async () => {
      const gw = await gateway();
      const t = await cloud(gw, { deviceSn: DEVICE_SN, commandUrl: 'http://127.0.0.1:1/gw/ecr' });
      await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => {
        assert.ok(e instanceof TransportError);
        assert.equal(e.code, 'E_TRANSPORT');
        assert.match(e.message, /Wonder cloud 127\.0\.0\.1:1\b/);
        return true;
      });
      assert.equal(t.state, 'reconnecting');
      await t.send(INFO, sendOptions('ConnectionInfo'));
      assert.equal(t.state, 'connected');
    });

    it('rejects with the abort reason', async () => {
      const gw = await gateway();
      const t = await cloud(gw, { deviceSn: DEVICE_SN });
      let seen = 0;
      gw.reply = () => {
        seen++;
        return null;
      };
      const signal = AbortSignal.timeout(200);
      await assert.rejects(t.send(SALE, sendOptions('Sale', signal)), (e: unknown) => e === signal.reason);
      assert.equal(seen, 1);
    });
  });

  it('works over https with the given CA, and refuses the certificate without it', async () => {
    const tls = selfSignedCertificate();
    const gw = await gateway(tls);
    const trusted = await cloud(gw, { deviceSn: DEVICE_SN, ca: tls.cert });
    const messages: Envelope[] = [];
    trusted.on('message', (env: Envelope) => messages.push(env));
    await trusted.send(SALE, sendOptions());
    assert.deepEqual(messages, [INNER]);
    assert.equal(gw.received[0]!.headers['x-p-business-id'], BUSINESS_ID);

    const untrusted = await cloud(gw, { deviceSn: DEVICE_SN });
    await assert.rejects(untrusted.send(SALE, sendOptions()), (e: unknown) => e instanceof TransportError && /certificate/i.test(e.message));
    assert.equal(gw.received.length, 1);
  });

  it('refuses sends after close', async () => {
    const gw = await gateway();
    const t = await cloud(gw, { deviceSn: DEVICE_SN, agentKeepAlive: true });
    await t.send(SALE, sendOptions());
    await t.close();
    assert.equal(t.state, 'closed');
    await assert.rejects(t.send(SALE, sendOptions()), (e: unknown) => e instanceof TransportError && e.code === 'E_CLOSED');
    assert.equal(gw.received.length, 1);
  });
});
