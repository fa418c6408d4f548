import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { LanTransport, normalizeFingerprint, SecurityError, ValidationError, createTransport } from '../lib';
import { TerminalSession } from '../lib/session';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveLan, type LanServer } from '../lib/simulator/servers';
import { selfSignedCertificate } from './helpers/tls';
import { runCli } from './helpers/cli-run';

const WRONG = 'AA:'.repeat(31) + 'AA';
/**
 * The CLI's journals (its default is under ~/.local/state, named by host and port): a run of this
 * file's own, else a port reused from an earlier run finds its sale already done and sends nothing.
 */
const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-tls-cli-state-'));

/** A raw TLS server that records every application byte a client sends on it. */
async function recordingTlsServer(cert: { key: string; cert: string }) {
  const received: Buffer[] = [];
  let handshakes = 0;
  const server = tls.createServer(cert, (socket) => {
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', () => undefined);
  });
  // TCP connections: with TLS 1.3 the client may judge the certificate and hang up before the server's side of the handshake ends.
  server.on('connection', () => handshakes++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received,
    handshakes: () => handshakes,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cli = (args: string[]) => runCli(args, { WONDER_PIN: '260880', XDG_STATE_HOME: STATE });

describe('LAN over TLS: CA file or pinned certificate fingerprint (issue 13)', function () {
  this.timeout(30_000);
  const cert = selfSignedCertificate();
  const pin = new X509Certificate(cert.cert).fingerprint256;
  let terminal: SimulatedTerminal;
  let server: LanServer;
  const sessions: TerminalSession[] = [];
  before(async () => {
    terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    server = await serveLan(terminal, { tls: cert });
  });
  after(async () => {
    terminal.stop();
    await server.close();
    fs.rmSync(STATE, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) await s.close();
  });
  function session(transport: LanTransport | ReturnType<typeof createTransport>) {
    const s = new TerminalSession({ transport, pairingCode: '260880', clientDeviceSN: 'T', paymentTimeoutMs: 5_000, commandTimeoutMs: 5_000, resolveTimeoutMs: 1_000 });
    sessions.push(s);
    return s;
  }

  it('reads a fingerprint as openssl prints it, with or without colons, and refuses anything else naming the field', () => {
    const bare = pin.replace(/:/g, '').toLowerCase();
    assert.equal(normalizeFingerprint(bare), pin);
    assert.equal(normalizeFingerprint(`sha256 Fingerprint=${pin}`), pin);
    for (const bad of ['', 'AB:CD', pin + ':00', pin.replace(/.$/, 'G'), 42]) {
      assert.throws(() => normalizeFingerprint(bad, 'fingerprint'), (e: unknown) => e instanceof ValidationError && e.field === 'fingerprint');
    }
    assert.throws(() => new LanTransport({ host: '127.0.0.1', fingerprint: pin, https: false }), (e: unknown) => e instanceof ValidationError && e.field === 'fingerprint');
    assert.equal(new LanTransport({ host: '127.0.0.1', fingerprint: pin }).https, true);
  });

  it('takes a sale from a terminal with a self-signed certificate, pinned by its fingerprint', async () => {
    const s = session(new LanTransport({ host: '127.0.0.1', port: server.port, fingerprint: pin }));
    await s.open();
    const sale = await s.request('Sale', { amount: '4.40', currency: 'HKD', referenceID: 'tls-pin-1' });
    assert.equal(sale.result, 'Success');
    assert.equal(terminal.transactions.get('tls-pin-1')!.state, 'Success');
  });

  it('takes a sale with the CA file, and with CA file and pin together (config, as the node builds it)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-ca-'));
    try {
      const caFile = path.join(dir, 'ca.pem');
      fs.writeFileSync(caFile, cert.cert);
      const s1 = session(createTransport({ transport: 'lan', host: '127.0.0.1', port: server.port, caFile }));
      await s1.open();
      assert.equal((await s1.request('Sale', { amount: '4.41', currency: 'HKD' })).result, 'Success');
      const s2 = session(createTransport({ transport: 'lan', host: '127.0.0.1', port: server.port, caFile, tlsFingerprint: pin }));
      await s2.open();
      assert.equal((await s2.request('Sale', { amount: '4.42', currency: 'HKD' })).result, 'Success');
      const before = terminal.received.length;
      const s3 = session(createTransport({ transport: 'lan', host: '127.0.0.1', port: server.port, caFile, tlsFingerprint: WRONG }));
      await s3.open();
      await assert.rejects(s3.request('Sale', { amount: '4.43', currency: 'HKD' }), (e: unknown) => e instanceof SecurityError);
      assert.equal(terminal.received.length, before);
      assert.throws(() => createTransport({ transport: 'lan', host: '127.0.0.1', caFile: path.join(dir, 'missing.pem') }), (e: unknown) => e instanceof ValidationError && e.field === 'caFile');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a terminal whose certificate is not the pinned one: E_SECURITY, and not one byte of the request is written', async () => {
    const raw = await recordingTlsServer(cert);
    try {
      const transport = new LanTransport({ host: '127.0.0.1', port: raw.port, fingerprint: WRONG });
      const s = session(transport);
      await s.open();
      await assert.rejects(s.request('Sale', { amount: '9.99', currency: 'HKD', referenceID: 'tls-wrong-1' }), (e: unknown) => {
        assert.ok(e instanceof SecurityError, String(e));
        assert.equal(e.code, 'E_SECURITY');
        assert.match(e.message, /not the pinned one/);
        return true;
      });
      assert.ok(raw.handshakes() >= 1, 'no connection was made');
      assert.equal(Buffer.concat(raw.received).length, 0, 'bytes reached the server');
    } finally {
      await raw.stop();
    }
  });

  it('the CLI takes --fingerprint: the right one pays, a wrong one exits 5 with nothing sent, a malformed one exits 2', async () => {
    const ok = await cli(['sale', '--lan', `127.0.0.1:${server.port}`, '--fingerprint', pin, '--amount', '4.50', '--currency', 'HKD', '--reference', 'tls-cli-1']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(terminal.transactions.get('tls-cli-1')!.state, 'Success');
    const before = terminal.received.length;
    const wrong = await cli(['sale', '--lan', `127.0.0.1:${server.port}`, '--fingerprint', WRONG, '--amount', '4.51', '--currency', 'HKD']);
    assert.equal(wrong.code, 5, wrong.stderr);
    assert.match(wrong.stderr, /pinned/);
    const bad = await cli(['sale', '--lan', `127.0.0.1:${server.port}`, '--fingerprint', 'nope', '--amount', '4.52', '--currency', 'HKD']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--fingerprint/);
    assert.equal(terminal.received.length, before);
  });
});
