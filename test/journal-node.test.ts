import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { allNodes, helper, nextMessage, type Msg, userDir, useRuntime } from './helpers/node-red';
import type { JournalEntry } from '../lib/ledger';
import { fillLedger } from '../bench/ledger-fill';
import { registeredTerminal } from '../nodes/common/terminal-registry';

const journalNode = require('../nodes/wonder-journal.js');
const nodes = [...allNodes, journalNode];

function terminal(id: string, name = `terminal ${id}`) {
  return { id, type: 'wonder-terminal', name, transport: 'simulator', timeout: '30' };
}

const tab = { id: 'f1', type: 'tab', label: 'test' };
const sinks = [
  tab,
  { id: 'out', type: 'helper', z: 'f1' },
  { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
  { id: 'paid', type: 'helper', z: 'f1' },
];

function pay(id: string, type: string, terminalId: string) {
  return { id, type, z: 'f1', terminal: terminalId, wires: [['paid']] };
}

async function send(id: string, payload: unknown): Promise<Msg> {
  const next = nextMessage('paid');
  helper.getNode(id).receive({ payload });
  return next;
}

async function ask(payload: unknown, node = 'j'): Promise<Msg> {
  const next = nextMessage('out');
  helper.getNode(node).receive({ payload });
  return next;
}

async function refused(payload: unknown, node = 'j'): Promise<Msg> {
  const caught = nextMessage('caught');
  let out: Msg | undefined;
  helper.getNode('out').once('input', (m: Msg) => (out = m));
  helper.getNode(node).receive({ payload });
  const msg = await caught;
  assert.equal(out, undefined, 'nothing on the output');
  return msg;
}

describe('wonder-journal node (real runtime, simulated terminals)', function () {
  this.timeout(30_000);
  useRuntime();

  it('totals, open and list of payments made through the payment nodes', async () => {
    await helper.load(nodes, [
      terminal('tA', 'counter'), terminal('tB', 'kiosk'), ...sinks,
      pay('saleA', 'wonder-sale', 'tA'), pay('refundA', 'wonder-refund', 'tA'), pay('voidA', 'wonder-void', 'tA'), pay('saleB', 'wonder-sale', 'tB'),
      { id: 'j', type: 'wonder-journal', z: 'f1', terminal: 'tA', operation: 'totals', wires: [['out']] },
      { id: 'all', type: 'wonder-journal', z: 'f1', terminal: '', operation: 'list', wires: [['out']] },
    ]);
    const s1 = await send('saleA', { amount: '0.10', currency: 'TWD', referenceID: 'A-1' });
    assert.equal(s1.wonder.result, 'Success');
    await send('saleA', { amount: '0.20', currency: 'TWD', referenceID: 'A-2' });
    await send('saleA', { amount: '900.01', currency: 'TWD', referenceID: 'A-3' });
    await send('refundA', { amount: '0.05', currency: 'TWD', orgReferenceID: 'A-1', referenceID: 'A-4' });
    const v = await send('voidA', { orgReferenceID: 'A-2' });
    assert.equal(v.wonder.result, 'Success');
    await send('saleB', { amount: '7.00', currency: 'USD', referenceID: 'B-1' });
    // A payment whose outcome is not known yet: on the journal before it leaves.
    await registeredTerminal('tA')!.handle.journal!.begin({ referenceID: 'A-5', action: 'Sale', amount: '3.00', currency: 'TWD', terminal: registeredTerminal('tA')!.identity, requestID: 'r-open' });

    const totals = await ask({ day: 'today' });
    assert.deepEqual(totals.payload, [{
      terminal: 'tA', currency: 'TWD',
      sales: { count: 2, amount: '0.30' }, refunds: { count: 1, amount: '0.05' }, voids: { count: 1, amount: '0.20' },
      declined: { count: 1 }, unknown: { count: 1 }, unpriced: { count: 0 }, net: '0.05',
      terminalId: 'tA', terminalName: 'counter',
    }]);
    assert.equal(totals.journal.operation, 'totals');
    assert.deepEqual(totals.journal.terminals, [{ id: 'tA', name: 'counter' }]);

    const open = await ask({ operation: 'open' });
    assert.deepEqual(open.payload.map((e: Msg) => [e.referenceID, e.state]), [['A-5', 'open']]);

    // Every deployed terminal; by name; filtered by result.
    const all = await ask({ operation: 'totals' }, 'all');
    assert.deepEqual(all.payload.map((r: Msg) => [r.terminal, r.currency, r.net]), [['tA', 'TWD', '0.05'], ['tB', 'USD', '7.00']]);
    const kiosk = await ask({ terminal: 'kiosk' }, 'all');
    assert.deepEqual(kiosk.payload.map((e: Msg) => e.referenceID), ['B-1']);
    const declined = await ask({ result: 'declined' }, 'all');
    assert.deepEqual(declined.payload.map((e: Msg) => e.referenceID), ['A-3']);
    const two = await ask({ terminal: 'tA', limit: 2 }, 'all');
    assert.equal(two.payload.length, 2);
    assert.equal(two.journal.truncated, true);
    // Nothing secret or card-like in what the node gives.
    assert.ok(!JSON.stringify([totals, open, all, two].map((m) => m.payload)).includes('260880'));
  });

  it('reads a month long past (the ledger keeps it: no archives)', async () => {
    await helper.load(nodes, [terminal('tA'), ...sinks, { id: 'j', type: 'wonder-journal', z: 'f1', terminal: 'tA', operation: 'totals', wires: [['out']] }]);
    const reg = registeredTerminal('tA')!;
    const old: JournalEntry = { referenceID: 'OLD-1', action: 'Sale', amount: '12.34', currency: 'TWD', terminal: reg.identity, requestID: 'r', state: 'Success', openedAt: '2026-01-15T10:00:00.000Z', outcome: { verdict: 'approved' } };
    fillLedger(path.join(userDir, 'wonder-ecr', 'ledger.db'), [old]);
    const jan = await ask({ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' });
    assert.deepEqual(jan.payload.map((r: Msg) => [r.terminal, r.sales.amount]), [['tA', '12.34']]);
    const feb = await ask({ from: '2026-02-01T00:00:00Z', to: '2026-03-01T00:00:00Z' });
    assert.deepEqual(feb.payload, []);
  });

  it('bad input: an error naming the field, nothing sent on', async () => {
    await helper.load(nodes, [terminal('tA'), ...sinks, { id: 'j', type: 'wonder-journal', z: 'f1', terminal: '', operation: '', wires: [['out']] }]);
    const cases: Array<[unknown, string]> = [
      [{ operation: 'sum' }, 'operation'],
      [{}, 'operation'],
      ['totals', 'payload'],
      [{ operation: 'totals', from: 'yesterday' }, 'from'],
      [{ operation: 'totals', from: '2026-11-30', to: '2026-11-29' }, 'to'],
      [{ operation: 'totals', day: 'someday' }, 'day'],
      [{ operation: 'totals', day: 'today', from: '2026-11-29' }, 'day'],
      [{ operation: 'list', state: 'done' }, 'state'],
      [{ operation: 'list', limit: 0 }, 'limit'],
      [{ operation: 'list', limit: '5' }, 'limit'],
      [{ operation: 'open', terminal: 'nowhere' }, 'terminal'],
      [{ operation: 'open', terminal: 5 }, 'terminal'],
    ];
    for (const [payload, field] of cases) {
      const msg = await refused(payload);
      assert.equal(msg.error.source.id, 'j');
      // Translated: "<the field's rule> (field: given)"; where no catalog is loaded: "field: detail".
      assert.equal(fieldFrom(msg.error.message), field, `${JSON.stringify(payload)}: ${msg.error.message}`);
    }
  });

  it('a terminal chosen in the node that is not deployed is a clear error', async () => {
    await helper.load(nodes, [...sinks, { id: 'j', type: 'wonder-journal', z: 'f1', terminal: 'gone', operation: 'totals', wires: [['out']] }]);
    const msg = await refused({});
    assert.equal(fieldFrom(msg.error.message), 'terminal', msg.error.message);
    assert.match(msg.error.message, /not deployed/);
  });
});

function fieldFrom(message: string): string | undefined {
  return (/\((\w+): /.exec(message) ?? /^(?:\w*Error: )?(\w+): /.exec(message))?.[1];
}
