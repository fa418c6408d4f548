import { performance } from 'node:perf_hooks';

/** How long the event loop was held while some work ran (ms). */
export interface LoopHold {
  /** The longest gap between the turns of a 1 ms timer, in this thread's CPU time: what code on the loop held it for. */
  cpuMs: number;
  /** The same gap in wall time: with the time this process waited for a core (on a loaded machine, more). */
  wallMs: number;
}

/** This thread's CPU time, ms. */
function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs `work` and measures the longest the event loop was held meanwhile: the
 * longest gap between the turns of a 1 ms timer (up to the moment `work` is
 * done: a hold that ends with it counts too), as this thread's CPU time and
 * as wall time.
 */
export async function holding<T>(work: () => Promise<T>): Promise<{ value: T; ms: number; held: LoopHold }> {
  let lastWall = performance.now();
  let lastCpu = threadCpuMs();
  const held: LoopHold = { cpuMs: 0, wallMs: 0 };
  const gap = () => {
    const wall = performance.now();
    const cpu = threadCpuMs();
    held.wallMs = Math.max(held.wallMs, wall - lastWall);
    held.cpuMs = Math.max(held.cpuMs, cpu - lastCpu);
    lastWall = wall;
    lastCpu = cpu;
  };
  const timer = setInterval(gap, 1);
  const t0 = performance.now();
  try {
    const value = await work();
    gap();
    return { value, ms: performance.now() - t0, held };
  } finally {
    clearInterval(timer);
  }
}
