import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { serializeEnvelope, type Envelope } from '../lib/protocol/envelope';
import { TransportError } from '../lib/protocol/errors';
import { encodeFrame } from '../lib/protocol/frame';
import type { SendOptions, TransportState } from '../lib/transport/transport';
import { SerialTransport, type SerialTransportOptions } from '../lib/transport/serial';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { until } from './helpers/wait';

const FAST_RECONNECT = { initialDelayMs: 30, maxDelayMs: 150 };

function envelope(action: string, body: object): string {
  return serializeEnvelope(action, Buffer.from(JSON.stringify(body)).toString('base64'));
}

function sendOptions(signal: AbortSignal = new AbortController().signal): SendOptions {
  return { signal, action: 'Sale', requestID: 'req-1' };
}

/**
 * Only where a real line's timing is the behaviour under test (bytes paced one
 * write at a time, a quiet gap between writes, time passing with the device
 * gone or a retry due): each use says which. Everything else waits with `until`.
 */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A frame written after the ones under test: the line keeps order, so once
 * the barrier's message is out, anything the frames before it were going to
 * give has been given (no fixed wait for "nothing more follows").
 */
const BARRIER = envelope('Ack', { barrier: true });
async function untilBarrier(other: Peer, rec: Recorder): Promise<Envelope[]> {
  await other.write(encodeFrame(Buffer.from(BARRIER)));
  await until('the barrier frame', () => rec.messages.some((m) => JSON.stringify(m) === JSON.stringify(JSON.parse(BARRIER))), 3000);
  const i = rec.messages.findIndex((m) => JSON.stringify(m) === JSON.stringify(JSON.parse(BARRIER)));
  assert.equal(i, rec.messages.length - 1, 'nothing follows the barrier');
  return rec.messages.slice(0, i);
}

/** Everything a transport emits, in order. */
interface Recorder {
  messages: Envelope[];
  discards: string[];
  states: Array<{ state: TransportState; error?: Error }>;
}

function record(transport: SerialTransport): Recorder {
  const rec: Recorder = { messages: [], discards: [], states: [] };
  transport.on('message', (env: Envelope) => rec.messages.push(env));
  transport.on('discard', (reason: string) => rec.discards.push(reason));
  transport.on('state', (state: TransportState, error?: Error) =>
    rec.states.push(error === undefined ? { state } : { state, error }),
  );
  return rec;
}

/** The other end of the cable: a raw SerialPort on the peer link. */
interface Peer {
  port: SerialPort;
  received(): Buffer;
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

function openPeer(path: string): Promise<Peer> {
  const chunks: Buffer[] = [];
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
  port.on('data', (chunk: Buffer) => chunks.push(chunk));
  port.on('error', () => undefined);
  const peer: Peer = {
    port,
    received: () => Buffer.concat(chunks),
    write: (bytes) =>
      new Promise((resolve, reject) => {
        port.write(Buffer.from(bytes), (err) => {
          if (err) return reject(err);
          port.drain((drainErr) => (drainErr ? reject(drainErr) : resolve()));
        });
      }),
    close: () => new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve())),
  };
  return new Promise((resolve, reject) => port.open((err) => (err ? reject(err) : resolve(peer))));
}

