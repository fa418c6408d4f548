import { strict as assert } from 'node:assert';
import { catalog, withCatalog } from './helpers/catalog';
import { helper, messages, nextMessage, nodes, type Msg, useRuntime } from './helpers/node-red';
import { coreNode } from './helpers/node-red-install';
import { buildReceipt, displayWidth } from '../lib/session/receipt';
import { receiptTexts } from '../nodes/common/receipt-node';
import type { SimulatedTerminal } from '../lib/simulator';
import type { Terminal } from '../lib/terminal';
import { until } from './helpers/wait';

/** The nodes with the real en-US texts. */
const { catch: catchNode, ...ours } = nodes;
const allNodes = [...withCatalog(Object.values(ours), catalog('en-US')), catchNode];
const T = 'term1';
const terminal = { id: T, type: 'wonder-terminal', name: 'kiosk terminal', transport: 'simulator', timeout: '30' };

const base = [
  { id: 'f1', type: 'tab', label: 'kiosk' },
  { id: 'out', type: 'helper', z: 'f1' },
  { id: 'steps', type: 'helper', z: 'f1' },
  { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'f1' },
  { id: 'abort', type: 'wonder-abort', z: 'f1', terminal: T, wires: [[]] },
];

function payment(id: string, type: string, extra: Record<string, unknown> = {}) {
  return { id, type, z: 'f1', terminal: T, progress: true, outputs: 2, wires: [['out'], ['steps']], ...extra };
}

