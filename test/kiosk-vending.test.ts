import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { catalog, withCatalog } from './helpers/catalog';
import { helper, nextMessage, nodes, userDir, type Msg, useRuntime } from './helpers/node-red';
import { coreNode } from './helpers/node-red-install';
import type { SimulatedTerminal } from '../lib/simulator';
import type { JournalEntry } from '../lib/ledger';
import { committed } from './helpers/ledger-files';
import { until } from './helpers/wait';

const root = path.resolve(__dirname, '..', '..');
const { catch: catchNode, ...ours } = nodes;
/** This package's nodes with the real en-US texts, and the core nodes the examples use. */
const allNodes = [...withCatalog(Object.values(ours), catalog('en-US')), catchNode];
const core = ['common/20-inject.js', 'function/10-function.js', 'function/10-switch.js', 'storage/10-file.js'].map((f) => coreNode(f));

/** An example's flow, its debug nodes turned into test helpers (same ids). */
function exampleFlow(file: string): Array<Record<string, unknown>> {
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as Array<Record<string, unknown>>;
  return flow.map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z } : n));
}

/** The ledger's payments, in the order they began. */
function journal(): JournalEntry[] {
  return [...committed(path.join(userDir, 'wonder-ecr', 'ledger.db')).values()];
}

function simulator(): SimulatedTerminal {
  return (helper.getNode('wonder_vend_terminal') as unknown as { wonder: { session: { transport: { terminal: SimulatedTerminal } } } }).wonder.session.transport.terminal;
}

