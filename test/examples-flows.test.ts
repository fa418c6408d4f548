import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allNodes, helper, type Msg, useRuntime } from './helpers/node-red';
import type { Terminal } from '../lib/terminal';
import { until } from './helpers/wait';

const root = path.resolve(__dirname, '..', '..');
const core = [
  require('@node-red/nodes/core/common/20-inject.js'),
  require('@node-red/nodes/core/common/21-debug.js'),
  require('@node-red/nodes/core/common/90-comment.js'),
  require('@node-red/nodes/core/function/10-function.js'),
  require('@node-red/nodes/core/function/10-switch.js'),
  require('@node-red/nodes/core/function/15-change.js'),
  require('@node-red/nodes/core/function/89-delay.js'),
  require('@node-red/nodes/core/storage/10-file.js'),
];

type FlowNode = Record<string, any> & { id: string; type: string };
function example(name: string): FlowNode[] {
  return JSON.parse(fs.readFileSync(path.join(root, 'examples', `${name}.json`), 'utf8')) as FlowNode[];
}

/** Messages reaching a node, from now on. */
function collect(id: string): Msg[] {
  const got: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => got.push(m));
  return got;
}


/** Warnings "already dispensed" the kiosk's dispense-once node logged. */
const refusals = () =>
  (helper.log().args as Array<Array<{ id?: string; msg?: unknown }>>).filter(([e]) => e?.id === 'wonder_kiosk_once' && /already dispensed/.test(String(e.msg))).length;

const press = (id: string) => (helper.getNode(id) as unknown as { receive(m: unknown): void }).receive({});

