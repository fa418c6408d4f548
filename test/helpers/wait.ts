import type { EventEmitter } from 'node:events';

/**
 * The tests' one way to wait: for a condition (polled) or for an event, each
 * bounded by a time-out whose error names what was awaited. Tests never sleep a
 * fixed time to let something happen; they wait for it.
 */

/** How long to wait, how often to look, and what to add to the error (a process's output, say). */
export interface WaitOptions {
  /** Milliseconds before failing (default 10,000). */
  within?: number;
  /** Milliseconds between two looks (default 10). */
  every?: number;
  /** Appended to the time-out's error. */
  detail?: () => string;
}

/**
 * Polls `check` until it returns a truthy value, and resolves with that value;
 * `check` may be async, and an error it throws fails the wait at once. Fails
 * naming `what` after `within` ms (a number, or in the options).
 */
export async function until<T>(what: string, check: () => T | Promise<T>, options: number | WaitOptions = {}): Promise<NonNullable<T>> {
  const { within = 10_000, every = 10, detail } = typeof options === 'number' ? { within: options } : options;
  const deadline = Date.now() + within;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${within} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

/**
 * Resolves with the arguments of the next `event` the emitter emits (the first
 * whose arguments pass `match`, when given). Fails naming `what` (else the
 * event) after `within` ms, and stops listening either way.
 */
export function nextEvent<A extends unknown[] = unknown[]>(
  emitter: Pick<EventEmitter, 'on' | 'off'>,
  event: string,
  options: { match?: (...args: A) => boolean; within?: number; what?: string } = {},
): Promise<A> {
  const within = options.within ?? 10_000;
  return new Promise<A>((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (options.match && !options.match(...(args as A))) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args as A);
    };
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`timed out after ${within} ms waiting for ${options.what ?? `the event "${event}"`}`));
    }, within);
    emitter.on(event, listener);
  });
}

/** Resolves or rejects as `promise` does; fails naming `what` if it has not settled within `within` ms. */
export async function settles<T>(what: string, promise: Promise<T>, within = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${within} ms waiting for ${what}`)), within);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
