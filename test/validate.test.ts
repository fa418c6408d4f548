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
  minorUnit,
  amountUnits,
  unitsToAmount,
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

  describe('minor units (ISO 4217)', () => {
    it('the table: JPY none, KWD/BHD/JOD/OMR/TND/LYD/IQD three, CLF four, every other code (listed or not) two', () => {
      assert.equal(minorUnit('JPY'), 0);
      for (const c of ['KWD', 'BHD', 'JOD', 'OMR', 'TND', 'LYD', 'IQD']) assert.equal(minorUnit(c), 3, c);
      assert.equal(minorUnit('CLF'), 4);
      for (const c of ['HKD', 'USD', 'EUR', 'TWD', 'CNY']) assert.equal(minorUnit(c), 2, c);
      // Not in ISO 4217: two, as for every currency before the table (three capital letters are all that is checked).
      assert.equal(minorUnit('ZZZ'), 2);
      assert.equal(minorUnit('constructor'), 2);
    });

    const sale = (amount: unknown, currency: string) => (buildBody('Sale', { amount: amount as string, currency, referenceID: 'R' }) as { amount: string }).amount;

    it('more decimals than the currency has is refused, naming amount; what fits goes out with at least two decimals', () => {
      for (const [amount, currency] of [['12.50', 'JPY'], ['12.5', 'JPY'], [12.5, 'JPY'], ['0.01', 'JPY'], ['1.2345', 'KWD'], ['1.0001', 'BHD'], ['1.23456', 'CLF'], ['10.205', 'HKD'], ['10.200', 'HKD'], ['1.234', 'ZZZ'], [10.005, 'HKD']] as const) {
        assert.equal(fieldOf(() => buildBody('Sale', { amount, currency, referenceID: 'R' })), 'amount', `${amount} ${currency}`);
        assert.equal(fieldOf(() => buildBody('Refund', { amount, currency, orgReferenceID: 'S', referenceID: 'R' })), 'amount', `refund ${amount} ${currency}`);
      }
      for (const [amount, currency, sent] of [['1200', 'JPY', '1200.00'], ['1200.00', 'JPY', '1200.00'], [1200, 'JPY', '1200.00'], ['1.234', 'KWD', '1.234'], ['1.2', 'KWD', '1.200'], [1.234, 'OMR', '1.234'], ['1.2345', 'CLF', '1.2345'], ['10.2', 'HKD', '10.20'], ['1.23', 'ZZZ', '1.23']] as const) {
        assert.equal(sale(amount, currency), sent, `${amount} ${currency}`);
      }
    });

    it('the error says what the currency allows', () => {
      assert.throws(() => sale('12.50', 'JPY'), /JPY has no minor unit/);
      assert.throws(() => sale('1.2345', 'KWD'), /at most 3 decimals \(the minor unit of KWD\)/);
    });

    it('property: an amount is accepted exactly when its decimals (trailing zeros aside) fit the currency', () => {
      fc.assert(
        fc.property(fc.constantFrom('JPY', 'HKD', 'KWD', 'CLF', 'ZZZ'), fc.integer({ min: 1, max: 99_999_999 }), (currency, units) => {
          const written = `${Math.floor(units / 10_000)}.${String(units % 10_000).padStart(4, '0')}`;
          const significant = written.split('.')[1]!.replace(/0+$/, '').length;
          const places = Math.max(2, minorUnit(currency));
          const text = written.slice(0, written.length - (4 - Math.max(significant, Math.min(places, 4))));
          let sent: string | undefined;
          try {
            sent = sale(text, currency);
          } catch (err) {
            assert.ok(err instanceof ValidationError && err.field === 'amount');
          }
          assert.equal(sent !== undefined, significant <= minorUnit(currency), `${text} ${currency}`);
          if (sent !== undefined) {
            assert.equal(amountUnits(sent), BigInt(units), `${text} ${currency} went out as ${sent}`);
            assert.equal(sent.split('.')[1]!.length, places);
          }
        }),
        { numRuns: 3_000 },
      );
    });

    it('exact sums: amountUnits and unitsToAmount never go through floating point', () => {
      assert.equal(amountUnits('0.1')! + amountUnits('0.2')!, amountUnits('0.3'));
      assert.equal(unitsToAmount(amountUnits('999999999999.9999')! - amountUnits('0.0001')!), '999999999999.9998');
      assert.equal(unitsToAmount(-amountUnits('3.05')!), '-3.05');
      assert.equal(amountUnits('1.2.3'), undefined);
    });
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