describe('the kiosk example: one payment, one product', function () {
  this.timeout(30_000);
  useRuntime();

  /** The kiosk example, with its waits shortened (card wait 2 s, unknown outcome 0.3 s, checks every 0.5 s). */
  async function loadKiosk(): Promise<{ dispensed: Msg[]; declined: Msg[]; staff: Msg[] }> {
    const flow = example('kiosk-sale').map((n) => {
      if (n.type === 'wonder-terminal') return { ...n, timeout: '2', resolveTimeout: '0.3', pollInterval: '0.1' };
      if (n.id === 'wonder_kiosk_wait') return { ...n, timeout: '0.5' };
      return n;
    });
    await helper.load([...allNodes, ...core], flow);
    return { dispensed: collect('wonder_kiosk_dispense'), declined: collect('wonder_kiosk_declined'), staff: collect('wonder_kiosk_staff') };
  }

  it('approved: dispenses once; declined: shows the decline and dispenses nothing', async () => {
    const k = await loadKiosk();
    press('wonder_kiosk_coffee');
    await until('a dispense', () => k.dispensed.length === 1, 15_000);
    assert.equal(k.dispensed[0]!.dispense.via, 'sale');
    press('wonder_kiosk_decline');
    await until('the decline', () => k.declined.length === 1, 15_000);
    assert.equal(k.declined[0]!.wonder.result, 'Failed');
    assert.equal(k.dispensed.length, 1);
    assert.equal(k.staff.length, 0);
  });

  it('a lost answer (900.03) is settled by the terminal\'s status and dispenses once', async () => {
    const k = await loadKiosk();
    press('wonder_kiosk_lost');
    await until('a dispense', () => k.dispensed.length === 1, 20_000);
    assert.equal(k.dispensed[0]!.wonder.resolvedBy, 'TransactionStatus');
  });

  it('E_PENDING: asks the status with the same referenceID until it is known, dispenses once, never sends the sale again', async () => {
    const k = await loadKiosk();
    // What each message into the result switch said, as it passed (the same msg object goes round the loop).
    const results: string[] = [];
    helper.getNode('wonder_kiosk_result').on('input', (m: Msg) => results.push(`${m.wonder.action} ${m.wonder.result}`));
    press('wonder_kiosk_pending');
    await until('a dispense', () => k.dispensed.length === 1, 20_000);
    const d = k.dispensed[0]!;
    // Learnt by the kiosk's status check; the sale node tells the flow too (recovered: true), once. Whichever
    // reaches the result first dispenses; the other is refused.
    assert.ok(['recovered', 'status check'].includes(d.dispense.via), d.dispense.via);
    await until('both told', () => results.includes('TransactionStatus Success') && results.includes('Sale Success'), 20_000);
    await until('the second refused', () => refusals() === 1);
    const sim = ((helper.getNode('wonder_kiosk_terminal') as unknown as { wonder: Terminal }).wonder.session!.transport as unknown as {
      terminal: { count(action: string): number };
    }).terminal;
    assert.equal(sim.count('Sale'), 1, 'the sale was sent once');
    assert.equal(results[0], 'TransactionStatus Pending', JSON.stringify(results));
    assert.equal(results.filter((r) => r === 'Sale Success').length, 1, JSON.stringify(results));
    // The same Success again (a redelivery): not a second product.
    const seen = results.length;
    helper.getNode('wonder_kiosk_result').receive({ ...d, payload: {} });
    await until('the repeat refused', () => results.length === seen + 1 && refusals() === 2, 15_000);
    assert.equal(k.dispensed.length, 1);
    assert.equal(k.staff.length, 0);
  });

  it('Cancel names the kiosk\'s own payment: a slow cardholder cancelled ends declined with reason aborted; nothing dispensed', async () => {
    const k = await loadKiosk();
    const sim = ((helper.getNode('wonder_kiosk_terminal') as unknown as { wonder: Terminal }).wonder.session!.transport as unknown as {
      terminal: { count(action: string, referenceID?: string): number; transactions: Map<string, { state: string; errorCode: string }> };
    }).terminal;
    const names = collect('wonder_kiosk_sale');
    const cancels = collect('wonder_kiosk_cancelled');
    press('wonder_kiosk_slow');
    await until('the sale at the terminal', () => names.length === 1 && sim.count('Sale', names[0]!.payload.referenceID) === 1, 15_000);
    const referenceID = names[0]!.payload.referenceID as string;
    assert.match(referenceID, /^KIOSK-/);
    press('wonder_kiosk_cancel');
    await until('the decline', () => k.declined.length === 1, 15_000);
    assert.equal(k.declined[0]!.wonder.referenceID, referenceID);
    assert.equal(k.declined[0]!.wonder.reason, 'aborted');
    assert.equal(sim.transactions.get(referenceID)!.errorCode, 'ABORTED');
    await until('the abort answered', () => cancels.length === 1, 15_000);
    assert.equal(cancels[0]!.wonder.referenceID, referenceID);
    // Cancel again: that payment is over; nothing to abort, nothing sent.
    press('wonder_kiosk_cancel');
    await until('the second cancel answered', () => cancels.length === 2, 15_000);
    assert.equal(cancels[1]!.error?.message !== undefined && cancels[1]!.wonder.code, 'E_NOT_FOUND');
    assert.equal(sim.count('Abort'), 1);
    assert.equal(k.dispensed.length, 0);
  });

  it('a record file that cannot be read: nothing dispensed, staff told with the reference', async () => {
    // kiosk.log is a folder here: it can be neither written nor read.
    fs.mkdirSync(path.join(process.env.WONDER_ONCE_DIR!, 'kiosk.log'), { recursive: true });
    const k = await loadKiosk();
    press('wonder_kiosk_coffee');
    await until('staff called', () => k.staff.length === 1, { within: 15_000, detail: () => JSON.stringify(helper.log().args.filter((a: any[]) => a[0]?.level <= 30)) });
    assert.match(k.staff[0]!.payload, /^not dispensed: record unreadable \(EISDIR\), check KIOSK-[^ ]+$/);
    assert.equal(k.dispensed.length, 0);
  });

  it('a payment recovered after a restart dispenses once, even when it is reported again', async () => {
    const k = await loadKiosk();
    const handle = (helper.getNode('wonder_kiosk_terminal') as unknown as { wonder: Terminal }).wonder;
    const outcome = { action: 'Sale', requestID: 'r-1', referenceID: 'REF-RECOVERED-1', header: {}, body: { status: 'Success' }, result: 'Success', statusQueries: 1, elapsedMs: 5 };
    const recovery = { entry: { node: 'wonder_kiosk_sale', referenceID: 'REF-RECOVERED-1', action: 'Sale' }, outcome };
    handle.emit('recovered', recovery);
    await until('a dispense', () => k.dispensed.length === 1, 15_000);
    assert.equal(k.dispensed[0]!.dispense.via, 'recovered');
    assert.equal(k.dispensed[0]!.dispense.referenceID, 'REF-RECOVERED-1');
    const repeats = collect('wonder_kiosk_result');
    handle.emit('recovered', recovery);
    handle.emit('recovered', recovery);
    await until('the repeats refused', () => repeats.length === 2 && refusals() === 2, 15_000);
    assert.equal(k.dispensed.length, 1);
  });
});
