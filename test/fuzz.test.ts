import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import {
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_LENGTH,
  parseEnvelope,
  ProtocolError,
  SecurityError,
  serializeEnvelope,
  WonderCipher,
  responseHeaderOf,
} from '../lib';
import { rng } from '../scripts/rng';

describe('fuzz: any bytes into the frame decoder and the envelope parser', function () {
  this.timeout(120_000);
  const TOTAL = 10_000_000;

  it(`takes ${TOTAL.toLocaleString('en')} random and mutated bytes without a crash or unbounded memory`, () => {
    const random = rng(0xc0ffee);
    const cipher = new WonderCipher('260880');
    const valid = [0, 1, 2, 3].map((i) =>
      encodeFrame(Buffer.from(serializeEnvelope('Sale', cipher.encrypt(JSON.stringify({ header: { responseID: `r${i}` }, body: { status: 'Success' } }))))),
    );
    const decoder = new FrameDecoder();
    let fed = 0;
    let frames = 0;
    let envelopes = 0;
    let maxBuffered = 0;
    while (fed < TOTAL) {
      let chunk: Buffer;
      const kind = random();
      if (kind < 0.4) {
        chunk = randomBytes(1 + Math.floor(random() * 4096));
      } else {
        // A valid frame with a few bytes flipped, cut short, or intact.
        chunk = Buffer.from(valid[Math.floor(random() * valid.length)]!);
        const flips = Math.floor(random() * 4);
        for (let i = 0; i < flips; i++) chunk[Math.floor(random() * chunk.length)] = Math.floor(random() * 256);
        if (random() < 0.2) chunk = chunk.subarray(0, Math.floor(random() * chunk.length));
      }
      // Cut the chunk into pieces of random size, down to single bytes.
      for (let off = 0; off < chunk.length; ) {
        const size = random() < 0.1 ? 1 : 1 + Math.floor(random() * 1500);
        const piece = chunk.subarray(off, off + size);
        off += size;
        for (const frame of decoder.push(piece)) {
          frames++;
          try {
            const env = parseEnvelope(frame.data);
            envelopes++;
            responseHeaderOf(cipher.decryptJson(env.data));
          } catch (err) {
            assert.ok(err instanceof ProtocolError || err instanceof SecurityError, `unexpected ${String(err)}`);
          }
        }
        maxBuffered = Math.max(maxBuffered, decoder.buffered);
        assert.ok(decoder.buffered <= MAX_FRAME_LENGTH + piece.length);
      }
      if (random() < 0.05) decoder.dropPartial();
      fed += chunk.length;
    }
    assert.ok(fed >= TOTAL);
    assert.ok(frames > 1000, `only ${frames} frames survived`);
    assert.ok(envelopes > 1000);
    assert.ok(decoder.stats.discardedBytes > 0);
    assert.ok(maxBuffered <= MAX_FRAME_LENGTH * 2);
  });

  it('the envelope parser takes random and mutated JSON without a crash', () => {
    const random = rng(42);
    const good = serializeEnvelope('Sale', 'AAAAAAAAAAAAAAAAAAAAAA==');
    const alphabet = '{}[]":,0123456789.eE+-truefalsnl\\ \u0000\uffff';
    let bytes = 0;
    for (let i = 0; i < 100_000; i++) {
      const chars = [...good];
      const edits = 1 + Math.floor(random() * 6);
      for (let e = 0; e < edits; e++) chars[Math.floor(random() * chars.length)] = alphabet[Math.floor(random() * alphabet.length)]!;
      const text = chars.join('');
      bytes += text.length;
      try {
        parseEnvelope(text);
      } catch (err) {
        assert.ok(err instanceof ProtocolError, String(err));
      }
    }
    assert.ok(bytes > 5_000_000);
    assert.throws(() => parseEnvelope(Buffer.alloc(2 * 1024 * 1024, 0x20)), ProtocolError);
  });

  it('a tampered ciphertext or a wrong key is a security error, never a decline', () => {
    const cipher = new WonderCipher('260880');
    const data = cipher.encrypt(JSON.stringify({ header: { responseID: 'x' }, body: { status: 'Failed', errorCode: '05' } }));
    const raw = Buffer.from(data, 'base64');
    for (let i = 0; i < raw.length; i++) {
      const tampered = Buffer.from(raw);
      tampered[i] ^= 0x01;
      let plain: unknown;
      try {
        plain = cipher.decryptJson(tampered.toString('base64'));
      } catch (err) {
        assert.ok(err instanceof SecurityError);
        continue;
      }
      // CBC without a MAC: a flip may still decrypt; then the text differs and is not the original answer.
      assert.notDeepEqual(plain, { header: { responseID: 'x' }, body: { status: 'Failed', errorCode: '05' } });
    }
    assert.throws(() => new WonderCipher('111111').decryptJson(data), SecurityError);
  });
});