describe('SerialTransport over real pty pairs', function () {
  this.timeout(10000);

  let cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    // Last made, first undone: transports, then peers, then socat.
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups = [];
  });

  async function pair(): Promise<PtyPair> {
    const p = await startPtyPair();
    cleanups.push(() => p.stop());
    return p;
  }
  async function peer(path: string): Promise<Peer> {
    const p = await openPeer(path);
    cleanups.push(() => p.close());
    return p;
  }
  function transport(options: SerialTransportOptions): SerialTransport {
    const t = new SerialTransport({ reconnect: FAST_RECONNECT, ...options });
    cleanups.push(() => t.close());
    return t;
  }

  it('sends a frame that arrives byte-exact on the other side', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();
    assert.equal(t.state, 'connected');
    assert.deepEqual(
      rec.states.map((s) => s.state),
      ['connecting', 'connected'],
    );

    const env = envelope('Sale', { amount: 1234, note: 'ünïcode ✓' });
    await t.send(env, sendOptions());
    const expected = encodeFrame(Buffer.from(env, 'utf8'));
    // A second frame sent after it: when it is in, nothing else came between.
    const barrier = encodeFrame(Buffer.from(BARRIER, 'utf8'));
    await t.send(BARRIER, sendOptions());
    await until('the frame and the barrier on the peer', () => other.received().length >= expected.length + barrier.length, 3000);
    assert.deepEqual(other.received(), Buffer.concat([expected, barrier]));
  });

  it('writes more than the line buffers at once (part now, the rest when the port drains) and reads a burst of frames, every byte in order', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();
    // 256 KB of bytes: far more than a pty holds, so the write is taken in part and finished by serialport's own write.
    const big = Buffer.alloc(256 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
    await t.writeRaw(big);
    await until('256 KB on the peer', () => other.received().length >= big.length, 8000);
    assert.ok(other.received().equals(big), 'the bytes arrive as written');
    // The other way: 200 frames in one write, read as they come.
    const frames = Array.from({ length: 200 }, (_, i) => envelope('Sale', { i, pad: 'x'.repeat(300) }));
    await other.write(Buffer.concat(frames.map((f) => encodeFrame(Buffer.from(f, 'utf8')))));
    const got = await untilBarrier(other, rec);
    assert.deepEqual(got, frames.map((f) => JSON.parse(f)));
    assert.deepEqual(rec.discards, []);
  });

  it('emits a response fed in one-byte pieces exactly once', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();

    const env = envelope('Sale', { status: 'Success', amount: 500 });
    const frame = encodeFrame(Buffer.from(env));
    for (const byte of frame) {
      await other.write(Uint8Array.of(byte));
      await sleep(1); // one byte per write, each its own chunk: the input under test
    }
    await until('the message', () => rec.messages.length > 0, 3000);
    const before = await untilBarrier(other, rec);
    assert.equal(before.length, 1);
    assert.deepEqual(before[0], JSON.parse(env));
    assert.deepEqual(rec.discards, []);
  });

  it('discards noise before a frame and emits the frame', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();

    const env = envelope('DeviceInfo', { serial: 'T-1' });
    // Noise including start bytes and a header-looking run that fails its CRC.
    const noise = Buffer.from([0x00, 0xff, 0x55, 0x13, 0x55, 0x00, 0x06, 0x00, 0x10, 0x02, 0xde, 0xad, 0xbe, 0xef, 0x41]);
    await other.write(Buffer.concat([noise, encodeFrame(Buffer.from(env))]));
    await until('the message', () => rec.messages.length > 0, 3000);
    const before = await untilBarrier(other, rec);
    assert.equal(before.length, 1);
    assert.deepEqual(before[0], JSON.parse(env));
    assert.ok(rec.discards.length >= 1, 'the noise is reported');
    const skipped = rec.discards
      .map((reason) => /^skipped (\d+) byte/.exec(reason))
      .reduce((sum, m) => sum + (m ? Number(m[1]) : 0), 0);
    assert.equal(skipped, noise.length);
  });

  it('drops a corrupt frame and emits only the good one after it', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();

    const badEnv = envelope('Sale', { amount: 999999, secret: 'must-not-leak' });
    const bad = encodeFrame(Buffer.from(badEnv));
    bad[20] = bad[20]! ^ 0x01; // a data byte: the header CRC still checks
    const goodEnv = envelope('Refund', { amount: 1 });
    await other.write(Buffer.concat([bad, encodeFrame(Buffer.from(goodEnv))]));
    await until('the message', () => rec.messages.length > 0, 3000);
    assert.deepEqual(await untilBarrier(other, rec), [JSON.parse(goodEnv)]);
    assert.ok(rec.discards.includes('frame data CRC mismatch'), `discards: ${rec.discards.join('; ')}`);
    for (const reason of rec.discards) {
      assert.ok(!reason.includes('must-not-leak') && !reason.includes(badEnv.slice(30, 50)), 'no payload in a discard reason');
    }
  });

  it('discards a frame that is not a valid envelope', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();

    const goodEnv = envelope('Ack', { ok: true });
    await other.write(Buffer.concat([encodeFrame(Buffer.from('{"version":"2.0"}')), encodeFrame(Buffer.from(goodEnv))]));
    await until('the message', () => rec.messages.length > 0, 3000);
    assert.deepEqual(await untilBarrier(other, rec), [JSON.parse(goodEnv)]);
    assert.deepEqual(rec.discards, ['frame data is not a valid envelope']);
  });

  // A truncated frame that announced more data than the good frame after it
  // holds: without the inter-frame timeout the decoder would keep waiting.
  const longEnv = envelope('Sale', { filler: 'x'.repeat(2000) });
  const truncated = encodeFrame(Buffer.from(longEnv)).subarray(0, 40);
  const shortEnv = envelope('Ack', { ok: true });

  it('recovers from a truncated frame through the inter-frame timeout', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a, interFrameTimeoutMs: 150 });
    const rec = record(t);
    await t.open();

    await other.write(truncated);
    await until('the truncation to be reported', () => rec.discards.some((r) => r.startsWith('truncated frame')), 2000);
    await other.write(encodeFrame(Buffer.from(shortEnv)));
    await until('the message', () => rec.messages.length > 0, 3000);
    assert.deepEqual(rec.messages, [JSON.parse(shortEnv)]);
  });

  it('holds the good frame while a truncated frame waits (timeout not yet reached)', async () => {
    const { a, b } = await pair();
    const other = await peer(b);
    const t = transport({ path: a, interFrameTimeoutMs: 60000 });
    const rec = record(t);
    await t.open();

    await other.write(truncated);
    await sleep(50); // two separate writes, a quiet gap well under the timeout between them
    await other.write(encodeFrame(Buffer.from(shortEnv)));
    // The behaviour under test is that time passes with nothing emitted (the
    // decoder holds the frame until the 60 s timeout): this wait stays.
    await sleep(400);
    assert.deepEqual(rec.messages, []);
    assert.ok(!rec.discards.some((r) => r.startsWith('truncated frame')));
  });

  it('reconnects by itself after the port vanishes and comes back', async () => {
    const first = await startPtyPair();
    let current: PtyPair = first;
    cleanups.push(() => current.stop());
    const { a, b } = first;
    const firstPeer = await openPeer(b);
    const t = transport({ path: a });
    const rec = record(t);
    await t.open();

    await first.stop('SIGKILL'); // the adapter is pulled out
    await until('state reconnecting', () => t.state === 'reconnecting', 3000);
    await firstPeer.close();
    const lost = rec.states.at(-1);
    assert.equal(lost?.state, 'reconnecting');
    assert.ok(lost?.error instanceof TransportError, 'reconnecting carries the error');
    assert.ok(lost.error.message.includes(a), 'the error names the path');

    await assert.rejects(t.send(envelope('Sale', { amount: 1 }), sendOptions()), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'E_CLOSED');
      return true;
    });
    // Time passing with the device gone is the behaviour under test (failed
    // attempts emit no event: the state stays reconnecting): this wait stays.
    await sleep(300);
    assert.equal(t.state, 'reconnecting');

    current = await startPtyPair({ a, b }); // the adapter is plugged back in
    await until('state connected', () => t.state === 'connected', 3000);
    const other = await peer(b);
    const env = envelope('Sale', { amount: 2 });
    await t.send(env, sendOptions());
    const expected = encodeFrame(Buffer.from(env));
    await until('the frame on the new peer', () => other.received().length >= expected.length, 3000);
    assert.deepEqual(other.received(), expected);

    const reply = envelope('Sale', { status: 'Success' });
    await other.write(encodeFrame(Buffer.from(reply)));
    await until('the reply', () => rec.messages.length > 0, 3000);
    assert.deepEqual(rec.messages, [JSON.parse(reply)]);
    assert.deepEqual(
      rec.states.map((s) => s.state),
      ['connecting', 'connected', 'reconnecting', 'connected'],
    );
  });

  it('rejects open() of a missing port naming the path, then connects once it appears', async () => {
    const probe = await startPtyPair();
    const { a, b } = probe;
    await probe.stop(); // leaves two paths that do not exist (yet)
    let current: PtyPair | undefined;
    cleanups.push(async () => current?.stop());
    const t = transport({ path: a });
    const rec = record(t);

    await assert.rejects(t.open(), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'E_TRANSPORT');
      assert.ok(err.message.includes(a), err.message);
      return true;
    });
    assert.equal(t.state, 'reconnecting');

    current = await startPtyPair({ a, b });
    await until('state connected', () => t.state === 'connected', 3000);
    assert.deepEqual(
      rec.states.map((s) => s.state),
      ['connecting', 'reconnecting', 'connected'],
    );
  });

  it('reports a clear error naming the path when the port is locked by another process, and retries', async () => {
    const { a } = await pair();
    const blocker = await openPeer(a);
    let blockerOpen = true;
    cleanups.push(async () => {
      if (blockerOpen) await blocker.close();
    });

    // Confirm the platform behaviour first: a second SerialPort cannot lock it.
    await assert.rejects(openPeer(a), /Cannot lock port/);

    const t = transport({ path: a });
    await assert.rejects(t.open(), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'E_TRANSPORT');
      assert.ok(err.message.includes(a), err.message);
      assert.match(err.message, /Cannot lock port/);
      return true;
    });
    assert.equal(t.state, 'reconnecting');

    await blocker.close();
    blockerOpen = false;
    await until('state connected', () => t.state === 'connected', 3000);
  });

  it('rejects send() with E_CLOSED when not open and with the reason when aborted', async () => {
    const { a } = await pair();
    const t = transport({ path: a });
    await assert.rejects(t.send(envelope('Sale', { amount: 1 }), sendOptions()), (err: unknown) => {
      assert.ok(err instanceof TransportError);
      assert.equal(err.code, 'E_CLOSED');
      return true;
    });
    await t.open();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await assert.rejects(t.send(envelope('Sale', { amount: 1 }), sendOptions(controller.signal)), (err: unknown) => {
      assert.equal(err, reason);
      return true;
    });
  });

  it('close() stops reconnecting, is idempotent and emits closed once', async () => {
    const probe = await startPtyPair();
    await probe.stop(); // a path that does not exist
    const t = transport({ path: probe.a, reconnect: { initialDelayMs: 10, maxDelayMs: 20 } });
    const rec = record(t);
    await assert.rejects(t.open());
    // Retries happen unseen (the state stays reconnecting): letting a few
    // pass before close() is part of the behaviour under test.
    await sleep(80);
    const started = Date.now();
    await t.close();
    await t.close();
    assert.ok(Date.now() - started < 1100, 'close resolves promptly');
    assert.equal(t.state, 'closed');
    const seen = rec.states.length;
    // Under test: no retry fires after close(). A retry is due within 20 ms
    // (maxDelayMs), so this wait is ten of them; it stays.
    await sleep(200);
    assert.equal(rec.states.length, seen);
    assert.deepEqual(
      rec.states.map((s) => s.state),
      ['connecting', 'reconnecting', 'closed'],
    );
  });

  it('close() leaves nothing that keeps the process alive', async function () {
    // In a child process without mocha: it must exit on its own after close().
    const { a, b } = await pair();
    const missing = `${a}-missing`;
    const lib = join(__dirname, '..', 'lib', 'transport', 'serial.js');
    const frame = encodeFrame(Buffer.from(longEnv)).subarray(0, 40).toString('hex');
    const script = `
      const { SerialPort } = require(${JSON.stringify(require.resolve('serialport'))});
      const { SerialTransport } = require(${JSON.stringify(lib)});
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      (async () => {
        // 1. connected, mid-frame (inter-frame timer armed), then closed
        const t = new SerialTransport({ path: ${JSON.stringify(a)}, interFrameTimeoutMs: 60000 });
        await t.open();
        const peer = new SerialPort({ path: ${JSON.stringify(b)}, baudRate: 115200, autoOpen: false });
        await new Promise((r, j) => peer.open((e) => (e ? j(e) : r())));
        await new Promise((r) => peer.write(Buffer.from(${JSON.stringify(frame)}, 'hex'), () => peer.drain(r)));
        // until the transport has read the partial frame (its inter-frame timer armed)
        for (const deadline = Date.now() + 3000; t.interFrameTimer === undefined && Date.now() < deadline; ) await sleep(5);
        if (t.interFrameTimer === undefined) throw new Error('the partial frame was never read');
        await t.send(${JSON.stringify(shortEnv)}, { signal: new AbortController().signal, action: 'Ack', requestID: 'x' });
        await new Promise((r) => peer.close(r));
        await t.close();
        // 2. never connected, waiting to retry (a timer that would hold the process for seconds), then closed
        const m = new SerialTransport({ path: ${JSON.stringify(missing)}, reconnect: { initialDelayMs: 4000, maxDelayMs: 8000 } });
        await m.open().catch(() => undefined);
        await m.close();
        process.stdout.write(t.state + ' ' + m.state);
      })().catch((e) => { process.stderr.write(String(e && e.stack)); process.exitCode = 2; });
    `;
    const child = spawn(process.execPath, ['-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
      }, 8000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(err, '');
    assert.equal(out, 'closed closed');
    assert.equal(code, 0, 'the child exited by itself');
    // Well under the 3 s minimum (4 s less 25 % jitter) a left-over retry timer would hold it.
    assert.ok(Date.now() - started < 2500, `the child took ${Date.now() - started} ms to exit`);
  });
});
