/** Resolves when `work` settles or after `ms`, whichever comes first; never rejects (a close that must not hang). */
export function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const guard = setTimeout(resolve, ms);
    const done = () => {
      clearTimeout(guard);
      resolve();
    };
    work.then(done, done);
  });
}
