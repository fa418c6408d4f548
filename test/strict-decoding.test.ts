import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import {
  parseEnvelope,
  parseStrictJson,
  requestHeaderOf,
  responseHeaderOf,
  serializeEnvelope,
  WonderCipher,
  type SendOptions,
  type Transport,
  type TransportState,
} from '../lib';
import { TerminalSession } from '../lib/session';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { cipher, encryptText, everyOneByteChange, isSecurityError, laxRead, PIN, requests, responses, UUID_A } from './helpers/seed-cipher';

// The seeds' messages and the cipher under their pairing code: shared with
// strict-decoding-sweep-*.test.ts (the exhaustive one-byte sweeps, full tier).
describe('strict decoding of decrypted messages (issue 13)', function () {
  this.timeout(120_000);

  it('reads every seed message as it is', () => {
    assert.equal(responses.length, 10);
    for (const v of responses) {
      const plain = cipher.decryptJson(v.data);
      assert.deepEqual(plain, JSON.parse(v.plaintext!));
      assert.equal(responseHeaderOf(plain).responseID, (JSON.parse(v.plaintext!) as { header: { responseID: string } }).header.responseID);
      assert.deepEqual(cipher.decryptResponse(v.data), plain);
    }
    for (const v of requests) {
      const plain = cipher.decryptRequest(v.data);
      assert.deepEqual(plain, JSON.parse(v.plaintext!));
      assert.equal(requestHeaderOf(plain).requestID, (JSON.parse(v.plaintext!) as { header: { requestID: string } }).header.requestID);
    }
  });

  it('keeps Chinese text and other printable Unicode', () => {
    const message = { header: { responseID: UUID_A, serverDeviceSN: 'N96', timestamp: '2025-11-12T10:12:04+08:00' }, body: { status: 'Failed', errorCode: '51', errorMessage: '交易失敗，餘額不足 — 请重试 ✓' } };
    assert.deepEqual(cipher.decryptJson(encryptText(JSON.stringify(message))), message);
  });

  it('refuses control characters, even where JSON would allow them as whitespace or escapes decode to them', () => {
    const header = `{"responseID":"${UUID_A}"}`;
    for (const text of [
      `{"header":${header},\n"body":{}}`,
      `{"header":${header},\t"body":{}}`,
      `{"header":${header},\r"body":{}}`,
      `{"header":${header},"body":{"errorMessage":"a\u0000b"}}`,
      `{"header":${header},"body":{"errorMessage":"a\u007fb"}}`,
      `{"header":${header},"body":{"errorMessage":"a\u0085b"}}`,
      `{"header":${header},"body":{"errorMessage":"a\u009bb"}}`,
    ]) {
      assert.throws(() => cipher.decryptJson(encryptText(text)), isSecurityError, JSON.stringify(text));
    }
  });

  it('names every control character (C0, DEL, C1) as one, in a string or between tokens, and passes the characters next to them', () => {
    const header = `{"responseID":"${UUID_A}"}`;
    const controls = [...Array.from({ length: 0x20 }, (_, i) => i), ...Array.from({ length: 0x21 }, (_, i) => 0x7f + i)];
    for (const code of controls) {
      const ch = String.fromCharCode(code);
      for (const text of [`{"header":${header},"body":{"errorMessage":"a${ch}b"}}`, `{"header":${header},${ch}"body":{}}`]) {
        assert.throws(() => parseStrictJson(Buffer.from(text, 'utf8')), /holds control characters/, `U+${code.toString(16).padStart(4, '0')}`);
      }
    }
    // Neighbours of the C1 block in UTF-8 (C2 A0 to C2 BF, and C3 80): printable.
    for (const ch of ['\u00a0', '\u00a9', '\u00bf', '\u00c0', '\u0100']) {
      const text = `{"header":${header},"body":{"errorMessage":"a${ch}b"}}`;
      assert.equal((parseStrictJson(Buffer.from(text, 'utf8')).body as { errorMessage: string }).errorMessage, `a${ch}b`);
    }
  });

  it('refuses bytes that are not valid UTF-8 (stray continuation, overlong form, surrogate, truncated sequence)', () => {
    const before = Buffer.from(`{"header":{"responseID":"${UUID_A}"},"body":{"errorMessage":"`);
    const after = Buffer.from('"}}');
    for (const bad of [[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe4, 0xba], [0xff], [0xf8, 0x88, 0x80, 0x80, 0x80]]) {
      const plain = Buffer.concat([before, Buffer.from(bad), after]);
      assert.throws(() => cipher.decryptJson(encryptText(plain)), isSecurityError, Buffer.from(bad).toString('hex'));
    }
  });

  it('refuses __proto__, constructor and prototype keys at any depth, also when written with escapes', () => {
    const header = `"header":{"responseID":"${UUID_A}"}`;
    for (const text of [
      `{${header},"__proto__":{"polluted":true}}`,
      `{${header},"body":{"constructor":{"prototype":{"x":1}}}}`,
      `{${header},"body":{"creditCard":{"prototype":"x"}}}`,
      `{${header},"body":{"list":[{"a":[{"__proto__":1}]}]}}`,
      `{${header},"body":{"\\u005f_proto__":{"polluted":true}}}`,
      `{"header":{"responseID":"${UUID_A}","c\\u006fnstructor":1}}`,
    ]) {
      assert.throws(() => cipher.decryptJson(encryptText(text)), isSecurityError, text);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    // The words as values are harmless and kept.
    const fine = { header: { responseID: UUID_A }, body: { errorMessage: 'constructor __proto__ prototype' } };
    assert.deepEqual(cipher.decryptJson(encryptText(JSON.stringify(fine))), fine);
  });

  it('refuses a message that is not an object with a header holding a UUID id', () => {
    for (const text of [
      '[]',
      '"text"',
      '42',
      'null',
      '{"body":{"status":"Success"}}',
      '{"header":"x"}',
      '{"header":[]}',
      '{"header":{}}',
      '{"header":{"responseID":"r1"}}',
      '{"header":{"responseID":42}}',
      `{"header":{"responseID":"${UUID_A}x"}}`,
      `{"header":{"responseID":"${UUID_A}"}}{}`,
    ]) {
      assert.throws(() => responseHeaderOf(cipher.decryptJson(encryptText(text))), isSecurityError, text);
    }
    // A request is not a response, and the other way round.
    const request = encryptText(`{"header":{"requestID":"${UUID_A}"}}`);
    assert.throws(() => responseHeaderOf(cipher.decryptJson(request)), isSecurityError);
    assert.throws(() => cipher.decryptResponse(request), isSecurityError);
    assert.throws(() => cipher.decryptRequest(encryptText(`{"header":{"responseID":"${UUID_A}"}}`)), isSecurityError);
  });

  it('refuses nesting deeper than any message of the protocol', () => {
    const deep = `{"header":{"responseID":"${UUID_A}"},"body":${'{"a":'.repeat(10)}1${'}'.repeat(10)}}`;
    assert.throws(() => cipher.decryptJson(encryptText(deep)), isSecurityError);
    assert.throws(() => parseStrictJson(Buffer.from(`{"header":{},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)), isSecurityError);
  });

  it('a wrong pairing code is a security error for every seed response', () => {
    const other = new WonderCipher('111111');
    for (const v of responses) assert.throws(() => other.decryptJson(v.data), isSecurityError);
  });

  it('a session given a tampered answer that the old reading accepted fails the sale with E_SECURITY, never a result', async () => {
    const terminal = new SimulatedTerminal({ pairingCode: PIN, cardDelayMs: 1 });
    let tamperedWith: { index: number; delta: number } | undefined;
    // Between the session and the simulator: changes one byte of the Sale's answer so
    // that it still decrypts to JSON with the same responseID and a body.status.
    class TamperingTransport extends EventEmitter implements Transport {
      readonly kind = 'simulator' as const;
      state: TransportState = 'closed';
      async open() {
        this.state = 'connected';
        this.emit('state', 'connected');
      }
      async close() {
        this.state = 'closed';
      }
      async send(text: string, options: SendOptions) {
        const answer = await terminal.handle(text);
        if (answer === null) return;
        const envelope = parseEnvelope(answer);
        if (options.action !== 'Sale') {
          this.emit('message', envelope);
          return;
        }
        const original = laxRead(envelope.data)!;
        for (const t of everyOneByteChange(envelope.data)) {
          const lax = laxRead(t.data);
          if (lax !== undefined && lax.header.responseID === original.header.responseID && typeof lax.body?.status === 'string') {
            tamperedWith = { index: t.index, delta: t.delta };
            this.emit('message', parseEnvelope(serializeEnvelope('Sale', t.data)));
            return;
          }
        }
        throw new Error('no one-byte change of the answer still reads as JSON');
      }
    }
    const session = new TerminalSession({ transport: new TamperingTransport(), pairingCode: PIN, clientDeviceSN: 'T', paymentTimeoutMs: 2_000, commandTimeoutMs: 2_000 });
    try {
      await session.open();
      await assert.rejects(session.request('Sale', { amount: '10.20', currency: 'HKD' }), isSecurityError);
      assert.notEqual(tamperedWith, undefined);
    } finally {
      await session.close();
    }
  });
});