/** Collects progress messages until one of the final steps arrives. */
function stepsUntilFinal(timeoutMs = 20_000): Promise<Msg[]> {
  const node = helper.getNode('steps');
  const out: Msg[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no final step; got ${out.map((m) => m.wonder.progress).join(', ')}`)), timeoutMs);
    const onInput = (msg: Msg) => {
      out.push(msg);
      if (['approved', 'declined', 'unknown', 'not-sent'].includes(msg.wonder.progress)) {
        clearTimeout(timer);
        node.off('input', onInput);
        resolve(out);
      }
    };
    node.on('input', onInput);
  });
}

function assertReceiptShape(receipt: { customer: string[]; merchant: string[] }, width: number) {
  for (const line of [...receipt.customer, ...receipt.merchant]) assert.ok(displayWidth(line) <= width, `line wider than ${width}: "${line}"`);
}

describe('kiosk: progress output and receipts (Node-RED runtime, simulator)', function () {
  this.timeout(30_000);
  useRuntime();

  it('without the progress box: one output as before, now with msg.receipt', async () => {
    await helper.load(allNodes, [terminal, ...base, { id: 's', type: 'wonder-sale', z: 'f1', terminal: T, wires: [['out']] }]);
    const out = nextMessage('out');
    let stepsSeen = 0;
    helper.getNode('steps').on('input', () => stepsSeen++);
    helper.getNode('s').receive({ payload: { amount: '10.2', currency: 'HKD' } });
    const msg = await out;
    assert.equal(msg.wonder.outcome, 'approved');
    assert.ok(Array.isArray(msg.receipt.customer) && Array.isArray(msg.receipt.merchant));
    assert.equal(stepsSeen, 0);
  });

  it('an approved sale: queued, sent, waiting-card, approved, each with the reference, the amount and a display text', async () => {
    await helper.load(allNodes, [terminal, ...base, payment('s', 'wonder-sale')]);
    const steps = stepsUntilFinal();
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: 10.2, currency: 'HKD', customerOrderID: 'ORD-7' }, topic: 'kiosk-1' });
    const [all, result] = await Promise.all([steps, out]);
    assert.deepEqual(
      all.map((m) => m.wonder.progress),
      ['queued', 'sent', 'waiting-card', 'approved'],
    );
    for (const m of all) {
      assert.equal(m.wonder.referenceID, result.wonder.referenceID);
      assert.equal(m.wonder.amount, '10.20');
      assert.equal(m.wonder.currency, 'HKD');
      assert.equal(m.wonder.action, 'Sale');
      assert.equal(m.topic, 'kiosk-1');
      assert.equal(typeof m.payload, 'string');
      assert.equal(m.payload, m.wonder.text);
      assert.equal(typeof m.wonder.at, 'number');
    }
    assert.equal(all[2]!.payload, 'Tap, insert or swipe your card');
    assert.equal(all[3]!.payload, 'Payment approved. Thank you!');
    // The outcome on output 1 carries the receipt.
    const text = [...result.receipt.customer, ...result.receipt.merchant].join('\n');
    assertReceiptShape(result.receipt, 32);
    assert.match(text, /SALE/);
    assert.match(text, /HKD 10\.20/);
    assert.match(text, /VISA \*\*\*\* 0119/);
    assert.match(text, /Contactless/);
    assert.match(text, /APPROVED/);
    assert.match(text, new RegExp(result.payload.rrn));
    assert.ok(text.replace(/\s+/g, '').includes(result.wonder.referenceID), 'the reference, wrapped');
    assert.ok(!text.includes('476173'), 'the first 6 digits are never printed');
    assert.ok(!text.includes('simulated'), 'the PAN hash is never printed');
    assert.match(result.receipt.merchant.join('\n'), /ORD-7/);
    assert.doesNotMatch(result.receipt.customer.join('\n'), /ORD-7/);
  });

  it('a progress message is a copy: changing it does not change the outcome message', async () => {
    await helper.load(allNodes, [terminal, ...base, payment('s', 'wonder-sale')]);
    helper.getNode('steps').on('input', (m: Msg) => {
      m.order.touched = true;
    });
    const steps = stepsUntilFinal();
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '1.00', currency: 'HKD' }, order: { slot: 'A' } });
    const [all, result] = await Promise.all([steps, out]);
    assert.equal(all.at(-1)!.order.slot, 'A');
    assert.deepEqual(result.order, { slot: 'A' });
  });

  it('a declined sale (900.01): declined step, and a DECLINED receipt', async () => {
    await helper.load(allNodes, [terminal, ...base, payment('s', 'wonder-sale', { receiptWidth: '48' })]);
    const steps = stepsUntilFinal();
    const out = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '900.01', currency: 'HKD' } });
    const [all, result] = await Promise.all([steps, out]);
    assert.equal(all.at(-1)!.wonder.progress, 'declined');
    assert.equal(all.at(-1)!.payload, 'Payment declined');
    assert.equal(all.at(-1)!.wonder.cancelled, undefined);
    assertReceiptShape(result.receipt, 48);
    assert.ok(result.receipt.customer.some((l: string) => l.length > 32), 'a 48-column receipt uses the width');
    assert.match(result.receipt.customer.join('\n'), /DECLINED/);
    assert.match(result.receipt.merchant.join('\n'), /Error code\s+05/);
  });

  it('Abort while the card is awaited (900.05): the sale ends declined and marked cancelled', async () => {
    await helper.load(allNodes, [terminal, ...base, payment('s', 'wonder-sale')]);
    const steps = stepsUntilFinal();
    const stepNode = helper.getNode('steps');
    stepNode.on('input', (m: Msg) => {
      if (m.wonder.progress === 'waiting-card') helper.getNode('abort').receive({});
    });
    helper.getNode('s').receive({ payload: { amount: '900.05', currency: 'HKD' } });
    const all = await steps;
    const last = all.at(-1)!;
    assert.equal(last.wonder.progress, 'declined');
    assert.equal(last.wonder.cancelled, true);
    assert.equal(last.payload, 'Payment cancelled');
  });

  it('an outcome asked about (900.02 Pending): checking, then approved', async () => {
    await helper.load(allNodes, [{ ...terminal, pollInterval: '0.2' }, ...base, payment('s', 'wonder-sale')]);
    const steps = stepsUntilFinal(20_000);
    helper.getNode('s').receive({ payload: { amount: '900.02', currency: 'HKD' } });
    const all = await steps;
    assert.deepEqual(
      all.map((m) => m.wonder.progress),
      ['queued', 'sent', 'waiting-card', 'checking', 'approved'],
    );
    assert.equal(all[3]!.payload, 'Checking your payment…');
  });

  it('bad input: not-sent, and nothing reaches the terminal', async () => {
    await helper.load(allNodes, [terminal, ...base, payment('s', 'wonder-sale')]);
    const steps = stepsUntilFinal();
    const caught = nextMessage('caught');
    helper.getNode('s').receive({ payload: { amount: '-1', currency: 'HKD' } });
    const [all, err] = await Promise.all([steps, caught]);
    assert.deepEqual(
      all.map((m) => m.wonder.progress),
      ['not-sent'],
    );
    assert.equal(all[0]!.wonder.code, 'E_VALIDATION');
    assert.equal(err.wonder.notSent, true);
  });

  it('refund and void: refund texts and receipts; the void receipt takes the amount from the journal', async () => {
    await helper.load(allNodes, [
      terminal,
      ...base,
      payment('s', 'wonder-sale'),
      payment('r', 'wonder-refund'),
      { id: 'v', type: 'wonder-void', z: 'f1', terminal: T, wires: [['out']] },
    ]);
    const sold = nextMessage('out');
    helper.getNode('s').receive({ payload: { amount: '20.00', currency: 'HKD' } });
    const sale = await sold;
    const steps = stepsUntilFinal();
    const refunded = nextMessage('out');
    helper.getNode('r').receive({ payload: { amount: '5.00', currency: 'HKD', orgReferenceID: sale.wonder.referenceID } });
    const [all, refund] = await Promise.all([steps, refunded]);
    assert.equal(all.find((m) => m.wonder.progress === 'waiting-card')!.payload, 'Tap, insert or swipe your card for the refund');
    assert.equal(all.at(-1)!.payload, 'Refund approved');
    const refundText = refund.receipt.customer.join('\n');
    assert.match(refundText, /REFUND/);
    assert.match(refundText, /HKD 5\.00/);
    assert.match(refundText, /Orig\. ref/);
    // Void the refund (its own transaction).
    const voided = nextMessage('out');
    helper.getNode('v').receive({ payload: { orgReferenceID: refund.wonder.referenceID } });
    const v = await voided;
    assert.equal(v.wonder.outcome, 'voided');
    const voidText = v.receipt.customer.join('\n');
    assertReceiptShape(v.receipt, 32);
    assert.match(voidText, /VOID/);
    assert.match(voidText, /HKD 5\.00/);
    assert.match(voidText, /VOIDED/);
  });
});

describe('Abort names the payment it cancels (Node-RED runtime, simulator)', function () {
  this.timeout(30_000);
  useRuntime();

  /** Two flows on one terminal: another flow's sale, and a kiosk with its own sale and its own Cancel. */
  const flows = [
    terminal,
    ...base,
    { id: 'otherSale', type: 'wonder-sale', z: 'f1', terminal: T, wires: [['otherOut']] },
    { id: 'otherOut', type: 'helper', z: 'f1' },
    { id: 'kioskSale', type: 'wonder-sale', z: 'f1', terminal: T, progress: true, outputs: 2, wires: [['kioskOut'], ['steps']] },
    { id: 'kioskOut', type: 'helper', z: 'f1' },
    { id: 'kioskCancel', type: 'wonder-abort', z: 'f1', terminal: T, wires: [['cancelOut']] },
    { id: 'cancelOut', type: 'helper', z: 'f1' },
  ];
  const simulator = () => (helper.getNode(T) as unknown as { wonder: { session: { transport: { terminal: SimulatedTerminal } } } }).wonder.session.transport.terminal;
  /** Resolves once the terminal has received a request of `action` (it is then at the terminal). */
  const reached = async (action: 'Sale' | 'Abort' | 'DeviceInfo', referenceID?: string) => {
    await until(`a ${action}${referenceID ? ` ${referenceID}` : ''} at the terminal`, () => simulator().count(action, referenceID) > 0);
  };

  it("a kiosk sale queued behind another flow's sale, cancelled by its reference: E_ABORTED, notSent, never sent; the other sale is approved", async () => {
    await helper.load(allNodes, flows);
    // The other flow's sale holds the terminal: approved at once, answered 1.5 s later.
    simulator().delays.Sale = 1_500;
    const otherOut = nextMessage('otherOut');
    helper.getNode('otherSale').receive({ payload: { amount: '7.00', currency: 'HKD', referenceID: 'OTHER-1' } });
    await reached('Sale', 'OTHER-1');
    const caught = nextMessage('caught');
    const steps = stepsUntilFinal();
    // Waiting in the terminal's queue behind the other sale (its scheduler says so).
    const queued = new Promise<void>((resolve) => {
      const wonder = (helper.getNode(T) as unknown as { wonder: NodeJS.EventEmitter }).wonder;
      const onActivity = (a: { kind: string; referenceID?: string }) => {
        if (a.kind !== 'queued' || a.referenceID !== 'KIOSK-1') return;
        wonder.off('activity', onActivity);
        resolve();
      };
      wonder.on('activity', onActivity);
    });
    helper.getNode('kioskSale').receive({ payload: { amount: '25.00', currency: 'HKD', referenceID: 'KIOSK-1' } });
    await queued;
    const cancelled = nextMessage('cancelOut');
    helper.getNode('kioskCancel').receive({ payload: { referenceID: 'KIOSK-1' } });
    const [abort, err, other] = await Promise.all([cancelled, caught, otherOut]);
    assert.equal(abort.wonder.result, 'Success');
    assert.equal(abort.wonder.takenOutOfQueue, true);
    assert.equal(abort.wonder.referenceID, 'KIOSK-1');
    assert.equal(err.wonder.code, 'E_ABORTED');
    assert.equal(err.wonder.notSent, true);
    assert.equal(err.wonder.referenceID, 'KIOSK-1');
    assert.equal(other.wonder.outcome, 'approved');
    // A customer display hears "cancelled", not "please try again".
    const last = (await steps).at(-1)!;
    assert.equal(last.wonder.progress, 'not-sent');
    assert.equal(last.wonder.cancelled, true);
    assert.equal(last.payload, 'Payment cancelled');
    // Nothing after: the kiosk's sale never reached the terminal, and no Abort went out.
    simulator().delays.Sale = 0;
    const next = nextMessage('otherOut');
    helper.getNode('otherSale').receive({ payload: { amount: '1.00', currency: 'HKD', referenceID: 'OTHER-2' } });
    assert.equal((await next).wonder.outcome, 'approved');
    assert.equal(simulator().count('Sale', 'KIOSK-1'), 0);
    assert.equal(simulator().transactions.has('KIOSK-1'), false);
    assert.equal(simulator().count('Abort'), 0);
  });

  it("the kiosk's Cancel while another flow's sale runs does not abort that sale: E_NOT_FOUND, nothing sent", async () => {
    await helper.load(allNodes, flows);
    // The kiosk's own payment is over (approved); the other flow's sale then waits for its card.
    const kioskOut = nextMessage('kioskOut');
    helper.getNode('kioskSale').receive({ payload: { amount: '25.00', currency: 'HKD', referenceID: 'KIOSK-2' } });
    assert.equal((await kioskOut).wonder.outcome, 'approved');
    simulator().delays.Sale = 1_000;
    const otherOut = nextMessage('otherOut');
    helper.getNode('otherSale').receive({ payload: { amount: '7.00', currency: 'HKD', referenceID: 'OTHER-3' } });
    await reached('Sale', 'OTHER-3');
    const caught = nextMessage('caught');
    helper.getNode('kioskCancel').receive({ payload: { referenceID: 'KIOSK-2' } });
    const err = await caught;
    assert.equal(err.wonder.code, 'E_NOT_FOUND');
    assert.equal(err.wonder.notSent, true);
    assert.equal(err.wonder.referenceID, 'KIOSK-2');
    const other = await otherOut;
    assert.equal(other.wonder.outcome, 'approved');
    assert.equal(simulator().count('Abort'), 0);
  });

  it('Cancel naming the running sale aborts it at the terminal: outcome declined, reason aborted (never declined)', async () => {
    await helper.load(allNodes, flows);
    const kioskOut = nextMessage('kioskOut');
    helper.getNode('kioskSale').receive({ payload: { amount: '900.05', currency: 'HKD', referenceID: 'KIOSK-3' } });
    await reached('Sale', 'KIOSK-3');
    const cancelled = nextMessage('cancelOut');
    helper.getNode('kioskCancel').receive({ payload: { referenceID: 'KIOSK-3' } });
    const [abort, out] = await Promise.all([cancelled, kioskOut]);
    assert.equal(abort.wonder.result, 'Success');
    assert.equal(abort.wonder.referenceID, 'KIOSK-3');
    assert.equal(out.wonder.outcome, 'declined');
    assert.equal(out.wonder.reason, 'aborted');
    assert.equal(simulator().transactions.get('KIOSK-3')!.state, 'Failed');
    assert.equal(simulator().count('Abort'), 1);
  });

  it('a sale waiting in front of the queue (behind a health check) is taken out too, with a repeat of the same order, and never sent', async () => {
    // The idle health check (every 5 s, the shortest) holds new requests until it is answered; the terminal answers it slowly.
    await helper.load(allNodes, [{ ...terminal, healthCheck: '5' }, ...flows.slice(1)]);
    await reached('DeviceInfo');
    const checks = simulator().count('DeviceInfo');
    simulator().delays.DeviceInfo = 1_500;
    await until('the next health check at the terminal', () => simulator().count('DeviceInfo') > checks);
    const caught = messages('caught', 2);
    // The same order delivered twice: both copies wait.
    helper.getNode('kioskSale').receive({ payload: { amount: '25.00', currency: 'HKD', referenceID: 'KIOSK-4' } });
    helper.getNode('kioskSale').receive({ payload: { amount: '25.00', currency: 'HKD', referenceID: 'KIOSK-4' } });
    // Both wait in the terminal's scheduler, behind the check.
    const scheduler = (helper.getNode(T) as unknown as { wonder: Terminal }).wonder.scheduler;
    await until('both copies of KIOSK-4 waiting in the scheduler', () => scheduler.queue.filter((j) => j.referenceID === 'KIOSK-4').length === 2);
    assert.equal(scheduler.running?.kind, 'health');
    const cancelled = nextMessage('cancelOut');
    helper.getNode('kioskCancel').receive({ payload: { referenceID: 'KIOSK-4' } });
    const [abort, errs] = await Promise.all([cancelled, caught]);
    assert.equal(abort.wonder.takenOutOfQueue, true);
    for (const err of errs) {
      assert.equal(err.wonder.code, 'E_ABORTED');
      assert.equal(err.wonder.notSent, true);
    }
    // The check answered, the terminal free again: a new sale goes out, the cancelled one never did.
    simulator().delays.DeviceInfo = 0;
    const otherOut = nextMessage('otherOut');
    helper.getNode('otherSale').receive({ payload: { amount: '1.00', currency: 'HKD', referenceID: 'OTHER-4' } });
    assert.equal((await otherOut).wonder.outcome, 'approved');
    assert.equal(simulator().count('Sale', 'KIOSK-4'), 0);
    assert.equal(simulator().count('Abort'), 0);
  });

  it('a bad reference is refused naming the field, and nothing is sent', async () => {
    await helper.load(allNodes, flows);
    const caught = nextMessage('caught');
    const before = simulator().received.length;
    helper.getNode('kioskCancel').receive({ payload: { referenceID: 'no spaces allowed' } });
    const err = await caught;
    assert.equal(err.wonder.code, 'E_VALIDATION');
    assert.match(err.error.message, /referenceID/);
    assert.equal(simulator().received.length, before);
  });
});

describe("a terminal's health for a status node (the store manager page's source)", function () {
  this.timeout(30_000);
  useRuntime();

  it("a status node scoped to a transaction status node hears its terminal's state from the start, with no request made", async () => {
    const statusNode = coreNode('common/25-status.js');
    await helper.load([...allNodes, statusNode], [
      terminal,
      { id: 'f1', type: 'tab', label: 'store' },
      { id: 'health', type: 'wonder-status', z: 'f1', name: 'kiosk terminal', terminal: T, wires: [[]] },
      { id: 'watch', type: 'status', z: 'f1', scope: ['health'], wires: [['heard']] },
      { id: 'heard', type: 'helper', z: 'f1' },
    ]);
    const heard = helper.getNode('heard');
    const seen: Msg[] = [];
    heard.on('input', (m: Msg) => seen.push(m));
    // The simulated terminal is ready at once, while the flow is still being created.
    const ready = await until('the simulated terminal ready', () => seen.find((m) => /:status\.simulated$/.test(String(m.status?.text))));
    assert.equal(ready.status.fill, 'green');
    assert.equal(ready.status.source.id, 'health');
    assert.equal(ready.status.source.name, 'kiosk terminal');
  });
});

describe('receipt lines (lib/receipt) in each language', () => {
  const body = {
    status: 'Success',
    errorCode: '',
    errorMessage: '',
    currency: 'HKD',
    amount: '10.20',
    paymentMethod: 'visa',
    paymentEntryType: 'contactless',
    rrn: '3263492852830699521',
    brn: '3263492852495159296',
    transactionStatus: 'Success',
    transactionTime: '2023-06-30T09:08:52+08:00',
    creditCard: { panPrefix6Digits: '555555', panLast4Digits: '1234', panHash: 'xxxxxxx', panToken: 'tok' },
  };
  for (const lang of ['en-US', 'zh-TW', 'zh-CN'] as const) {
    for (const width of [32, 48] as const) {
      it(`${lang}, ${width} columns: every line fits, the card shows its last 4 only, the terminal's own time`, () => {
        const RED = { _: catalog(lang) } as unknown as Parameters<typeof receiptTexts>[0];
        const receipt = buildReceipt(
          { action: 'Sale', verdict: 'approved', referenceID: 'f8b13b22-16ca-4a87-95a4-df4bebf09ee1', terminal: 'NEXGO-N96-1170270945', body, width },
          receiptTexts(RED),
        );
        for (const line of [...receipt.customer, ...receipt.merchant]) assert.ok(displayWidth(line) <= width, `"${line}" is ${displayWidth(line)} columns`);
        const text = receipt.customer.join('\n');
        assert.ok(!text.includes('555555') && !text.includes('xxxxxxx') && !text.includes('tok'));
        assert.match(text, /VISA \*\*\*\* 1234/);
        assert.match(text, /2023-06-30 09:08:52/);
        assert.match(text, /HKD 10\.20/);
        assert.ok(text.replace(/\s+/g, '').includes('f8b13b22-16ca-4a87-95a4-df4bebf09ee1'));
        if (lang === 'zh-TW') assert.match(text, /銷售[\s\S]*顧客存根[\s\S]*感應[\s\S]*核准/);
        if (lang === 'zh-CN') assert.match(text, /消费[\s\S]*持卡人存根[\s\S]*非接触[\s\S]*批准/);
      });
    }
  }

  it('a terminal text is printed clean: control characters dropped, at most 64 characters', () => {
    const receipt = buildReceipt(
      { action: 'Sale', verdict: 'declined', referenceID: 'r-1', body: { ...body, status: 'Failed', errorCode: `05\u001b[2J${'9'.repeat(100)}` }, width: 32 },
      receiptTexts({ _: catalog('en-US') } as never),
    );
    const merchant = receipt.merchant.join('');
    assert.ok(!merchant.includes('\u001b'));
    assert.ok(!merchant.includes('9'.repeat(63)));
    for (const line of receipt.merchant) assert.ok(displayWidth(line) <= 32);
  });

  it('a wide CJK text counts two columns each', () => {
    assert.equal(displayWidth('付款成功'), 8);
    assert.equal(displayWidth('HKD 10.20'), 9);
  });
});
