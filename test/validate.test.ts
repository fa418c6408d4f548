import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import {
  buildBody,
  buildRequest,
  validateAmount,
  validateCurrency,
  validatePairingCode,
  ValidationError,
  WonderCipher,
  parseEnvelope,
  ProtocolError,
  minimiseCard,
} from '../lib';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${String(err)}`);
    return err.field;
  }
  assert.fail('expected a ValidationError');
}

describe('validation', () => {
  it('accepts positive decimals with at most two places', () => {
    for (const [ok, sent] of [['10.20', '10.20'], ['1', '1.00'], ['0.01', '0.01'], ['999999999999.99', '999999999999.99'], ['10.2', '10.20']]) assert.equal(validateAmount(ok), sent);
    assert.equal(validateAmount(10.2), '10.20');
    assert.equal(validateAmount(5), '5.00');
  });

  it('refuses every malformed amount, naming the field', () => {
    const bad: unknown[] = ['', ' 10', '10 ', '-1', '0', '0.00', '10.205', '1e3', '1,00', '１０', 'NaN', '+5', '01', '.5', '5.', '1000000000000',
      NaN, Infinity, -1, 0, 1e309, 10.005, null, undefined, {}, [], true, 'x'.repeat(100000)];
    for (const value of bad) assert.equal(fieldOf(() => validateAmount(value)), 'amount', `accepted ${String(value).slice(0, 20)}`);
  });

  it('property: any amount string it accepts is a positive decimal with at most two places', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (s) => {
        let accepted: string | undefined;
        try {
          accepted = validateAmount(s);
        } catch (err) {
          assert.ok(err instanceof ValidationError);
          return;
        }
        assert.match(accepted, /^\d+(\.\d{1,2})?$/);
        assert.ok(Number(accepted) > 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('currency must be three capital letters', () => {
    assert.equal(validateCurrency('HKD'), 'HKD');
    for (const bad of ['hkd', 'HK', 'HKDD', '', 'H1D', 123, null]) assert.equal(fieldOf(() => validateCurrency(bad)), 'currency');
  });

  it('pairing code must be 6 letters or digits, and the error never shows it', () => {
    assert.equal(validatePairingCode('260880'), '260880');
    for (const bad of ['12345', '1234567', '12 456', '', undefined, 260880]) {
      try {
        validatePairingCode(bad);
        assert.fail('accepted');
      } catch (err) {
        assert.ok(err instanceof ValidationError);
        assert.equal(err.field, 'pairingCode');
        if (typeof bad === 'string' && bad.length > 0) assert.ok(!err.message.includes(bad));
      }
    }
  });

  it('missing references are named', () => {
    assert.equal(fieldOf(() => buildBody('Void', {} as never)), 'orgReferenceID');
    assert.equal(fieldOf(() => buildBody('Refund', { amount: '1', currency: 'HKD' } as never)), 'orgReferenceID');
    assert.equal(fieldOf(() => buildBody('TransactionStatus', {} as never)), 'targetReferenceID');
    assert.equal(fieldOf(() => buildBody('Sale', { amount: '1', currency: 'HKD', referenceID: 'has space' })), 'referenceID');
    assert.equal(fieldOf(() => buildBody('Sale', 'not an object' as never)), 'payload');
  });

  it('builds a fresh requestID each time and generates a referenceID when none is given', () => {
    const a = buildRequest('Sale', { amount: '1', currency: 'HKD' }, { clientDeviceSN: 'X' });
    const b = buildRequest('Sale', { amount: '1', currency: 'HKD' }, { clientDeviceSN: 'X' });
    assert.notEqual(a.requestID, b.requestID);
    assert.notEqual(a.referenceID, b.referenceID);
    assert.equal(buildRequest('Sale', { amount: '1', currency: 'HKD', referenceID: 'mine' }, { clientDeviceSN: 'X' }).referenceID, 'mine');
  });

  it('the cipher never shows its key', () => {
    const cipher = new WonderCipher('260880');
    assert.equal(JSON.stringify(cipher), '{}');
    const inspected = require('node:util').inspect(cipher, { showHidden: true, depth: 5 }) as string;
    assert.ok(!inspected.includes('d866085b'), inspected);
    assert.ok(!inspected.includes('260880'));
  });

  it('the envelope parser takes any bytes without crashing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          parseEnvelope(bytes);
        } catch (err) {
          assert.ok(err instanceof ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
    assert.equal(parseEnvelope('{"version":2.0,"action":"Sale","data":"AA=="}').version, 2);
    assert.throws(() => parseEnvelope('{"version":"1.0","action":"Sale","data":"AA=="}'), ProtocolError);
  });
});

describe('card data minimised (minimiseCard)', () => {
  const card = { panPrefix6Digits: '424242', panLast4Digits: '4711', panHash: 'Hh7Kp2QxZ9', panToken: 'tok_Lw3Vn8Rb' };

  it('keeps the brand and the last four digits; drops the prefix, hash, token and any other card field', () => {
    const body = { status: 'Success', paymentMethod: 'visa', amount: '1.00', creditCard: { ...card, cardholder: 'A N OTHER' } };
    assert.deepEqual(minimiseCard(body), { status: 'Success', paymentMethod: 'visa', amount: '1.00', creditCard: { panLast4Digits: '4711' } });
    // The body given is left as it was (the raw option, and the receipt, read it).
    assert.deepEqual(body.creditCard, { ...card, cardholder: 'A N OTHER' });
  });

  it('never passes more than four characters as the last digits, nor a card that is not an object', () => {
    assert.deepEqual(minimiseCard({ creditCard: { panLast4Digits: '4242424242424711' } }), { creditCard: { panLast4Digits: '4711' } });
    assert.deepEqual(minimiseCard({ creditCard: { panLast4Digits: 4711 } }), { creditCard: {} });
    assert.deepEqual(minimiseCard({ status: 'Success', creditCard: '4242424242424711' }), { status: 'Success' });
    assert.deepEqual(minimiseCard({ creditCard: null }), {});
  });

  it('leaves a body without a card, and anything that is not a body, as it is', () => {
    const body = { status: 'Success', deviceStatus: 'Free' };
    assert.equal(minimiseCard(body), body);
    for (const value of [undefined, null, 'text', 3, [card]]) assert.equal(minimiseCard(value), value);
  });
});
