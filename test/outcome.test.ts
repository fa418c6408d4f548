import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { canonicalAmount } from '../lib/protocol/validate';
import { decideAnswer, decideLookup, IDENTIFYING_FIELDS, lookupState, MAX_MATCHED_TEXT, type Asked, type Decision, type IdentifyingField } from '../lib/protocol/outcome';

// Every Sale goes out with a customerOrderID (its referenceID unless the flow gives one): the terminal's lookup names a sale by it.
const SALE: Asked = { action: 'Sale', referenceID: 'R1', customerOrderID: 'R1', amount: '10.20', currency: 'HKD' };
const REFUND: Asked = { action: 'Refund', referenceID: 'F1', amount: '5.00', currency: 'HKD', orgReferenceID: 'R1' };
const VOID: Asked = { action: 'Void', referenceID: 'R1', target: { action: 'Sale', amount: '10.20', currency: 'HKD', customerOrderID: 'R1' } };
const ORDERED: Asked = { ...SALE, customerOrderID: 'ORDER-1' };
const VOID_OF_ORDER: Asked = { action: 'Void', referenceID: 'R1', target: { action: 'Sale', amount: '10.20', currency: 'HKD', customerOrderID: 'ORDER-1' } };
const VOID_OF_REFUND: Asked = { action: 'Void', referenceID: 'F1', target: { action: 'Refund', amount: '5.00', currency: 'HKD', orgReferenceID: 'R1' } };

const approvedSale = { status: 'Success', errorCode: '', errorMessage: '', customerOrderID: 'R1', currency: 'HKD', amount: '10.20', transactionStatus: 'Success' };
/** An approved answer's fields without the sale's customer order (what a refund's answer carries). */
const { customerOrderID: _order, ...approvedNoOrder } = approvedSale;
const declinedSale = { status: 'Failed', errorCode: '05', errorMessage: 'Declined by issuer', customerOrderID: 'R1', currency: 'HKD', amount: '10.20', transactionStatus: 'Failed' };

type Row = [string, Asked, Record<string, unknown> | unknown, Decision['verdict'], Decision['reason'], string?];

