import { sleep } from './line';

/** This process's memory after its garbage is collected (run with --expose-gc): half a second of quiet, then four full GCs. */
export async function settledMemory(): Promise<{ heapUsed: number; external: number; rss: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc');
  await sleep(500);
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, external: m.external, rss: m.rss };
}
