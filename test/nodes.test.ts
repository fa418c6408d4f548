import { strict as assert } from 'node:assert';
import type { JournalEntry } from '../lib/ledger';
import { fillLedger } from '../bench/ledger-fill';
import * as path from 'node:path';
import { allNodes, helper, messages, nextMessage, userDir, type Msg, useRuntime } from './helpers/node-red';
import type { SimulatedTerminal } from '../lib/simulator/terminal';

const T = 'term1';

function terminal(id = T, extra: Record<string, unknown> = {}) {
  return { id, type: 'wonder-terminal', name: `terminal ${id}`, transport: 'simulator', timeout: '30', ...extra };
}

function action(id: string, type: string, extra: Record<string, unknown> = {}, terminalId = T) {
  return { id, type, z: 'f1', terminal: terminalId, wires: [['out']], ...extra };
}

/** The flow tab, an output and a Catch node (which only works inside a tab). */
const sinks = [
  { id: 'f1', type: 'tab', label: 'test' },
  { id: 'out', type: 'helper', z: 'f1' },
  { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
];

function simulatorOf(id = T): SimulatedTerminal {
  const node = helper.getNode(id) as unknown as { wonder: { session: { transport: { terminal: SimulatedTerminal } } } };
  return node.wonder.session.transport.terminal;
}

describe('Node-RED nodes on the simulator transport', function () {
  this.timeout(20_000);
  useRuntime();

  it('registers every node type', async () => {
    await helper.load(allNodes, [terminal(), action('s', 'wonder-sale'), ...sinks]);
    const RED = helper._RED as { nodes: { getType(t: string): unknown } };
    for (const type of ['wonder-terminal', 'wonder-pair', 'wonder-device-info', 'wonder-sale', 'wonder-refund', 'wonder-void', 'wonder-abort', 'wonder-status']) {
      assert.equal(typeof RED.nodes.getType(type), 'function', type);
    }
  });

  it('sale: payload in, decrypted body and msg.wonder out', async () => {
    await helper.load(allNodes, [terminal(), action('s', 'wonder-sale'), ...sinks]);
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '10.20', currency: 'HKD', customerOrderID: 'ORD-1' }, keep: 'me' });
    const msg = await out;
    assert.equal(msg.payload.status, 'Success');
    assert.equal(msg.payload.amount, '10.20');
    assert.equal(msg.payload.customerOrderID, 'ORD-1');
    assert.equal(msg.keep, 'me');
    assert.equal(msg.wonder.action, 'Sale');
    assert.equal(msg.wonder.result, 'Success');
    assert.match(msg.wonder.requestID, /^[0-9a-f-]{36}$/);
    assert.equal(msg.wonder.responseHeader.responseID, msg.wonder.requestID);
    assert.equal(typeof msg.wonder.elapsedMs, 'number');
    assert.equal(simulatorOf().transactions.get(msg.wonder.referenceID)!.state, 'Success');
  });

  it('sale: amount and currency from the node typed inputs; the payload wins', async () => {
    await helper.load(allNodes, [
      terminal(),
      action('s', 'wonder-sale', { amount: 'price', amountType: 'flow', currency: 'HKD', currencyType: 'str' }),
      ...sinks,
    ]);
    (helper.getNode('s') as unknown as { context(): { flow: { set(k: string, v: unknown): void } } }).context().flow.set('price', '3.50');
    const first = nextMessage('out');
    helper.getNode('s').receive({ payload: {} });
    assert.equal((await first).payload.amount, '3.50');
    const second = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '4.00', currency: 'USD' } });
    const msg = await second;
    assert.equal(msg.payload.amount, '4.00');
    assert.equal(msg.payload.currency, 'USD');
  });

  it('refund, void and status against earlier sales; abort and device info', async () => {
    await helper.load(allNodes, [
      terminal(),
      action('sale', 'wonder-sale'),
      action('refund', 'wonder-refund'),
      action('void', 'wonder-void'),
      action('status', 'wonder-status'),
      action('abort', 'wonder-abort'),
      action('info', 'wonder-device-info'),
      action('pair', 'wonder-pair'),
      ...sinks,
    ]);
    const send = async (id: string, payload: unknown) => {
      const out = nextMessage('out');
      helper.getNode(id).receive({ payload });
      return out;
    };
    const sale1 = await send('sale', { amount: '20.00', currency: 'HKD' });
    const refund = await send('refund', { amount: '5.00', currency: 'HKD', orgReferenceID: sale1.wonder.referenceID });
    assert.equal(refund.wonder.result, 'Success');
    assert.notEqual(refund.wonder.referenceID, sale1.wonder.referenceID);
    const sale2 = await send('sale', { amount: '7.00', currency: 'HKD' });
    const voided = await send('void', { orgReferenceID: sale2.wonder.referenceID });
    assert.equal(voided.wonder.result, 'Success');
    const status = await send('status', { targetReferenceID: sale2.wonder.referenceID });
    assert.equal(status.payload.transactionStatus, 'Voided');
    // The status node's result is the transaction's state, not whether the query ran.
    assert.equal(status.wonder.result, 'Voided');
    const declined = await send('sale', { amount: '900.01', currency: 'HKD' });
    assert.equal((await send('status', { targetReferenceID: declined.wonder.referenceID })).wonder.result, 'Failed');
    const abort = await send('abort', {});
    assert.equal(abort.payload.status, 'Failed'); // nothing to abort
    const info = await send('info', {});
    assert.equal(info.payload.deviceStatus, 'Free');
    const pair = await send('pair', {});
    assert.equal(pair.wonder.action, 'Pair');
    assert.equal(pair.wonder.responseHeader.serverDeviceSN, 'SIM-WONDER-0001');
    assert.equal(pair.payload.softwareVersion, '1.0.0(sim)');
  });

  it('a pending sale is settled by TransactionStatus and flagged resolvedBy', async () => {
    await helper.load(allNodes, [terminal(), action('s', 'wonder-sale'), ...sinks]);
    const out = nextMessage('out', 15_000);
    helper.getNode('s').receive({ payload: { amount: '900.02', currency: 'HKD', referenceID: 'kiosk-900-02' } });
    const msg = await out;
    assert.equal(msg.wonder.result, 'Success');
    assert.equal(msg.wonder.resolvedBy, 'TransactionStatus');
    assert.equal(msg.wonder.referenceID, 'kiosk-900-02');
    assert.equal(simulatorOf().count('Sale', 'kiosk-900-02'), 1);
  });

  it('validation errors reach a Catch node, name the field, and nothing is sent', async () => {
    await helper.load(allNodes, [terminal(), action('s', 'wonder-sale'), action('v', 'wonder-void'), ...sinks]);
    const bad: Array<[string, unknown, string]> = [
      ['s', { amount: '10.205', currency: 'HKD' }, 'amount'],
      ['s', { amount: '10', currency: 'hk' }, 'currency'],
      ['s', { amount: 1e309, currency: 'HKD' }, 'amount'],
      ['s', { currency: 'HKD' }, 'amount'],
      ['v', {}, 'orgReferenceID'],
    ];
    for (const [id, payload, field] of bad) {
      const caught = nextMessage('caught');
      helper.getNode(id).receive({ payload });
      const msg = await caught;
      assert.equal(msg.error.source.id, id);
      assert.ok(msg.error.message.includes(field), msg.error.message);
    }
    assert.equal(simulatorOf().received.length, 0);
  });

  it('the pairing code never reaches a message, a log line or an error', async () => {
    await helper.load(allNodes, [terminal(T, { transport: 'simulator' }), action('s', 'wonder-sale'), ...sinks], {
      [T]: { pairingCode: '260880' },
    });
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '1.00', currency: 'HKD' } });
    const msg = await out;
    assert.equal(msg.wonder.result, 'Success');
    const caught = nextMessage('caught');
    helper.getNode('s').receive({ payload: { amount: 'bad', currency: 'HKD' } });
    const err = await caught;
    const everything = JSON.stringify([msg, err, helper.log().args]);
    assert.ok(!everything.includes('260880'), 'pairing code leaked');
    assert.ok(!everything.includes('d866085b'), 'derived key leaked');
  });

  it('two terminals in one flow never answer each other', async () => {
    await helper.load(allNodes, [
      terminal('A'),
      terminal('B'),
      { id: 'f1', type: 'tab', label: 'test' },
      { id: 'sa', type: 'wonder-sale', z: 'f1', terminal: 'A', wires: [['outA']] },
      { id: 'sb', type: 'wonder-sale', z: 'f1', terminal: 'B', wires: [['outB']] },
      { id: 'outA', type: 'helper', z: 'f1' },
      { id: 'outB', type: 'helper', z: 'f1' },
    ]);
    const a = messages('outA', 5);
    const b = messages('outB', 5);
    for (let i = 0; i < 5; i++) {
      helper.getNode('sa').receive({ payload: { amount: '1.00', currency: 'HKD', referenceID: `A-${i}` } });
      helper.getNode('sb').receive({ payload: { amount: '2.00', currency: 'HKD', referenceID: `B-${i}` } });
    }
    const [ma, mb] = await Promise.all([a, b]);
    assert.deepEqual(ma.map((m) => m.wonder.referenceID), [0, 1, 2, 3, 4].map((i) => `A-${i}`));
    assert.deepEqual(mb.map((m) => m.wonder.referenceID), [0, 1, 2, 3, 4].map((i) => `B-${i}`));
    assert.ok(ma.every((m) => m.payload.amount === '1.00'));
    assert.ok(mb.every((m) => m.payload.amount === '2.00'));
    assert.equal(simulatorOf('A').transactions.size, 5);
    assert.equal(simulatorOf('B').transactions.size, 5);
    assert.ok([...simulatorOf('A').transactions.keys()].every((k) => k.startsWith('A-')));
  });

  it('every field a flow can send is validated, naming the field, before anything is sent', async () => {
    await helper.load(allNodes, [
      terminal(),
      action('sale', 'wonder-sale'),
      action('refund', 'wonder-refund'),
      action('void', 'wonder-void'),
      action('status', 'wonder-status'),
      ...sinks,
    ]);
    const huge = 'x'.repeat(1_000_000);
    const cases: Array<[string, unknown, string]> = [
      ['sale', { amount: 10.2, currency: 'HKD', referenceID: 42 }, 'referenceID'],
      ['sale', { amount: '', currency: 'HKD' }, 'amount'],
      ['sale', { amount: huge, currency: 'HKD' }, 'amount'],
      ['sale', { amount: '１０.００', currency: 'HKD' }, 'amount'],
      ['sale', { amount: '-5', currency: 'HKD' }, 'amount'],
      ['sale', { amount: -5, currency: 'HKD' }, 'amount'],
      ['sale', { amount: Number.NaN, currency: 'HKD' }, 'amount'],
      ['sale', { amount: '1e309', currency: 'HKD' }, 'amount'],
      ['sale', { amount: 1e309, currency: 'HKD' }, 'amount'],
      ['sale', { amount: '10.999', currency: 'HKD' }, 'amount'],
      ['sale', { amount: true, currency: 'HKD' }, 'amount'],
      ['sale', { amount: ['1'], currency: 'HKD' }, 'amount'],
      ['sale', { amount: '1.00', currency: 'HK$' }, 'currency'],
      ['sale', { amount: '1.00', currency: 'hkd' }, 'currency'],
      ['sale', { amount: '1.00', currency: '' }, 'currency'],
      ['sale', { amount: '1.00', currency: huge }, 'currency'],
      ['sale', { amount: '1.00', currency: 'HKD', referenceID: 'ref with spaces' }, 'referenceID'],
      ['sale', { amount: '1.00', currency: 'HKD', referenceID: 'ré' }, 'referenceID'],
      ['sale', { amount: '1.00', currency: 'HKD', referenceID: huge }, 'referenceID'],
      ['sale', { amount: '1.00', currency: 'HKD', customerOrderID: '訂單-1' }, 'customerOrderID'],
      ['sale', { amount: '1.00', currency: 'HKD', customerOrderID: huge }, 'customerOrderID'],
      ['refund', { amount: '1.00', currency: 'HKD' }, 'orgReferenceID'],
      ['refund', { amount: '1.00', currency: 'HKD', orgReferenceID: '' }, 'orgReferenceID'],
      ['refund', { amount: '1.00', currency: 'HKD', orgReferenceID: { id: 1 } }, 'orgReferenceID'],
      ['refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'A', referenceID: 'A' }, 'referenceID'],
      ['void', {}, 'orgReferenceID'],
      ['void', { orgReferenceID: null }, 'orgReferenceID'],
      ['status', { targetReferenceID: '' }, 'targetReferenceID'],
      ['status', { targetReferenceID: 'a\nb' }, 'targetReferenceID'],
    ];
    for (const [id, payload, field] of cases) {
      const caught = nextMessage('caught');
      helper.getNode(id).receive({ payload });
      const msg = await caught;
      assert.equal(msg.error.source.id, id);
      assert.ok(msg.error.message.includes(field), `${JSON.stringify(payload).slice(0, 60)}: ${msg.error.message.slice(0, 200)}`);
      assert.ok(msg.error.message.length < 400, 'the error echoes a huge input');
      assert.equal(msg.wonder.code, 'E_VALIDATION');
    }
    assert.equal(simulatorOf().received.length, 0);
  });

  it('a pairing code of the wrong length shows as a config error in the status of the nodes using it', async () => {
    await helper.load(allNodes, [terminal(T, { transport: 'serial', serialPort: '/dev/null-port' }), action('s', 'wonder-sale'), ...sinks], {
      [T]: { pairingCode: '12345' },
    });
    const node = helper.getNode('s') as unknown as { status(s: unknown): void };
    const seen: Array<{ fill?: string; text?: string }> = [];
    const original = node.status.bind(node);
    node.status = (st: unknown) => {
      seen.push(st as { fill?: string; text?: string });
      original(st);
    };
    const caught = nextMessage('caught');
    helper.getNode('s').receive({ payload: { amount: '1.00', currency: 'HKD' } });
    const msg = await caught;
    assert.ok(msg.error.message.includes('pairingCode'), msg.error.message);
    assert.ok(!msg.error.message.includes('12345'));
    const log = JSON.stringify(helper.log().args);
    assert.ok(log.includes('errors.config'), 'the config error is logged');
    assert.ok(!log.includes('12345'), 'the wrong code is logged');
    assert.equal(seen.at(-1)?.fill, 'red');
  });

  it('a bad terminal config shows in the node status and fails inputs with the field named', async () => {
    await helper.load(allNodes, [terminal(T, { transport: 'lan', host: '' }), action('s', 'wonder-sale'), ...sinks]);
    const caught = nextMessage('caught');
    helper.getNode('s').receive({ payload: { amount: '1.00', currency: 'HKD' } });
    const msg = await caught;
    assert.ok(msg.error.message.includes('host'), msg.error.message);
  });

  it('open payments in the ledger of a place no deployed terminal uses are warned about at deploy', async () => {
    const ledgerFile = path.join(userDir, 'wonder-ecr', 'ledger.db');
    const entry: JournalEntry = { referenceID: 'LEFT-OPEN', action: 'Sale', terminal: 'serial-/dev/ttyUSB9', requestID: 'r', state: 'Success', openedAt: '2026-01-01T00:00:00Z', closedAt: '2026-01-01T00:00:10Z' };
    // Settled: nothing to say.
    fillLedger(ledgerFile, [entry]);
    await helper.load(allNodes, [terminal(), action('s', 'wonder-sale'), ...sinks]);
    assert.ok(!JSON.stringify(helper.log().args).includes('orphanedJournal'), 'a settled payment was reported');
    await helper.unload();
    // Open: warned.
    fillLedger(ledgerFile, [{ ...entry, referenceID: 'LEFT-OPEN-2', state: 'open' }]);
    await helper.load(allNodes, [terminal(), action('s', 'wonder-sale'), ...sinks]);
    assert.ok(JSON.stringify(helper.log().args).includes('orphanedJournal'), 'no warning about the orphaned journal');
  });

  it('the Pair endpoint pairs against the simulator and reports a wrong code clearly', async () => {
    await helper.load(allNodes, [terminal()]);
    const ok = await helper.request().post('/wonder-ecr/pair').send({ id: 'new-node', config: { transport: 'simulator' }, pairingCode: '260880' }).expect(200);
    assert.equal(ok.body.ok, true);
    assert.equal(ok.body.deviceSn, 'SIM-WONDER-0001');
    assert.equal(ok.body.softwareVersion, '1.0.0(sim)');
    const wrong = await helper.request().post('/wonder-ecr/pair').send({ id: 'new-node', config: { transport: 'simulator' }, pairingCode: '123456' });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.code, 'E_SECURITY');
    assert.ok(!JSON.stringify(wrong.body).includes('123456'));
    const invalid = await helper.request().post('/wonder-ecr/pair').send({ config: { transport: 'simulator' }, pairingCode: '12' });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.field, 'pairingCode');
    const ports = await helper.request().get('/wonder-ecr/serialports').expect(200);
    assert.ok(Array.isArray(ports.body.ports));
  });

  it('the Pair endpoint takes JSON only, costs time after wrong codes, and audits every attempt without the code', async () => {
    await helper.load(allNodes, [terminal()]);
    const form = await helper.request().post('/wonder-ecr/pair').type('form').send('id=x&config[transport]=simulator&pairingCode=260880');
    assert.equal(form.status, 415);
    const text = await helper.request().post('/wonder-ecr/pair').set('content-type', 'text/plain').send('{"config":{"transport":"simulator"},"pairingCode":"260880"}');
    assert.equal(text.status, 415);
    const post = (code: string) => helper.request().post('/wonder-ecr/pair').send({ id: 'limited', config: { transport: 'simulator' }, pairingCode: code });
    for (let i = 0; i < 3; i++) assert.equal((await post('654321')).status, 403);
    const locked = await post('260880');
    assert.equal(locked.status, 429);
    assert.equal(locked.body.code, 'E_RATE_LIMITED');
    assert.ok(Number(locked.headers['retry-after']) >= 1);
    // Another terminal is not held up.
    assert.equal((await helper.request().post('/wonder-ecr/pair').send({ id: 'other', config: { transport: 'simulator' }, pairingCode: '260880' })).status, 200);
    const logged = JSON.stringify(helper.log().args);
    const audits = helper.log().args.filter((a: unknown[]) => JSON.stringify(a).includes('wonder-ecr.pair'));
    assert.ok(audits.length >= 5, `audit entries: ${audits.length}`);
    assert.ok(!logged.includes('654321') && !logged.includes('260880'), 'a pairing code reached the log');
  });
});

export type { Msg };