/** The payment's own answer. */
const ANSWERS: Row[] = [
  ['seed approval', SALE, approvedSale, 'approved', 'approved'],
  ['approval without transactionStatus', SALE, { status: 'Success', errorCode: '', errorMessage: '' }, 'approved', 'approved'],
  ['approval with the amount written 10.2', SALE, { ...approvedSale, amount: '10.2' }, 'approved', 'approved'],
  ['approval with the amount as a number', SALE, { ...approvedSale, amount: 10.2 }, 'approved', 'approved'],
  ['decline', SALE, declinedSale, 'declined', 'declined'],
  ['seed busy refusal', SALE, { status: 'Failed', errorCode: '5xxxx', errorMessage: 'The equipment is being traded' }, 'declined', 'terminal-busy'],
  ['seed pending', SALE, { status: 'Pending', errorCode: '', errorMessage: '' }, 'unknown', 'pending'],
  ['transactionStatus pending', SALE, { status: 'Success', transactionStatus: 'Pending' }, 'unknown', 'pending'],
  ['Success but transactionStatus Failed', SALE, { ...approvedSale, transactionStatus: 'Failed', errorMessage: 'Declined by issuer' }, 'unknown', 'contradiction', 'transactionStatus'],
  ['Failed but transactionStatus Success', SALE, { ...declinedSale, transactionStatus: 'Success' }, 'unknown', 'contradiction', 'transactionStatus'],
  ['Success but transactionStatus Voided', SALE, { ...approvedSale, transactionStatus: 'Voided' }, 'unknown', 'contradiction', 'transactionStatus'],
  ['approval of another amount', SALE, { ...approvedSale, amount: '1.00' }, 'unknown', 'contradiction', 'amount'],
  ['approval in another currency', SALE, { ...approvedSale, currency: 'USD' }, 'unknown', 'contradiction', 'currency'],
  ['refund approved for another sale', REFUND, { status: 'Success', orgReferenceID: 'OTHER' }, 'unknown', 'contradiction', 'orgReferenceID'],
  ['reference used', SALE, { status: 'Failed', errorCode: 'DUPLICATE', errorMessage: 'referenceID has been used' }, 'unknown', 'reference-used'],
  ['reference already exists', REFUND, { status: 'Failed', errorCode: 'E1', errorMessage: 'Reference already exists' }, 'unknown', 'reference-used'],
  ['no status', SALE, { errorCode: '' }, 'unknown', 'malformed', 'status'],
  ['unknown status word', SALE, { status: 'OK' }, 'unknown', 'malformed', 'status'],
  ['unknown transactionStatus word', SALE, { status: 'Success', transactionStatus: 'Settled' }, 'unknown', 'malformed', 'transactionStatus'],
  ['not an object', SALE, 'Success', 'unknown', 'malformed'],
  ['null', SALE, null, 'unknown', 'malformed'],
  ['void applied', VOID, { status: 'Success', errorCode: '', errorMessage: '' }, 'voided', 'voided'],
  ['void refused', VOID, { status: 'Failed', errorCode: 'STATE', errorMessage: 'Transaction has refunds' }, 'declined', 'void-refused'],
  ['refund approved', REFUND, { status: 'Success', errorCode: '', errorMessage: '' }, 'approved', 'approved'],
  // Every identifying field it carries must agree with what was sent.
  ['approval naming its own referenceID', SALE, { ...approvedSale, referenceID: 'R1' }, 'approved', 'approved'],
  ['approval naming another referenceID', SALE, { ...approvedSale, referenceID: 'R2' }, 'unknown', 'contradiction', 'referenceID'],
  ['approval naming the referenceID in another case', SALE, { ...approvedSale, referenceID: 'r1' }, 'unknown', 'contradiction', 'referenceID'],
  ['decline naming another referenceID', SALE, { ...declinedSale, referenceID: 'R2' }, 'unknown', 'contradiction', 'referenceID'],
  ['approval with the customerOrderID sent', ORDERED, { ...approvedSale, customerOrderID: 'ORDER-1' }, 'approved', 'approved'],
  ['approval with another customerOrderID', ORDERED, { ...approvedSale, customerOrderID: 'ORDER-2' }, 'unknown', 'contradiction', 'customerOrderID'],
  ['approval with the customerOrderID in another case', ORDERED, { ...approvedSale, customerOrderID: 'order-1' }, 'unknown', 'contradiction', 'customerOrderID'],
  ['approval carrying a customerOrderID when none was sent', SALE, { ...approvedSale, customerOrderID: 'ORDER-9' }, 'unknown', 'contradiction', 'customerOrderID'],
  ['approval with an empty customerOrderID (none carried)', SALE, { ...approvedSale, customerOrderID: '' }, 'approved', 'approved'],
  ['decline with another customerOrderID', ORDERED, { ...declinedSale, customerOrderID: 'ORDER-2' }, 'unknown', 'contradiction', 'customerOrderID'],
  ['approval stating another kind', SALE, { ...approvedSale, transactionType: 'Refund' }, 'unknown', 'contradiction', 'transactionType'],
  ['approval stating its own kind', SALE, { ...approvedSale, transactionType: 'Sale' }, 'approved', 'approved'],
  ['approval one cent off', SALE, { ...approvedSale, amount: '10.21' }, 'unknown', 'contradiction', 'amount'],
  ['approval a tenth of a cent off (never rounded)', SALE, { ...approvedSale, amount: '10.201' }, 'unknown', 'contradiction', 'amount'],
  ['approval with the amount written 10.200', SALE, { ...approvedSale, amount: '10.200' }, 'approved', 'approved'],
  ['approval with an amount that is no amount', SALE, { ...approvedSale, amount: '10,20' }, 'unknown', 'contradiction', 'amount'],
  ['approval with the currency in small letters', SALE, { ...approvedSale, currency: 'hkd' }, 'unknown', 'contradiction', 'currency'],
  ['sale approval carrying an orgReferenceID (a refund)', SALE, { ...approvedSale, orgReferenceID: 'R0' }, 'unknown', 'contradiction', 'orgReferenceID'],
  ['refund approval with its orgReferenceID', REFUND, { status: 'Success', orgReferenceID: 'R1', amount: '5.00', currency: 'HKD' }, 'approved', 'approved'],
  ['refund approval with the orgReferenceID in another case', REFUND, { status: 'Success', orgReferenceID: 'r1' }, 'unknown', 'contradiction', 'orgReferenceID'],
  ['refund decline for another sale', REFUND, { status: 'Failed', errorCode: '05', errorMessage: 'declined', orgReferenceID: 'R9' }, 'unknown', 'contradiction', 'orgReferenceID'],
  ['void applied, naming the voided reference', VOID, { status: 'Success', orgReferenceID: 'R1' }, 'voided', 'voided'],
  ['void applied, naming another reference', VOID, { status: 'Success', orgReferenceID: 'R2' }, 'unknown', 'contradiction', 'orgReferenceID'],
  ['void applied to another amount', VOID, { status: 'Success', amount: '1.00' }, 'unknown', 'contradiction', 'amount'],
];

