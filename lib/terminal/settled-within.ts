import { systemClock, type Clock } from '../clock';

/** Resolves when `work` settles or after `ms` (on the clock), whichever comes first; never rejects (a close that must not hang). */
export function settledWithin(work: Promise<unknown>, ms: number, clock: Clock = systemClock): Promise<void> {
  return new Promise<void>((resolve) => {
    const guard = clock.setTimer(resolve, ms);
    const done = () => {
      guard.cancel();
      resolve();
    };
    work.then(done, done);
  });
}