describe('vending example: dispense only after approval, void (or refund) when the machine cannot', function () {
  this.timeout(30_000);
  useRuntime();

  it('slot A: approved, then dispensed; nothing voided', async () => {
    await helper.load([...allNodes, ...core], exampleFlow('vending-dispense-void.json'));
    const sold = nextMessage('wonder_vend_log_sold');
    helper.getNode('wonder_vend_buy_a').receive({});
    const msg = await sold;
    assert.equal(msg.vending.state, 'dispensed');
    assert.equal(msg.wonder.outcome, 'approved');
    assert.equal(simulator().transactions.get(msg.wonder.referenceID)!.state, 'Success');
    assert.deepEqual(
      journal().map((e) => [e.action, e.state]),
      [['Sale', 'Success']],
    );
  });

  it('slot B jams: the approved sale is voided automatically, both outcomes visible and journalled', async () => {
    await helper.load([...allNodes, ...core], exampleFlow('vending-dispense-void.json'));
    let dispensed = false;
    helper.getNode('wonder_vend_log_sold').on('input', () => (dispensed = true));
    const voided = nextMessage('wonder_vend_log_voided');
    helper.getNode('wonder_vend_buy_b').receive({});
    const msg: Msg = await voided;
    assert.equal(dispensed, false);
    assert.equal(msg.vending.state, 'voided: money back');
    assert.equal(msg.vending.sale.amount, '15.00');
    assert.equal(msg.wonder.action, 'Void');
    assert.equal(msg.wonder.outcome, 'voided');
    assert.match(msg.receipt.customer.join('\n'), /VOIDED/);
    const ref = msg.vending.sale.referenceID as string;
    assert.equal(simulator().transactions.get(ref)!.state, 'Voided');
    const entries = journal();
    const sale = entries.find((e) => e.action === 'Sale' && e.referenceID === ref)!;
    const v = entries.find((e) => e.action === 'Void' && e.referenceID === ref)!;
    assert.equal(sale.state, 'Success');
    assert.equal(sale.outcome?.verdict, 'approved');
    assert.equal(v.state, 'Success');
    assert.equal(v.outcome?.verdict, 'voided');
  });

  it('slot B jams and the terminal refuses the void: the sale is refunded instead', async () => {
    await helper.load([...allNodes, ...core], exampleFlow('vending-dispense-void.json'));
    // The terminal refuses voids (as after its batch was settled).
    (simulator() as unknown as { void: () => unknown }).void = () => ({ status: 'Failed', errorCode: 'STATE', errorMessage: 'Batch settled: void not allowed' });
    const refunded = nextMessage('wonder_vend_log_refunded');
    helper.getNode('wonder_vend_buy_b').receive({});
    const msg: Msg = await refunded;
    assert.equal(msg.vending.voidReason, 'void-refused');
    assert.equal(msg.vending.state, 'refunded: money back');
    assert.equal(msg.wonder.action, 'Refund');
    assert.match(msg.receipt.customer.join('\n'), /REFUND/);
    const ref = msg.vending.sale.referenceID as string;
    const refund = [...simulator().transactions.values()].find((t) => t.kind === 'Refund')!;
    assert.equal(refund.orgReferenceID, ref);
    assert.equal(refund.state, 'Success');
    assert.equal(refund.amount, '15.00');
    const entries = journal();
    assert.equal(entries.find((e) => e.action === 'Void')!.outcome?.reason, 'void-refused');
    assert.equal(entries.find((e) => e.action === 'Refund')!.state, 'Success');
  });

  it('an outcome recovered after a restart (no msg.vending) dispenses the slot its reference names, once', async () => {
    await helper.load([...allNodes, ...core], exampleFlow('vending-dispense-void.json'));
    const handle = helper.getNode('wonder_vend_terminal') as unknown as { wonder: NodeJS.EventEmitter };
    const ref = 'VEND-A-RECOVERED-1';
    const outcome = { action: 'Sale', requestID: 'r-1', referenceID: ref, header: {}, body: { status: 'Success', amount: '12.00', currency: 'HKD' }, result: 'Success', statusQueries: 1, elapsedMs: 5 };
    const recovery = { entry: { node: 'wonder_vend_sale', referenceID: ref, action: 'Sale' }, outcome };
    const sold = nextMessage('wonder_vend_log_sold');
    handle.wonder.emit('recovered', recovery);
    const msg = await sold;
    assert.equal(msg.wonder.recovered, true);
    assert.equal(msg.vending.slot, 'A');
    assert.equal(msg.vending.state, 'dispensed');
    assert.deepEqual({ ...msg.vending.sale }, { referenceID: ref, amount: '12.00', currency: 'HKD' });
    // Reported again: not a second product.
    let dispensedAgain = false;
    helper.getNode('wonder_vend_log_sold').on('input', () => (dispensedAgain = true));
    handle.wonder.emit('recovered', recovery);
    await until('the repeat refused', () =>
      (helper.log().args as Array<Array<{ id?: string; msg?: unknown }>>).some(([e]) => e?.id === 'wonder_vend_once' && String(e.msg) === `already handled ${ref}: not again`),
    );
    assert.equal(dispensedAgain, false);
  });

  it('a record file that cannot be read: nothing dispensed, staff told with the reference', async () => {
    // vending.log is a folder here: it can be neither written nor read.
    fs.mkdirSync(path.join(process.env.WONDER_ONCE_DIR!, 'vending.log'), { recursive: true });
    await helper.load([...allNodes, ...core], exampleFlow('vending-dispense-void.json'));
    let dispensed = false;
    helper.getNode('wonder_vend_log_sold').on('input', () => (dispensed = true));
    const staff = nextMessage('wonder_vend_log_staff');
    helper.getNode('wonder_vend_buy_a').receive({});
    const msg = await staff;
    assert.match(msg.vending.state, /^not dispensed: record unreadable \(EISDIR\), check VEND-A-[^ ]+: call staff$/);
    assert.equal(dispensed, false);
    assert.equal(simulator().count('Sale'), 1);
  });

  it('the "dispensing" line not found when read back (the file node passes a message on even when its write failed): nothing dispensed, staff told', async () => {
    // The step's write does not land, and the message goes on all the same (as the file node does on a failed write).
    const flow = exampleFlow('vending-dispense-void.json').map((n) =>
      n.id === 'wonder_vend_once_claim' ? { id: n.id, type: 'function', z: n.z, name: 'a write that did not land', func: 'return msg;', outputs: 1, wires: n.wires } : n,
    );
    await helper.load([...allNodes, ...core], flow);
    let dispensed = false;
    helper.getNode('wonder_vend_log_sold').on('input', () => (dispensed = true));
    const staff = nextMessage('wonder_vend_log_staff');
    helper.getNode('wonder_vend_buy_a').receive({});
    const msg = await staff;
    assert.match(msg.vending.state, /^not dispensed: record not written \(line missing\), check VEND-A-[^ ]+: call staff$/);
    assert.equal(dispensed, false);
  });

  it('receipts example: both copies are written to the folder WONDER_RECEIPTS_DIR names, shown by its debug node, references whole', async () => {
    const flow = exampleFlow('receipts-to-file.json');
    // The folder comes from the environment, never from Node-RED's working directory.
    const dir = fs.mkdtempSync(path.join(userDir, 'receipts-'));
    const before = process.env.WONDER_RECEIPTS_DIR;
    process.env.WONDER_RECEIPTS_DIR = dir;
    try {
      await helper.load([...allNodes, ...core], flow);
      const shown: Msg[] = [];
      const written = new Promise<void>((resolve) => {
        helper.getNode('wonder_receipt_debug').on('input', (m: Msg) => {
          shown.push(m);
          if (shown.length === 2) resolve();
        });
      });
      helper.getNode('wonder_receipt_inject').receive({});
      await written;
      assert.deepEqual(shown.map((m) => m.filename).sort(), [path.join(dir, 'customer.txt'), path.join(dir, 'merchant.txt')]);
      const customer = fs.readFileSync(path.join(dir, 'customer.txt'), 'utf8');
      const merchant = fs.readFileSync(path.join(dir, 'merchant.txt'), 'utf8');
      assert.match(customer, /SALE/);
      assert.match(customer, /\*\*\*\* 0119/);
      assert.match(merchant, /Merchant copy/);
      for (const line of customer.split('\n')) assert.ok(line.length <= 48, line);
      // The reference (a generated 36-character UUID) is printed whole on one line, beside its label.
      const refs = [...customer.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)];
      assert.equal(refs.length, 1, customer);
      assert.ok(customer.split('\n').some((line) => /^Ref +[0-9a-f-]{36}$/.test(line)), customer);
    } finally {
      if (before === undefined) delete process.env.WONDER_RECEIPTS_DIR;
      else process.env.WONDER_RECEIPTS_DIR = before;
    }
  });
  it('Cancel names the machine\'s own payment: the snack still waiting behind the soda is taken out, never sent; the soda is dispensed', async () => {
    await helper.load([...allNodes, ...core], exampleFlow('vending-dispense-void.json'));
    // The soda's answer takes 1 s: the snack waits in the terminal's queue behind it.
    simulator().delays.Sale = 1_000;
    const sold = nextMessage('wonder_vend_log_sold');
    const staff = nextMessage('wonder_vend_log_staff');
    const cancelled = nextMessage('wonder_vend_log_cancel');
    // The terminal's activity: its scheduler says when a payment waits behind another.
    const wonder = (helper.getNode('wonder_vend_terminal') as unknown as { wonder: NodeJS.EventEmitter }).wonder;
    const queued = new Promise<string>((resolve) => {
      const onActivity = (a: { kind: string; referenceID?: string }) => {
        if (a.kind !== 'queued' || a.referenceID === undefined) return;
        wonder.off('activity', onActivity);
        resolve(a.referenceID);
      };
      wonder.on('activity', onActivity);
    });
    helper.getNode('wonder_vend_buy_a').receive({});
    await until('the soda at the terminal', () => simulator().count('Sale') > 0);
    helper.getNode('wonder_vend_buy_b').receive({});
    const snack = await queued;
    helper.getNode('wonder_vend_cancel').receive({ payload: 'cancel' });
    const [soda, notSent, abort] = await Promise.all([sold, staff, cancelled]);
    assert.equal(abort.wonder.referenceID, snack);
    assert.equal(abort.wonder.takenOutOfQueue, true);
    assert.equal(notSent.wonder.code, 'E_ABORTED');
    assert.equal(notSent.wonder.notSent, true);
    assert.match(notSent.vending.state, /Sale not sent \(E_ABORTED\)/);
    assert.equal(soda.vending.state, 'dispensed');
    assert.equal(simulator().count('Sale', snack), 0);
    assert.equal(simulator().count('Abort'), 0);
  });
});