const lookupOfSale = { ...approvedSale, transactionType: 'Sale' };
/** A TransactionStatus lookup of the payment's reference. */
const LOOKUPS: Row[] = [
  ['seed lookup (no kind stated)', SALE, approvedSale, 'approved', 'approved'],
  ['lookup of a decline', SALE, { ...declinedSale, status: 'Success' }, 'declined', 'declined'],
  ['lookup Failed/Failed', SALE, declinedSale, 'declined', 'declined'],
  ['lookup of a voided sale', SALE, { ...approvedSale, transactionStatus: 'Voided' }, 'voided', 'voided'],
  ['lookup that failed: internal error', SALE, { status: 'Failed', errorCode: '99', errorMessage: 'internal error, please retry' }, 'unknown', 'lookup-failed'],
  ['lookup that failed: not found', SALE, { status: 'Failed', errorCode: 'NOT_FOUND', errorMessage: 'Transaction not found' }, 'unknown', 'lookup-failed'],
  ['lookup Failed but transactionStatus Success', SALE, { ...approvedSale, status: 'Failed' }, 'unknown', 'lookup-failed'],
  ['lookup Success without transactionStatus', SALE, { status: 'Success', amount: '10.20', currency: 'HKD' }, 'unknown', 'no-transaction-state'],
  ['lookup pending', SALE, { status: 'Pending' }, 'unknown', 'pending'],
  ['lookup transactionStatus pending', SALE, { status: 'Success', transactionStatus: 'Pending' }, 'unknown', 'pending'],
  ['final state with "busy" in the message', SALE, { ...approvedSale, errorMessage: 'terminal busy, retry' }, 'approved', 'approved'],
  ['decline with "retry" in the message', SALE, { ...declinedSale, status: 'Success', errorMessage: 'please retry later' }, 'declined', 'declined'],
  ['lookup without amount', SALE, { status: 'Success', transactionStatus: 'Success', currency: 'HKD' }, 'unknown', 'no-evidence', 'amount'],
  ['lookup without currency', SALE, { status: 'Success', transactionStatus: 'Success', amount: '10.20' }, 'unknown', 'no-evidence', 'currency'],
  ['lookup of another amount', SALE, { ...approvedSale, amount: '99.00' }, 'unknown', 'reference-taken', 'amount'],
  ['lookup in another currency', SALE, { ...approvedSale, currency: 'USD' }, 'unknown', 'reference-taken', 'currency'],
  ['sale lookup finds a refund (kind)', SALE, { ...approvedSale, transactionType: 'Refund' }, 'unknown', 'reference-taken', 'transactionType'],
  ['sale lookup finds a refund (orgReferenceID)', SALE, { ...approvedSale, orgReferenceID: 'R0' }, 'unknown', 'reference-taken', 'orgReferenceID'],
  ['refund lookup finds the sale (kind stated)', REFUND, { ...approvedNoOrder, transactionType: 'Sale', amount: '5.00' }, 'unknown', 'reference-taken', 'transactionType'],
  ['refund lookup finds a sale-shaped record', REFUND, { ...approvedNoOrder, amount: '5.00' }, 'unknown', 'no-evidence', 'orgReferenceID'],
  ['refund lookup of another sale', REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'R9' }, 'unknown', 'reference-taken', 'orgReferenceID'],
  ['refund lookup that describes it', REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'R1', transactionType: 'Refund' }, 'approved', 'approved'],
  ['refund lookup: orgReferenceID alone is evidence', REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'R1' }, 'approved', 'approved'],
  // A lookup must name the payment, not only resemble it (a terminal answering with its last transaction names none).
  ['sale lookup naming neither its reference nor its customer order → no evidence', SALE, { ...approvedNoOrder }, 'unknown', 'no-evidence', 'customerOrderID'],
  ['sale lookup naming it by its reference alone', SALE, { ...approvedNoOrder, referenceID: 'R1' }, 'approved', 'approved'],
  ['sale lookup naming it by its customer order alone (the seed lookup)', ORDERED, { ...approvedNoOrder, customerOrderID: 'ORDER-1' }, 'approved', 'approved'],
  ['refund lookup naming neither its reference nor its sale → no evidence', REFUND, { ...approvedNoOrder, amount: '5.00', transactionType: 'Refund' }, 'unknown', 'no-evidence', 'orgReferenceID'],
  ['void lookup naming neither the sale nor its customer order → no evidence', VOID, { ...approvedNoOrder, transactionStatus: 'Voided' }, 'unknown', 'no-evidence', 'referenceID'],
  ['void lookup: voided', VOID, { ...lookupOfSale, transactionStatus: 'Voided' }, 'voided', 'voided'],
  ['void lookup: not yet voided', VOID, lookupOfSale, 'unknown', 'not-yet-voided'],
  ['void lookup: the sale had failed', VOID, { ...declinedSale, status: 'Success' }, 'declined', 'nothing-to-void'],
  ['void lookup of another amount', VOID, { ...lookupOfSale, amount: '1.00', transactionStatus: 'Voided' }, 'unknown', 'reference-taken', 'amount'],
  ['lookup not an object', SALE, [approvedSale], 'unknown', 'malformed'],
  // Every identifying field it carries must agree with what was sent.
  ['lookup naming its own referenceID', SALE, { ...approvedSale, referenceID: 'R1' }, 'approved', 'approved'],
  ['lookup naming another referenceID (another payment)', SALE, { ...approvedSale, referenceID: 'R2' }, 'unknown', 'another-payment', 'referenceID'],
  ['lookup naming the referenceID in another case', SALE, { ...approvedSale, referenceID: 'r1' }, 'unknown', 'another-payment', 'referenceID'],
  ["the terminal's last transaction: another sale of the same amount, its own order", ORDERED, { ...approvedSale, customerOrderID: 'ORDER-2' }, 'unknown', 'reference-taken', 'customerOrderID'],
  ["the terminal's last transaction: another sale of the same amount, an order where none was sent", SALE, { ...approvedSale, customerOrderID: 'ORDER-2' }, 'unknown', 'reference-taken', 'customerOrderID'],
  ["the terminal's last transaction: another sale of the same amount, its own reference", ORDERED, { ...approvedSale, referenceID: 'R0', customerOrderID: 'ORDER-1' }, 'unknown', 'another-payment', 'referenceID'],
  ['lookup with the customerOrderID sent', ORDERED, { ...approvedSale, customerOrderID: 'ORDER-1' }, 'approved', 'approved'],
  ['lookup a tenth of a cent off (never rounded)', SALE, { ...approvedSale, amount: '10.201' }, 'unknown', 'reference-taken', 'amount'],
  ['lookup in the currency in small letters', SALE, { ...approvedSale, currency: 'hkd' }, 'unknown', 'reference-taken', 'currency'],
  ['refund lookup with the orgReferenceID in another case', REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'r1' }, 'unknown', 'reference-taken', 'orgReferenceID'],
  ['refund lookup carrying a customerOrderID (a refund sends none)', REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'R1', customerOrderID: 'ORDER-1' }, 'unknown', 'reference-taken', 'customerOrderID'],
  ['void lookup: the voided sale with its order', VOID_OF_ORDER, { ...lookupOfSale, customerOrderID: 'ORDER-1', transactionStatus: 'Voided' }, 'voided', 'voided'],
  ['void lookup: a sale of another order', VOID_OF_ORDER, { ...lookupOfSale, customerOrderID: 'ORDER-2', transactionStatus: 'Voided' }, 'unknown', 'reference-taken', 'customerOrderID'],
  ['void lookup naming another referenceID', VOID, { ...lookupOfSale, referenceID: 'R2', transactionStatus: 'Voided' }, 'unknown', 'another-payment', 'referenceID'],
  ['void lookup in another currency', VOID, { ...lookupOfSale, currency: 'USD', transactionStatus: 'Voided' }, 'unknown', 'reference-taken', 'currency'],
  ['void of a refund: lookup of that refund', VOID_OF_REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'R1', transactionType: 'Refund', transactionStatus: 'Voided' }, 'voided', 'voided'],
  ['void of a refund: lookup of a refund of another sale', VOID_OF_REFUND, { ...approvedNoOrder, amount: '5.00', orgReferenceID: 'R7', transactionType: 'Refund', transactionStatus: 'Voided' }, 'unknown', 'reference-taken', 'orgReferenceID'],
];

