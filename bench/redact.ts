import { makeRedactor, MAX_REPLY_BYTES } from '../lib/easycard';
import { LONG_REPLY_SHAPES } from '../test/helpers/long-replies';
import { median, nowMs } from './stats';

/** The EasyCard redactor over the longest reply Scan2PayClient accepts, beside the same shape at an eighth of it. */
export interface RedactResult {
  rounds: number;
  /** Per shape: ms for a reply of MAX_REPLY_BYTES, ms for an eighth of it, and their ratio (8 for linear work). */
  shapes: Record<string, { msFull: number; msEighth: number; ratio: number }>;
  /** The largest ratio over the shapes. */
  worstRatio: number;
  /** The largest time over the shapes for a reply of MAX_REPLY_BYTES. */
  worstFullMs: number;
}

export function runRedact(): RedactResult {
  const redact = makeRedactor(['trade-Pa55"w\\rd', 'refund-K3y/+=']);
  const rounds = 9;
  const time = (texts: readonly string[]): number => {
    const t0 = nowMs();
    for (const text of texts) if (redact(text) !== text) throw new Error('the redactor changed a reply holding no secret');
    return nowMs() - t0;
  };
  const shapes: RedactResult['shapes'] = {};
  for (const [name, make] of Object.entries(LONG_REPLY_SHAPES)) {
    const full = [make(MAX_REPLY_BYTES)];
    // Eight replies of an eighth: the same characters and about the same garbage to collect as the full one.
    const eighths = Array.from({ length: 8 }, () => make(MAX_REPLY_BYTES / 8));
    const chars = (texts: readonly string[]) => texts.reduce((n, t) => n + t.length, 0);
    time(eighths);
    time(full);
    const f: number[] = [];
    const e: number[] = [];
    for (let r = 0; r < rounds; r++) {
      e.push(time(eighths) / chars(eighths));
      f.push(time(full) / chars(full));
    }
    const msFull = median(f) * MAX_REPLY_BYTES;
    const msEighth = (median(e) * MAX_REPLY_BYTES) / 8;
    shapes[name] = { msFull, msEighth, ratio: msFull / msEighth };
  }
  const all = Object.values(shapes);
  return { rounds, shapes, worstRatio: Math.max(...all.map((s) => s.ratio)), worstFullMs: Math.max(...all.map((s) => s.msFull)) };
}
