import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { deriveKey, type Envelope } from '../lib/protocol';
import { SimulatedTerminal, SIMULATOR_AMOUNTS } from '../lib/simulator/terminal';
import { serveSerial, type SerialServer } from '../lib/simulator/servers';
import { Terminal } from '../lib/terminal';
import { supportBundle } from '../nodes/common/support-bundle';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { until } from './helpers/wait';

const CODE = 'Q7wX4k';
/** The card the simulated terminal's approvals carry: values no other field has, looked for where they must not be. */
const CARD = { panPrefix6Digits: '424242', panLast4Digits: '4711', panHash: 'Hh7Kp2QxZ9mWcard', panToken: 'tok_Lw3Vn8Rb2Ycard' };


/** ECR handle ↔ real pty pair ↔ simulated terminal, with every envelope on the wire kept to look for later. */
describe('the trace and the support bundle (real pty)', function () {
  this.timeout(30_000);
  let pty: PtyPair;
  let server: SerialServer;
  let terminal: SimulatedTerminal;
  let handle: Terminal;
  let dir: string;
  const ciphertexts: string[] = [];
  const bodies: unknown[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-trace-'));
    pty = await startPtyPair();
    terminal = new SimulatedTerminal({ pairingCode: CODE, cardDelayMs: 10, pendingMs: 60_000, card: CARD });
    server = await serveSerial(terminal, { path: pty.b, faults: { noise: 0.5, corrupt: 0.3 } });
    // What the ECR sends, as the terminal's line sees it.
    server.transport.on('message', (env: Envelope) => ciphertexts.push(env.data));
    handle = new Terminal({
      config: { transport: 'serial', serialPort: pty.a, baudRate: 115200 },
      pairingCode: CODE,
      paymentTimeoutMs: 5_000,
      busyPolicy: 'queue',
      resolveTimeoutMs: 500,
      statusPollIntervalMs: 100,
      ledgerFile: path.join(dir, 'ledger.db'),
      terminalId: 'serial-test',
    });
    // What comes back to the ECR.
    handle.session!.transport.on('message', (env: Envelope) => ciphertexts.push(env.data));
    await handle.open();
  });

  afterEach(async () => {
    await handle?.close();
    terminal?.stop();
    await server?.close();
    await pty?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('holds one record per message out and in, and no pairing code, key, ciphertext or card data (nor does the journal)', async () => {
    const sale = await handle.request('Sale', { amount: '12.34', currency: 'HKD', referenceID: 'trace-sale-1' });
    bodies.push(sale.body);
    const refund = await handle.request('Refund', { amount: '2.00', currency: 'HKD', orgReferenceID: 'trace-sale-1', referenceID: 'trace-refund-1' });
    bodies.push(refund.body);
    const sale2 = await handle.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'trace-sale-2' });
    bodies.push(sale2.body, (await handle.request('Void', { orgReferenceID: 'trace-sale-2' })).body);
    bodies.push((await handle.request('TransactionStatus', { targetReferenceID: 'trace-sale-1' })).body);
    bodies.push((await handle.request('DeviceInfo', {})).body);
    bodies.push((await handle.request('Sale', { amount: SIMULATOR_AMOUNTS.busy, currency: 'HKD' })).body);
    assert.equal(sale.result, 'Success');
    // The answers did carry the card: its prefix, hash and token are there to be leaked.
    assert.deepEqual((sale.body as { creditCard?: unknown }).creditCard, CARD);

    const trace = handle.trace.list();
    const exchanges = trace.filter((r) => r.requestID !== undefined);
    // Each request out and its answer in, with its action, request ID and size.
    for (const id of [sale.requestID, refund.requestID, sale2.requestID]) {
      const out = exchanges.find((r) => r.requestID === id && r.direction === 'out');
      const back = exchanges.find((r) => r.requestID === id && r.direction === 'in');
      assert.ok(out !== undefined && back !== undefined, id);
      assert.ok(out.bytes > 100 && back.bytes > 100);
      assert.equal(out.result, 'sent');
      assert.equal(back.result, 'approved');
    }
    assert.equal(exchanges.find((r) => r.action === 'Void' && r.direction === 'in')?.result, 'voided');
    assert.equal(exchanges.filter((r) => r.action === 'Sale' && r.direction === 'in').at(-1)?.result, 'declined');
    for (const r of trace) assert.ok(Number.isFinite(Date.parse(r.at)) && ['in', 'out'].includes(r.direction), JSON.stringify(r));

    // Nothing secret, nothing of the card, no ciphertext, in the trace or in the bundle.
    const key = deriveKey(CODE);
    const card = bodies.flatMap((b) => {
      const body = b as { rrn?: string; brn?: string; creditCard?: { panPrefix6Digits?: string; panHash?: string } };
      return [body.rrn, body.brn, body.creditCard?.panPrefix6Digits, body.creditCard?.panHash].filter((v): v is string => typeof v === 'string' && v !== '');
    });
    assert.ok(card.length >= 8, 'the answers carried card data to look for');
    assert.ok(ciphertexts.length >= 14, 'the envelopes on the wire were seen');
    const forbidden = [
      CODE,
      CARD.panPrefix6Digits,
      CARD.panHash,
      CARD.panToken,
      Buffer.from(CODE).toString('base64'),
      key.toString('hex'),
      key.toString('base64'),
      ...card,
      ...ciphertexts.map((c) => c.slice(0, 24)),
      'creditCard',
      'panLast4Digits',
      'panToken',
    ];
    // The journal on disk (every file of it) keeps the payments' outcomes, never the card.
    const journalText = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
    assert.ok(journalText.includes('trace-sale-1'), 'the journal was written');
    const outputs = { trace: JSON.stringify(trace), bundle: JSON.stringify(supportBundle(handle, { nodeRed: '4.1.15' })), journal: journalText };
    for (const [where, text] of Object.entries(outputs)) {
      // The journal names its payments (their rrn and brn are its business); the trace and bundle do not.
      const notHere = where === 'journal' ? [CODE, CARD.panPrefix6Digits, CARD.panHash, CARD.panToken, key.toString('hex'), 'creditCard', 'panToken', 'panHash', 'panPrefix6Digits'] : forbidden;
      for (const f of notHere) assert.ok(!text.toLowerCase().includes(f.toLowerCase()), `${f} appears in the ${where}`);
    }
  });

  it('a noisy line whose frames get through is no fault: no diagnosis, however the samples fall', async () => {
    // Paced like a 19200-baud line (a corrupt copy ends 0.4 s before its good frame), a terminal that
    // takes over a second to answer (a sample often falls between the two).
    await server.close();
    terminal.delays = { Sale: 1_100 };
    server = await serveSerial(terminal, { path: pty.b, faults: { noise: 1, corrupt: 1 }, paceBaud: 19_200 });
    const faults: unknown[] = [];
    handle.on('diagnosis', (d) => faults.push(d));
    handle.on('state', (state: string) => state.startsWith('unreachable') && faults.push(state));
    // Sales back to back for 6 s: samples of the line land between noise and its frame.
    const end = Date.now() + 6_000;
    let n = 0;
    while (Date.now() < end) assert.equal((await handle.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: `noisy-${n++}` })).result, 'Success');
    assert.ok(handle.counters.crcErrors > 0 && handle.counters.noiseBytes > 500, JSON.stringify(handle.counters));
    assert.deepEqual(faults, []);
    assert.equal(handle.diagnosis(), undefined);
  });

  it('keeps a flood of noise as one record per burst: the exchanges stay in the trace', async () => {
    const sale = await handle.request('Sale', { amount: '1.00', currency: 'HKD' });
    const before = handle.counters.noiseBytes;
    // 250 bursts of garbage (more than the trace holds), no 0x55 in them (so no header to wait on),
    // each read by the ECR before the next is written.
    let sent = 0;
    for (let i = 0; i < 250; i++) {
      const junk = Buffer.alloc(10 + (i % 7), 0x20 + (i % 50));
      sent += junk.length;
      await server.transport.writeRaw(junk);
      await until(`burst ${i} counted`, () => handle.counters.noiseBytes - before >= sent, { within: 5_000, every: 2 });
    }
    const info = await handle.request('DeviceInfo', {});
    const trace = handle.trace.list();
    assert.ok(trace.some((r) => r.requestID === sale.requestID), 'the sale is still in the trace');
    assert.ok(trace.some((r) => r.requestID === info.requestID && r.direction === 'in'));
    const noise = trace.filter((r) => r.result === 'noise');
    assert.ok(noise.length >= 1 && noise.length <= 5, `${noise.length} noise records`);
    assert.ok(noise.reduce((n, r) => n + r.bytes, 0) >= sent);
    assert.ok(noise.some((r) => (r.count ?? 0) >= 100 && r.lastAt !== undefined), JSON.stringify(noise));
    assert.ok(trace.length < 60, `${trace.length} records`);
  });

  it('the support bundle: versions, settings without credentials, state, counters, open payments and the trace', async () => {
    await assert.rejects(handle.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'open-1' }), (err: { code?: string }) => err.code === 'E_PENDING');
    const bundle = supportBundle(handle, { terminal: { id: 'T1', name: 'till 1', identity: 'serial-x', address: pty.a }, nodeRed: '4.1.15' });
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    assert.deepEqual(bundle.versions, { package: pkg.version, node: process.version, nodeRed: '4.1.15', platform: `${process.platform}-${process.arch}` });
    assert.deepEqual(bundle.terminal, { id: 'T1', name: 'till 1', identity: 'serial-x', address: pty.a, config: { transport: 'serial', serialPort: pty.a, baudRate: 115200 } });
    assert.equal(bundle.state, 'connected');
    assert.deepEqual(bundle.openPayments.map((p) => [p.referenceID, p.action, p.amount, p.currency]), [['open-1', 'Sale', SIMULATOR_AMOUNTS.pendingThenApprove, 'HKD']]);
    assert.ok(Number.isFinite(Date.parse(bundle.openPayments[0]!.openedAt)));
    assert.ok(bundle.counters.framesReceived >= 2);
    assert.ok(bundle.trace.some((r) => r.action === 'TransactionStatus'));
    // Plain JSON: what goes into a file is what the object holds.
    assert.deepEqual(JSON.parse(JSON.stringify(bundle)), bundle);
    assert.doesNotMatch(JSON.stringify(bundle), /pairingCode|credential/i);
  });
});