describe('outcome module (pure, table-driven)', () => {
  describe("the payment's own answer", () => {
    for (const [name, asked, body, verdict, reason, field] of ANSWERS) {
      it(`${name} → ${verdict} (${reason})`, () => {
        const d = decideAnswer(asked, { action: asked.action, body });
        assert.equal(d.verdict, verdict);
        assert.equal(d.reason, reason);
        if (field !== undefined) assert.equal(d.field, field);
      });
    }
    it("an answer whose envelope action is another request's is not this request's answer", () => {
      assert.deepEqual(decideAnswer(SALE, { action: 'Refund', body: approvedSale }), { verdict: 'unknown', reason: 'wrong-action' });
    });
  });

  describe('a TransactionStatus lookup', () => {
    for (const [name, asked, body, verdict, reason, field] of LOOKUPS) {
      it(`${name} → ${verdict} (${reason})`, () => {
        const d = decideLookup(asked, { action: 'TransactionStatus', body });
        assert.equal(d.verdict, verdict);
        assert.equal(d.reason, reason);
        if (field !== undefined) assert.equal(d.field, field);
        assert.equal(d.conflict === true, reason === 'reference-taken');
      });
    }
    it('a lookup answered as another action settles nothing', () => {
      assert.equal(decideLookup(SALE, { action: 'Sale', body: approvedSale }).verdict, 'unknown');
    });
    it("the same body read as the payment's answer and as a lookup never gets opposite verdicts", () => {
      for (const [, asked, body] of [...ANSWERS, ...LOOKUPS]) {
        const a = decideAnswer(asked, { body }).verdict;
        const l = decideLookup(asked, { body }).verdict;
        const opposite = new Set([a, l]);
        assert.ok(!(opposite.has('approved') && opposite.has('declined')), `${JSON.stringify(body)}: ${a} / ${l}`);
      }
    });
    it('lookupState: the state of a lookup that ran, else undefined', () => {
      assert.equal(lookupState(approvedSale), 'Success');
      assert.equal(lookupState({ status: 'Failed', errorMessage: 'not found' }), undefined);
      assert.equal(lookupState({ status: 'Pending' }), 'Pending');
      assert.equal(lookupState({ ...approvedSale, transactionStatus: 'Voided' }), 'Voided');
      assert.equal(lookupState({ ...approvedSale, status: 'Failed' }), undefined);
    });
  });

  describe('properties (fast-check)', () => {
    const word = fc.constantFrom('Success', 'Failed', 'Pending', 'Voided', '', 'success', 'OK', undefined);
    const amount = fc.oneof(fc.constantFrom('10.20', '10.2', '10.200', '10', '5.00', '0', '-10.20', '1e3'), fc.double(), fc.string(), fc.constant(undefined));
    const body = fc.record(
      {
        status: word,
        transactionStatus: word,
        amount,
        currency: fc.constantFrom('HKD', 'hkd', 'USD', '', undefined),
        orgReferenceID: fc.constantFrom('R1', 'R9', '', undefined),
        transactionType: fc.constantFrom('Sale', 'Refund', 'Void', 'refund', 'other', undefined),
        errorCode: fc.string(),
        errorMessage: fc.string(),
      },
      { requiredKeys: [] },
    );
    const asked = fc.constantFrom(SALE, REFUND, VOID);

    it('no answer body of any shape throws', () => {
      fc.assert(
        fc.property(asked, fc.anything({ withObjectString: true, withNullPrototype: true }), fc.option(fc.string()), (a, b, action) => {
          const answer = action === null ? { body: b } : { action, body: b };
          decideAnswer(a, answer);
          decideLookup(a, answer);
          lookupState(b);
        }),
        { numRuns: 5_000 },
      );
    });

    it('a lookup settles a sale or refund only when it describes it: final agreeing states, same amount and currency, same kind', () => {
      fc.assert(
        fc.property(fc.constantFrom(SALE, REFUND), body, (a, b) => {
          const d = decideLookup(a, { action: 'TransactionStatus', body: b });
          if (d.verdict === 'unknown') return;
          assert.ok(['Success', 'Failed', 'Voided'].includes(b.transactionStatus as string));
          assert.ok(b.status === 'Success' || (b.status === 'Failed' && b.transactionStatus === 'Failed'));
          assert.equal(canonicalAmount(b.amount), canonicalAmount(a.amount));
          assert.equal(String(b.currency).toUpperCase(), a.currency);
          if (a.action === 'Sale') assert.ok(!b.orgReferenceID && [undefined, 'Sale'].includes(b.transactionType));
          if (a.action === 'Refund') assert.ok(b.orgReferenceID === 'R1' || (b.orgReferenceID !== 'R9' && String(b.transactionType).toLowerCase() === 'refund'));
        }),
        { numRuns: 20_000 },
      );
    });

    it('unknown never turns into approved or declined by words: a lookup does not read the message at all', () => {
      fc.assert(
        fc.property(asked, body, fc.string(), fc.string(), (a, b, code, message) => {
          const plain = decideLookup(a, { body: b });
          const worded = decideLookup(a, { body: { ...b, errorCode: code, errorMessage: `${message} busy retry duplicate not found` } });
          assert.deepEqual(worded, plain);
        }),
        { numRuns: 5_000 },
      );
    });

    it('words in a message never make an answer approved or declined that was not; at most they make it unknown', () => {
      fc.assert(
        fc.property(asked, body, fc.constantFrom('busy', 'retry', 'duplicate', 'reference used', 'approved', 'declined'), (a, b, w) => {
          const plain = decideAnswer(a, { body: { ...b, errorCode: '', errorMessage: '' } });
          const worded = decideAnswer(a, { body: { ...b, errorCode: '', errorMessage: w } });
          if (worded.verdict !== 'unknown') assert.equal(worded.verdict, plain.verdict);
        }),
        { numRuns: 5_000 },
      );
    });

    it('messages are read only up to a bound: a megabyte of text gives what its first characters give', () => {
      const long = `${'x'.repeat(MAX_MATCHED_TEXT)}duplicate${'a'.repeat(1_000_000)}`;
      const d = decideAnswer(SALE, { body: { status: 'Failed', errorCode: '', errorMessage: long } });
      assert.equal(d.verdict, 'declined');
      const near = `${'x'.repeat(10)}duplicate${'a'.repeat(1_000_000)}`;
      assert.equal(decideAnswer(SALE, { body: { status: 'Failed', errorCode: '', errorMessage: near } }).reason, 'reference-used');
    });

    describe('each identifying field: an answer or lookup differing only in it never settles the payment', () => {
      /** Payments asked, each with the body of an answer and of a lookup that describe it (and settle it). */
      const PAYMENTS: Array<{ asked: Asked; describes: Record<string, unknown> }> = [
        { asked: ORDERED, describes: { referenceID: 'R1', customerOrderID: 'ORDER-1', transactionType: 'Sale', amount: '10.20', currency: 'HKD' } },
        { asked: SALE, describes: { referenceID: 'R1', customerOrderID: 'R1', transactionType: 'Sale', amount: '10.20', currency: 'HKD' } },
        { asked: { action: 'Sale', referenceID: 'K1', customerOrderID: 'K1', amount: '1.234', currency: 'KWD' }, describes: { referenceID: 'K1', customerOrderID: 'K1', transactionType: 'Sale', amount: '1.234', currency: 'KWD' } },
        { asked: REFUND, describes: { referenceID: 'F1', transactionType: 'Refund', amount: '5.00', currency: 'HKD', orgReferenceID: 'R1' } },
      ];
      /** A lookup of a voided transaction describes that transaction. */
      const VOIDS: Array<{ asked: Asked; describes: Record<string, unknown> }> = [
        { asked: VOID_OF_ORDER, describes: { referenceID: 'R1', customerOrderID: 'ORDER-1', transactionType: 'Sale', amount: '10.20', currency: 'HKD' } },
        { asked: VOID_OF_REFUND, describes: { referenceID: 'F1', transactionType: 'Refund', amount: '5.00', currency: 'HKD', orgReferenceID: 'R1' } },
      ];
      const text = fc.string({ minLength: 1, maxLength: 12 });
      /** Values of a field other than `own` (undefined: the field was not sent, any value carried is another's). */
      const other = (field: IdentifyingField, own: unknown): fc.Arbitrary<unknown> => {
        switch (field) {
          case 'transactionType':
            return fc.constantFrom('Sale', 'Refund', 'Void', 'refund', 'purchase', 'cancel', 'preauth', 'other').filter((k) => {
              const said = k.toLowerCase();
              const kind = said === 'purchase' ? 'sale' : said === 'cancel' ? 'void' : said;
              return kind !== String(own).toLowerCase();
            });
          case 'amount': {
            // Any amount (in ten-thousandths, written with or without trailing zeros, or as a number) that is not this one.
            const ownUnits = Math.round(Number(own) * 10_000);
            // Near it too (a tenth of a cent off, a cent off): what rounding would swallow.
            const near = fc.integer({ min: -150, max: 150 }).map((d) => ownUnits + d);
            return fc
              .tuple(fc.oneof(fc.integer({ min: 1, max: 99_999_999 }), near), fc.integer({ min: 0, max: 2 }), fc.boolean())
              .filter(([units]) => units !== ownUnits)
              .map(([units, zeros, asNumber]) => {
                const written = `${Math.floor(units / 10_000)}.${String(units % 10_000).padStart(4, '0')}`.replace(/0+$/, '').replace(/\.$/, '');
                return asNumber ? Number(written) : `${written}${written.includes('.') ? '0'.repeat(zeros) : ''}`;
              });
          }
          case 'currency':
            return fc.oneof(fc.stringMatching(/^[A-Za-z]{3}$/), text, fc.constant(String(own).toLowerCase())).filter((c) => c !== own);
          default:
            // Texts other than the own one, its case changed among them.
            return fc.oneof(text, fc.constant(typeof own === 'string' ? own.toLowerCase() : 'x'), fc.constant(typeof own === 'string' ? `${own} ` : 'y')).filter((v) => v !== own && v !== '');
        }
      };
      const answerBody = (describes: Record<string, unknown>, approved: boolean) =>
        approved
          ? { status: 'Success', errorCode: '', errorMessage: '', transactionStatus: 'Success', ...describes }
          : { status: 'Failed', errorCode: '05', errorMessage: 'Declined by issuer', transactionStatus: 'Failed', ...describes };
      const lookupBody = (describes: Record<string, unknown>, state: string) => ({ status: 'Success', errorCode: '', errorMessage: '', transactionStatus: state, ...describes });

      for (const field of IDENTIFYING_FIELDS) {
        it(`${field}: a differing ${field} leaves the answer and the lookup unknown (the same body with it agreeing settles)`, () => {
          fc.assert(
            fc.property(
              fc.constantFrom('Success', 'Failed', 'Voided'),
              fc.boolean(),
              fc.constantFrom(...PAYMENTS).chain((p) => fc.tuple(fc.constant(p), other(field, p.describes[field]))),
              (state, approved, [p, value]) => {
                const { asked, describes } = p;
                // The body as it agrees settles the payment (so a refusal below is the field's doing).
                assert.notEqual(decideAnswer(asked, { action: asked.action, body: answerBody(describes, approved) }).verdict, 'unknown');
                assert.notEqual(decideLookup(asked, { action: 'TransactionStatus', body: lookupBody(describes, state) }).verdict, 'unknown');
                const changed = { ...describes, [field]: value };
                const a = decideAnswer(asked, { action: asked.action, body: answerBody(changed, approved) });
                const l = decideLookup(asked, { action: 'TransactionStatus', body: lookupBody(changed, state) });
                assert.equal(a.verdict, 'unknown', `answer ${JSON.stringify(changed)}`);
                assert.equal(l.verdict, 'unknown', `lookup ${JSON.stringify(changed)}`);
                assert.equal(a.field, field);
                assert.equal(l.field, field);
              },
            ),
            { numRuns: 2_000 },
          );
        });

        it(`${field}: a void's lookup of a transaction differing only in ${field} from the voided one never settles the void`, () => {
          fc.assert(
            fc.property(
              fc.constantFrom(...VOIDS).chain((v) => fc.tuple(fc.constant(v), other(field, v.describes[field]))),
              fc.constantFrom('Failed', 'Voided'),
              ([v, value], state) => {
                const { asked, describes } = v;
                assert.notEqual(decideLookup(asked, { action: 'TransactionStatus', body: lookupBody(describes, state) }).verdict, 'unknown');
                const l = decideLookup(asked, { action: 'TransactionStatus', body: lookupBody({ ...describes, [field]: value }, state) });
                assert.equal(l.verdict, 'unknown', JSON.stringify(value));
                assert.equal(l.field, field);
              },
            ),
            { numRuns: 1_000 },
          );
        });
      }

      it('a field that was not sent (no customerOrderID on a sale, no orgReferenceID on a sale) is named by no answer that settles it', () => {
        // A sale sent without a customer order (a payment recorded before every sale carried one).
        const unordered: Asked = { action: 'Sale', referenceID: 'R1', amount: '10.20', currency: 'HKD' };
        const describes = { referenceID: 'R1', transactionType: 'Sale', amount: '10.20', currency: 'HKD' };
        fc.assert(
          fc.property(fc.constantFrom<IdentifyingField>('customerOrderID', 'orgReferenceID'), text, fc.boolean(), (field, value, approved) => {
            // The same answer without the field settles the sale: the field alone leaves it unknown.
            assert.equal(decideAnswer(unordered, { action: 'Sale', body: answerBody(describes, approved) }).verdict, approved ? 'approved' : 'declined');
            const d = decideAnswer(unordered, { action: 'Sale', body: answerBody({ ...describes, [field]: value }, approved) });
            assert.equal(d.verdict, 'unknown');
          }),
          { numRuns: 500 },
        );
        // Even the sale's own reference as its customer order: none was sent, so the answer names another payment.
        assert.equal(decideAnswer(unordered, { action: 'Sale', body: answerBody({ ...describes, customerOrderID: 'R1' }, true) }).verdict, 'unknown');
      });
    });

    it('amounts: 10.2, "10.2" and "10.20" are one amount; a wrong one is never equal', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 99_999_999 }), (cents) => {
          const text = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
          assert.equal(canonicalAmount(text), text);
          assert.equal(canonicalAmount(cents / 100), text);
          if (cents % 10 === 0) assert.equal(canonicalAmount(text.slice(0, -1)), text);
          assert.notEqual(canonicalAmount(`${Math.floor(cents / 100) + 1}.00`), text);
        }),
      );
      for (const bad of ['1e3', '-1', '1.23456', '', ' ', 'NaN', '0x10', '１０', '10,20', '.5']) assert.equal(canonicalAmount(bad), undefined, bad);
      // More decimals than two are kept where they are not zeros (KWD, CLF): never rounded away.
      for (const [written, canonical] of [['1.234', '1.234'], ['1.2340', '1.234'], ['10.200', '10.20'], ['0.0001', '0.0001'], ['1200', '1200.00']]) assert.equal(canonicalAmount(written), canonical, written);
    });
  });
});
