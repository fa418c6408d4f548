import { FrameDecoder } from '../lib/protocol/frame';
import { saleFixture } from './fixtures';
import { median, nowMs } from './stats';

/** Part 2: the streaming frame decoder's throughput and its linearity in the input size. */
export interface DecoderResult {
  rounds: { chunked: number; linearity: number };
  mbPerSecond4k: number;
  mbPerSecond1byte: number;
  ms1MB: number;
  ms8MB: number;
  ratio8to1: number;
  /** The same 1 MB and 8 MB inputs fed in 64 KB chunks (as a fast serial port would hand them over). */
  ratio8to1By64k: number;
  noiseShare: number;
}

const MB = 1024 * 1024;

/** A repeatable random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Sale request and response frames with random noise (1 to 64 bytes) between half of them. */
export function noisyStream(bytes: number, frames: Buffer[], seed: number): { data: Buffer; frames: number; noise: number } {
  const rand = random(seed);
  const parts: Buffer[] = [];
  let size = 0;
  let count = 0;
  let noise = 0;
  while (size < bytes) {
    if (rand() < 0.5) {
      const n = 1 + Math.floor(rand() * 64);
      const junk = Buffer.allocUnsafe(n);
      for (let i = 0; i < n; i++) junk[i] = Math.floor(rand() * 256);
      parts.push(junk);
      size += n;
      noise += n;
    }
    const frame = frames[count % frames.length]!;
    parts.push(frame);
    size += frame.length;
    count++;
  }
  return { data: Buffer.concat(parts), frames: count, noise };
}

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, Math.min(data.length, i + size)));
  return out;
}

/** Feeds every chunk to a fresh decoder; returns ms, after checking every frame came out. */
function feed(parts: readonly Buffer[], expected: number): number {
  const decoder = new FrameDecoder();
  let got = 0;
  const t0 = nowMs();
  for (const part of parts) got += decoder.push(part).length;
  const ms = nowMs() - t0;
  if (got !== expected) throw new Error(`the decoder gave ${got} frames, expected ${expected}`);
  return ms;
}

export async function runDecoder(): Promise<DecoderResult> {
  const fx = await saleFixture();
  const frames = [fx.responseFrame, fx.requestFrame];
  const big = noisyStream(4 * MB, frames, 1);
  const small = noisyStream(MB / 4, frames, 2);
  const one = noisyStream(MB, frames, 3);
  const eight = noisyStream(8 * MB, frames, 4);
  const by4k = chunks(big.data, 4096);
  const by1 = chunks(small.data, 1);
  const oneChunk = [one.data];
  const eightChunk = [eight.data];

  const chunkedRounds = 11;
  const linearityRounds = 21;
  // Warm-up.
  feed(by4k, big.frames);
  feed(by1, small.frames);
  feed(oneChunk, one.frames);
  const t4k: number[] = [];
  const t1: number[] = [];
  for (let r = 0; r < chunkedRounds; r++) {
    t4k.push(feed(by4k, big.frames));
    t1.push(feed(by1, small.frames));
  }
  const one64k = chunks(one.data, 65536);
  const eight64k = chunks(eight.data, 65536);
  feed(eightChunk, eight.frames);
  const m1: number[] = [];
  const m8: number[] = [];
  const c1: number[] = [];
  const c8: number[] = [];
  for (let r = 0; r < linearityRounds; r++) {
    m1.push(feed(oneChunk, one.frames));
    m8.push(feed(eightChunk, eight.frames));
    c1.push(feed(one64k, one.frames) / one.data.length);
    c8.push(feed(eight64k, eight.frames) / eight.data.length);
  }
  const ms1MB = (median(m1) * MB) / one.data.length;
  const ms8MB = (median(m8) * 8 * MB) / eight.data.length;
  return {
    rounds: { chunked: chunkedRounds, linearity: linearityRounds },
    mbPerSecond4k: big.data.length / MB / (median(t4k) / 1000),
    mbPerSecond1byte: small.data.length / MB / (median(t1) / 1000),
    ms1MB,
    ms8MB,
    ratio8to1: ms8MB / ms1MB,
    ratio8to1By64k: (8 * median(c8)) / median(c1),
    noiseShare: big.noise / big.data.length,
  };
}
