import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { openLedger, WonderCipher, type Ledger } from '../lib';
import { checkRefund, PendingError, RefundRefusedError, TerminalSession, type RefundBasis } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';
import { ScriptedTransport } from './helpers/scripted-transport';
import { describeError } from '../nodes/common/i18n';

/**
 * One reference, one payment; refunds bounded by their sale. Every refusal
 * is checked to have sent nothing: the terminal (simulated or scripted) saw
 * no request of that kind.
 */
const PIN = '260880';
const cipher = new WonderCipher(PIN);

let dir: string;
const sessions: TerminalSession[] = [];
const journals: Ledger[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-refund-'));
});
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close();
  for (const j of journals.splice(0)) await j.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function journal(): Ledger {
  const j = openLedger(path.join(dir, `j-${journals.length}.db`));
  journals.push(j);
  return j;
}

async function open(transport: SimulatorTransport | ScriptedTransport, withJournal: Ledger | null = journal(), extra: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
  const s = new TerminalSession({
    transport,
    pairingCode: PIN,
    clientDeviceSN: 'T',
    commandTimeoutMs: 300,
    paymentTimeoutMs: 5_000,
    statusPollIntervalMs: 20,
    resolveTimeoutMs: 300,
    ...(withJournal === null ? {} : { journal: withJournal }),
    ...extra,
  });
  sessions.push(s);
  await s.open();
  return s;
}

async function simulated(withJournal: Ledger | null = journal()) {
  const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
  const session = await open(new SimulatorTransport({ terminal }), withJournal);
  return { terminal, session };
}

/** The error a refused request gives: its code, field and that nothing was sent. */
function refused(code: string, field: string | undefined, referenceID?: string) {
  return (err: unknown) => {
    const e = err as { code?: string; field?: string; notSent?: boolean; referenceID?: string };
    assert.equal(e.code, code, String(err));
    assert.equal(e.field, field, String(err));
    assert.equal(e.notSent, true, String(err));
    if (referenceID !== undefined) assert.equal(e.referenceID, referenceID);
    return true;
  };
}

const approved = (amount: string, extra: Record<string, unknown> = {}) => ({ status: 'Success', errorCode: '', errorMessage: '', amount, currency: 'HKD', transactionStatus: 'Success', ...extra });

