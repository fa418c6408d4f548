/**
 * The journal's append, two ways, side by side (not part of `npm run bench`):
 * `write` then `fdatasync` (two thread-pool calls a line) against one `write`
 * on an O_DSYNC descriptor (what the journal does on Linux), with 1 writer
 * (1,000 lines one after another) and 50 writers at once (100 lines each).
 * Rounds interleaved; medians of 4. Files in a temporary folder of their own.
 *
 * Usage: node dist/bench/journal-append.js
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { appendDurably } from '../lib/session/journal-append';
import { median } from './stats';

const LINE = `${JSON.stringify({ referenceID: 'simulator-R123456', action: 'Sale', terminal: 'serial-/dev/ttyUSB0', requestID: '6f1c1e58-2f7e-4c55-9d0c-2b4a8e7d7a10', amount: '12.34', currency: 'TWD', state: 'open', openedAt: '2026-11-29T16:00:00.000Z' })}\n`;
type Mode = 'write+fdatasync' | 'O_DSYNC';

async function round(dir: string, mode: Mode, writers: number, lines: number) {
  const flags = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND | (mode === 'O_DSYNC' ? fs.constants.O_DSYNC : 0);
  const fds = Array.from({ length: writers }, (_, w) => fs.openSync(path.join(dir, `${mode}-${w}.jsonl`), flags, 0o600));
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    fds.map(async (fd) => {
      for (let i = 0; i < lines; i++) {
        const t = performance.now();
        await appendDurably(fd, LINE, mode === 'O_DSYNC');
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  for (const fd of fds) fs.closeSync(fd);
  latencies.sort((a, b) => a - b);
  const n = latencies.length;
  return { linesPerSecond: (n / wall) * 1000, p50Ms: latencies[n >> 1]!, p99Ms: latencies[Math.floor(n * 0.99)]!, cpuUsPerLine: (cpu.user + cpu.system) / n };
}

async function main(): Promise<void> {
  if (fs.constants.O_DSYNC === undefined) throw new Error('no O_DSYNC on this platform');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-bench-append-'));
  try {
    for (const [writers, lines] of [[1, 1000], [50, 100]] as const) {
      const results = new Map<Mode, Array<Awaited<ReturnType<typeof round>>>>();
      for (let r = 0; r < 4; r++) {
        for (const mode of (r % 2 === 0 ? ['write+fdatasync', 'O_DSYNC'] : ['O_DSYNC', 'write+fdatasync']) as Mode[]) {
          const list = results.get(mode) ?? [];
          list.push(await round(dir, mode, writers, lines));
          results.set(mode, list);
        }
      }
      for (const [mode, list] of results) {
        const m = (k: keyof (typeof list)[number]) => median(list.map((x) => x[k])).toFixed(k === 'linesPerSecond' ? 0 : 3);
        console.log(`${writers} writer(s), ${mode.padEnd(15)} lines/s ${m('linesPerSecond')}  p50 ${m('p50Ms')} ms  p99 ${m('p99Ms')} ms  CPU ${m('cpuUsPerLine')} µs a line`);
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
