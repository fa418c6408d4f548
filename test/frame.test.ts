import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { encodeFrame, FrameDecoder, FrameError, MAX_DATA_LENGTH, MAX_FRAME_LENGTH, type Frame } from '../lib';

/** Noise that cannot contain a valid header by construction is not needed: the CRC rejects random headers. */
const payload = fc.uint8Array({ minLength: 0, maxLength: 600 });
const noise = fc.uint8Array({ minLength: 0, maxLength: 80 });

function concat(parts: Uint8Array[]): Buffer {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, in range). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of at) {
    out.push(bytes.subarray(prev, p));
    prev = p;
  }
  out.push(bytes.subarray(prev));
  return out;
}

function feed(decoder: FrameDecoder, chunks: Buffer[]): Frame[] {
  return chunks.flatMap((c) => decoder.push(c));
}

describe('frame codec', () => {
  it('encodes the header fields and both CRCs', () => {
    const frame = encodeFrame(Buffer.from('{}'));
    assert.equal(frame[0], 0x55);
    assert.equal(frame.readUInt16BE(1), 6);
    assert.equal(frame.readUInt16BE(3), 2);
    assert.equal(frame[5], 2);
    assert.equal(frame.length, 10 + 2 + 4);
  });

  it('refuses data larger than one frame', () => {
    assert.throws(() => encodeFrame(Buffer.alloc(MAX_DATA_LENGTH + 1)), FrameError);
    assert.equal(encodeFrame(Buffer.alloc(MAX_DATA_LENGTH)).length, MAX_FRAME_LENGTH);
  });

  it('decodes a frame fed one byte at a time', () => {
    const frame = encodeFrame(Buffer.from('{"version":"2.0"}'));
    const decoder = new FrameDecoder();
    const out = feed(decoder, [...frame].map((b) => Buffer.from([b])));
    assert.equal(out.length, 1);
    assert.equal(out[0]!.data.toString(), '{"version":"2.0"}');
    assert.equal(decoder.buffered, 0);
  });

  it('skips a frame whose data CRC fails and decodes the good one after it', () => {
    const bad = encodeFrame(Buffer.from('corrupted-data'));
    bad[12] ^= 0xff;
    const good = encodeFrame(Buffer.from('good'));
    const decoder = new FrameDecoder();
    const out = decoder.push(Buffer.concat([bad, good]));
    assert.deepEqual(out.map((f) => f.data.toString()), ['good']);
    assert.equal(decoder.stats.dataCrcErrors, 1);
  });

  it('recovers from a truncated frame once the line goes quiet (dropPartial)', () => {
    const whole = encodeFrame(Buffer.from('x'.repeat(300)));
    const truncated = whole.subarray(0, 120);
    const good = encodeFrame(Buffer.from('after'));
    const decoder = new FrameDecoder();
    assert.deepEqual(decoder.push(Buffer.concat([truncated, good])), []);
    assert.equal(decoder.midFrame, true);
    assert.deepEqual(decoder.dropPartial().map((f) => f.data.toString()), ['after']);
    assert.equal(decoder.midFrame, false);
  });

  it('property: valid frames cut anywhere and mixed with noise come out exactly, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(noise, payload), { minLength: 0, maxLength: 8 }),
        noise,
        fc.array(fc.nat(), { maxLength: 40 }),
        (items, trailing, cuts) => {
          const stream = concat([...items.flatMap(([n, p]) => [n, encodeFrame(p)]), trailing]);
          const decoder = new FrameDecoder();
          const out = feed(decoder, cut(stream, cuts));
          assert.equal(out.length, items.length);
          for (const [i, [, p]] of items.entries()) {
            assert.ok(out[i]!.data.equals(Buffer.from(p)), `frame ${i} differs`);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it('property: one-byte chunks give the same frames as one chunk', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(noise, payload), { maxLength: 4 }), (items) => {
        const stream = concat(items.flatMap(([n, p]) => [n, encodeFrame(p)]));
        const whole = new FrameDecoder().push(stream).map((f) => f.data.toString('hex'));
        const byByte = feed(new FrameDecoder(), [...stream].map((b) => Buffer.from([b]))).map((f) => f.data.toString('hex'));
        assert.deepEqual(byByte, whole);
        assert.equal(whole.length, items.length);
      }),
      { numRuns: 100 },
    );
  });

  it('property: never holds more than one maximal frame plus one chunk', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 1, maxLength: 9000 }), { maxLength: 30 }), (chunks) => {
        const decoder = new FrameDecoder();
        for (const chunk of chunks) {
          decoder.push(chunk);
          assert.ok(decoder.buffered <= MAX_FRAME_LENGTH + chunk.length);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('holds a frame header announcing 65535 bytes without growing past one frame plus a chunk', () => {
    const big = encodeFrame(Buffer.alloc(MAX_DATA_LENGTH, 0x41));
    const decoder = new FrameDecoder();
    const chunk = 4096;
    let frames = 0;
    for (let off = 0; off < big.length * 2; off += chunk) {
      const piece = Buffer.concat([big, big]).subarray(off, off + chunk);
      frames += decoder.push(piece).length;
      assert.ok(decoder.buffered <= MAX_FRAME_LENGTH + chunk);
    }
    assert.equal(frames, 2);
  });
});