describe('one reference, one payment', () => {
  it('a Refund with the referenceID of a Sale in flight is refused unsent (E_REFERENCE_TAKEN), never joined to it; the Sale goes on', async () => {
    let release: (() => void) | undefined;
    const t = new ScriptedTransport(cipher, (tr, id, action) => {
      if (action === 'Sale') release = () => tr.answer(id, 'Sale', approved('10.20'));
    });
    // No journal: what is queued or in flight is known all the same.
    const s = await open(t, null);
    const sale = s.request('Sale', { amount: '10.20', currency: 'HKD', referenceID: 'S1' });
    await new Promise<void>((resolve) => (t.sent.length > 0 ? resolve() : t.once('sent', () => resolve())));
    await assert.rejects(s.request('Refund', { amount: '10.20', currency: 'HKD', orgReferenceID: 'S0', referenceID: 'S1' }), refused('E_REFERENCE_TAKEN', 'referenceID', 'S1'));
    release!();
    const out = await sale;
    assert.equal(out.result, 'Success');
    assert.equal(out.duplicate, undefined);
    assert.equal(t.count('Refund'), 0);
  });

  it('with a journal: a Refund or Sale reusing any payment\'s reference (settled, open, refunded elsewhere) is refused unsent', async () => {
    const j = journal();
    const { terminal, session } = await simulated(j);
    await session.request('Sale', { amount: '20.00', currency: 'HKD', referenceID: 'S1' });
    await session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F1' });
    // A sale left open in the journal (sent, outcome unknown).
    await j.begin({ referenceID: 'OPEN', action: 'Sale', terminal: 'other-terminal', requestID: 'r-open', amount: '3.00', currency: 'HKD' });
    // A refund of a sale taken elsewhere: its orgReferenceID is a sale's reference too.
    await j.begin({ referenceID: 'F9', action: 'Refund', terminal: 'terminal', requestID: 'r-f9', amount: '1.00', currency: 'HKD', orgReferenceID: 'ELSEWHERE' });
    await j.recordOutcome('Refund', 'F9', 'Success');
    for (const [action, params] of [
      ['Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'OPEN' }, 'open'],
      ['Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'ELSEWHERE' }, 'elsewhere'],
      ['Sale', { amount: '1.00', currency: 'HKD', referenceID: 'F1' }, 'refund'],
      ['Sale', { amount: '1.00', currency: 'HKD', referenceID: 'ELSEWHERE' }, 'elsewhere'],
    ] as const) {
      const before = terminal.received.length;
      await assert.rejects(session.request(action, params as never), refused('E_REFERENCE_TAKEN', 'referenceID', params.referenceID), `${action} ${params.referenceID}`);
      assert.equal(terminal.received.length, before, `${action} ${params.referenceID} reached the terminal`);
    }
    // The Sale's own reference on a refund of it.
    await assert.rejects(session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S0', referenceID: 'S1' }), refused('E_REFERENCE_TAKEN', 'referenceID', 'S1'));
    assert.equal(terminal.count('Refund'), 1);
    assert.equal(terminal.count('Sale'), 1);
  });

  it('a reference whose payment was never sent (NotSent) is free for another kind', async () => {
    const j = journal();
    await j.begin({ referenceID: 'N1', action: 'Sale', terminal: 'terminal', requestID: 'r-n1', amount: '3.00', currency: 'HKD' });
    await j.recordOutcome('Sale', 'N1', 'NotSent');
    const { terminal, session } = await simulated(j);
    await session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'S2' });
    const out = await session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S2', referenceID: 'N1' });
    assert.equal(out.result, 'Success');
    assert.equal(terminal.count('Refund', 'N1'), 1);
  });

  it('same-kind redelivery keeps its meaning: a refund in flight is joined, a settled one recorded; one with another sale or amount is E_VALIDATION (referenceID)', async () => {
    const { terminal, session } = await simulated();
    await session.request('Sale', { amount: '20.00', currency: 'HKD', referenceID: 'S1' });
    await session.request('Sale', { amount: '20.00', currency: 'HKD', referenceID: 'S2' });
    const params = { amount: '2.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F1' };
    const [a, b] = await Promise.all([session.request('Refund', params), session.request('Refund', params)]);
    assert.deepEqual([a.result, a.duplicate, b.result, b.duplicate], ['Success', undefined, 'Success', true]);
    const c = await session.request('Refund', params);
    assert.deepEqual([c.result, c.duplicate], ['Success', true]);
    await assert.rejects(session.request('Refund', { ...params, orgReferenceID: 'S2' }), refused('E_VALIDATION', 'referenceID', 'F1'));
    await assert.rejects(session.request('Refund', { ...params, amount: '3.00' }), refused('E_VALIDATION', 'referenceID', 'F1'));
    assert.equal(terminal.count('Refund'), 1);
  });

  it('Voids keep their own key (Void/<reference>): a void of a sale works, is joined by a void of the same sale, and no Sale or Refund shares its key', async () => {
    const { terminal, session } = await simulated();
    await session.request('Sale', { amount: '9.00', currency: 'HKD', referenceID: 'S0' });
    await session.request('Sale', { amount: '4.00', currency: 'HKD', referenceID: 'S1' });
    const [v1, v2] = await Promise.all([session.request('Void', { orgReferenceID: 'S1' }), session.request('Void', { orgReferenceID: 'S1' })]);
    assert.deepEqual([v1.result, v2.result, v2.duplicate], ['Success', 'Success', true]);
    assert.equal(terminal.count('Void'), 1);
    // A reference may hold ':' but never '/': a Refund named "Void:S1" is a payment of its own, sent once.
    const named = await session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S0', referenceID: 'Void:S1' });
    assert.equal(named.duplicate, undefined);
    assert.equal(terminal.count('Refund'), 1);
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'Void/S1' }), refused('E_VALIDATION', 'referenceID'));
    // And the other way round: a Void of S2 while a Refund named "Void:S2" is queued: two payments, each sent once.
    await session.request('Sale', { amount: '4.00', currency: 'HKD', referenceID: 'S2' });
    const refund = session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'S0', referenceID: 'Void:S2' });
    const voided = await session.request('Void', { orgReferenceID: 'S2' });
    assert.equal((await refund).result, 'Success');
    assert.equal(voided.duplicate, undefined);
    assert.deepEqual([terminal.count('Void'), terminal.count('Refund')], [2, 2]);
  });
});

describe('refunds bounded by their sale', () => {
  it('beyond what is left of the sale, in another currency, of a declined, voided, open or unknown sale, of a refund: refused unsent, naming the field', async () => {
    const j = journal();
    const { terminal, session } = await simulated(j);
    await session.request('Sale', { amount: '12.00', currency: 'HKD', referenceID: 'S1' });
    await session.request('Sale', { amount: SIMULATOR_AMOUNTS.decline, currency: 'HKD', referenceID: 'DECLINED' });
    await session.request('Sale', { amount: '8.00', currency: 'HKD', referenceID: 'VOIDED' });
    await session.request('Void', { orgReferenceID: 'VOIDED' });
    await j.begin({ referenceID: 'OPEN', action: 'Sale', terminal: 'other-terminal', requestID: 'r-open', amount: '3.00', currency: 'HKD' });
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ amount: '50.00', currency: 'HKD', orgReferenceID: 'S1' }, 'amount', /more than the 12\.00 HKD left of sale S1/],
      [{ amount: '12.01', currency: 'HKD', orgReferenceID: 'S1' }, 'amount', /12\.00 HKD left/],
      [{ amount: '12.00', currency: 'USD', orgReferenceID: 'S1' }, 'currency', /was in HKD/],
      [{ amount: '1.00', currency: 'HKD', orgReferenceID: 'DECLINED' }, 'orgReferenceID', /not approved/],
      [{ amount: '1.00', currency: 'HKD', orgReferenceID: 'VOIDED' }, 'orgReferenceID', /voided/],
      [{ amount: '1.00', currency: 'HKD', orgReferenceID: 'OPEN' }, 'orgReferenceID', /not known yet/],
      [{ amount: '1.00', currency: 'HKD', orgReferenceID: 'ELSEWHERE' }, 'orgReferenceID', /no sale this terminal's journal knows/],
    ];
    for (const [params, field, message] of cases) {
      await assert.rejects(session.request('Refund', params as never), (err: unknown) => {
        refused('E_VALIDATION', field)(err);
        assert.ok(err instanceof RefundRefusedError);
        assert.match((err as Error).message, message);
        return true;
      }, JSON.stringify(params));
    }
    assert.equal(terminal.count('Refund'), 0);
    // What is left goes out, in parts; then nothing is left.
    assert.equal((await session.request('Refund', { amount: '5.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F1' })).result, 'Success');
    assert.equal((await session.request('Refund', { amount: '7.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F2' })).result, 'Success');
    await assert.rejects(session.request('Refund', { amount: '0.01', currency: 'HKD', orgReferenceID: 'S1' }), refused('E_VALIDATION', 'amount'));
    // A refund of a refund.
    await assert.rejects(session.request('Refund', { amount: '0.01', currency: 'HKD', orgReferenceID: 'F1' }), refused('E_VALIDATION', 'orgReferenceID'));
    assert.equal(terminal.count('Refund'), 2);
  });

  it('exact sums: 0.10 and 0.20 refunded of a 0.30 sale both go out (floating point would make them 0.30000000000000004), then not a cent more', async () => {
    const { terminal, session } = await simulated();
    await session.request('Sale', { amount: '0.30', currency: 'HKD', referenceID: 'S1' });
    assert.equal((await session.request('Refund', { amount: '0.10', currency: 'HKD', orgReferenceID: 'S1' })).result, 'Success');
    assert.equal((await session.request('Refund', { amount: '0.20', currency: 'HKD', orgReferenceID: 'S1' })).result, 'Success');
    await assert.rejects(session.request('Refund', { amount: '0.01', currency: 'HKD', orgReferenceID: 'S1' }), refused('E_VALIDATION', 'amount'));
    assert.equal(terminal.count('Refund'), 2);
  });

  it('refunds queued together are held against the sale together: of two 8.00 refunds of a 12.00 sale sent at once, the second is refused unsent', async () => {
    const { terminal, session } = await simulated();
    await session.request('Sale', { amount: '12.00', currency: 'HKD', referenceID: 'S1' });
    const first = session.request('Refund', { amount: '8.00', currency: 'HKD', orgReferenceID: 'S1' });
    await assert.rejects(session.request('Refund', { amount: '8.00', currency: 'HKD', orgReferenceID: 'S1' }), refused('E_VALIDATION', 'amount'));
    assert.equal((await first).result, 'Success');
    assert.equal(terminal.count('Refund'), 1);
  });

  it('a refund whose outcome is unknown counts as paid (the money may be gone); a voided refund gives its amount back', async () => {
    const pendingRefund = new ScriptedTransport(cipher, (tr, id, action, body) => {
      if (action === 'Sale') tr.answer(id, 'Sale', approved('12.00'));
      else if (action === 'Refund' && body?.referenceID === 'F1') tr.answer(id, 'Refund', { status: 'Pending', errorCode: '', errorMessage: '' });
      else if (action === 'TransactionStatus') tr.answer(id, action, { status: 'Pending', errorCode: '', errorMessage: '' });
      else if (action === 'Void') tr.answer(id, 'Void', { status: 'Success', errorCode: '', errorMessage: '' });
      else tr.answer(id, action, { status: 'Success', errorCode: '', errorMessage: '' });
    });
    const j = journal();
    const s = await open(pendingRefund, j, { resolveTimeoutMs: 60 });
    await s.request('Sale', { amount: '12.00', currency: 'HKD', referenceID: 'S1' });
    await assert.rejects(s.request('Refund', { amount: '10.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F1' }), PendingError);
    assert.equal(j.get('Refund', 'F1')!.state, 'open');
    await assert.rejects(s.request('Refund', { amount: '2.01', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F2' }), (err: unknown) => {
      refused('E_VALIDATION', 'amount')(err);
      assert.match((err as Error).message, /less 10\.00 in refunds approved or under way/);
      return true;
    });
    assert.equal(pendingRefund.count('Refund'), 1);
    // The open refund is settled as approved, then voided: its 10.00 is the sale's again.
    await j.recordOutcome('Refund', 'F1', 'Success');
    await s.request('Void', { orgReferenceID: 'F1' });
    assert.equal(j.get('Void', 'F1')!.state, 'Success');
    const out = await s.request('Refund', { amount: '12.00', currency: 'HKD', orgReferenceID: 'S1', referenceID: 'F3' });
    assert.equal(out.result, 'Success');
  });

  it('a sale the journal does not know: refused unless the option allows it (then the terminal decides)', async () => {
    const { terminal, session } = await simulated();
    await assert.rejects(session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'ELSEWHERE' }), refused('E_VALIDATION', 'orgReferenceID'));
    assert.equal(terminal.count('Refund'), 0);
    const out = await session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'ELSEWHERE' }, { refundUnknownSale: true });
    // The simulator does not know it either: it declines, but the refund went out.
    assert.equal(out.result, 'Failed');
    assert.equal(terminal.count('Refund'), 1);
    // The option never lifts the bound of a sale the journal knows.
    await session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'S1' });
    await assert.rejects(session.request('Refund', { amount: '2.01', currency: 'HKD', orgReferenceID: 'S1' }, { refundUnknownSale: true }), refused('E_VALIDATION', 'amount'));
    assert.equal(terminal.count('Refund'), 1);
  });

  it('without a journal no sale is known and refunds are left to the terminal', async () => {
    const { terminal, session } = await simulated(null);
    await session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'S1' });
    assert.equal((await session.request('Refund', { amount: '2.00', currency: 'HKD', orgReferenceID: 'S1' })).result, 'Success');
    assert.equal(terminal.count('Refund'), 1);
  });

  it('property (pure checkRefund): a refund goes out exactly when it fits what is left of an approved sale, summed exactly', () => {
    const cents = fc.integer({ min: 1, max: 100_000 });
    const state = fc.constantFrom('Success', 'Failed', 'open', 'queued', 'NotSent') as fc.Arbitrary<'Success' | 'Failed' | 'open' | 'queued' | 'NotSent'>;
    const amount = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
    fc.assert(
      fc.property(cents, fc.array(fc.tuple(cents, state, fc.boolean()), { maxLength: 6 }), cents, (sale, refunds, asked) => {
        const basis: RefundBasis = {
          sale: { referenceID: 'S', action: 'Sale', amount: amount(sale), currency: 'HKD', state: 'Success' },
          voidOfSale: undefined,
          refunds: refunds.map(([c, st, voided], i) => ({ referenceID: `F${i}`, action: 'Refund' as const, amount: amount(c), currency: 'HKD', state: st, voided: voided ? ('Success' as const) : undefined })),
        };
        const taken = refunds.filter(([, st, voided]) => !voided && (st === 'Success' || st === 'open' || st === 'queued')).reduce((sum, [c]) => sum + c, 0);
        let ok = true;
        try {
          checkRefund({ action: 'Refund', referenceID: 'NEW', orgReferenceID: 'S', amount: amount(asked), currency: 'HKD' }, basis, false);
        } catch (err) {
          assert.ok(err instanceof RefundRefusedError && err.field === 'amount');
          ok = false;
        }
        assert.equal(ok, asked <= sale - taken);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('minor units at the session: nothing sent', () => {
  it('"12.50" JPY and "1.2345" KWD are refused naming amount, and the terminal sees nothing; "1.234" KWD goes out as written', async () => {
    const t = new ScriptedTransport(cipher, (tr, id, action) => tr.answer(id, action, { status: 'Success', errorCode: '', errorMessage: '', transactionStatus: 'Success' }));
    const s = await open(t);
    for (const [amount, currency] of [['12.50', 'JPY'], ['1.2345', 'KWD'], ['10.205', 'HKD']]) {
      await assert.rejects(s.request('Sale', { amount: amount!, currency: currency! }), refused('E_VALIDATION', 'amount'));
      await assert.rejects(s.request('Refund', { amount: amount!, currency: currency!, orgReferenceID: 'S1' }), refused('E_VALIDATION', 'amount'));
    }
    assert.equal(t.sent.length, 0);
    const out = await s.request('Sale', { amount: '1.234', currency: 'KWD' });
    assert.equal(out.result, 'Success');
    assert.equal(t.sent[0]!.plain.body!.amount, '1.234');
  });
});

describe("the nodes' text for a refused refund", () => {
  /** A RED whose `_` reads the package's own catalogs of one language. */
  function redIn(lang: string) {
    const catalog = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', lang, 'wonder-terminal.json'), 'utf8')) as Record<string, unknown>;
    return {
      _: (key: string) => {
        const [, dotted] = key.split(':') as [string, string];
        const found = dotted.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], catalog);
        return typeof found === 'string' ? found : key;
      },
    };
  }
  it('in en-US, zh-TW and zh-CN: the rule broken, then the field and the detail; a minor-unit refusal says what the currency allows', async () => {
    const { session } = await simulated();
    await session.request('Sale', { amount: '12.00', currency: 'HKD', referenceID: 'S1' });
    const errors: unknown[] = [];
    for (const params of [{ amount: '50.00', currency: 'HKD', orgReferenceID: 'S1' }, { amount: '1.00', currency: 'HKD', orgReferenceID: 'ELSEWHERE' }, { amount: '12.5', currency: 'JPY', orgReferenceID: 'S1' }]) {
      errors.push(await session.request('Refund', params).then(() => assert.fail('accepted'), (err: unknown) => err));
    }
    const texts = (lang: string) => errors.map((e) => describeError(redIn(lang) as never, e));
    const [beyond, unknown, yen] = texts('en-US');
    assert.match(beyond!, /^The refund is more than what is left of its sale \(amount: 50\.00 HKD is more than the 12\.00 HKD left of sale S1/);
    assert.match(unknown!, /^The sale to refund is not in this terminal's journal; tick "Unknown sales" .* \(orgReferenceID: ELSEWHERE is no sale/);
    assert.match(yen!, /no more decimals than its currency has .*\(amount: /);
    for (const lang of ['zh-TW', 'zh-CN']) {
      const [b, u] = texts(lang);
      assert.match(b!, /^退款金額超過原銷售的剩餘可退金額 \(amount: |^退款金额超过原消费的剩余可退金额 \(amount: /, lang);
      assert.match(u!, /\(orgReferenceID: ELSEWHERE/, lang);
    }
  });
});
