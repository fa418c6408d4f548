import { systemClock, type Clock, type Timer } from '../clock';
import { validateSecondsMs } from '../protocol';

export const HEALTH_CHECK_MIN_SECONDS = 5;
export const HEALTH_CHECK_MAX_SECONDS = 3600;

/**
 * The idle health check's interval in ms from the config's `healthCheck`
 * (seconds): empty, absent (a flow saved by an older version) or 0 is off.
 */
export function healthCheckMs(value: unknown): number {
  return validateSecondsMs(typeof value === 'string' ? value.trim() : value, 'healthCheck', {
    off: true,
    min: HEALTH_CHECK_MIN_SECONDS,
    max: HEALTH_CHECK_MAX_SECONDS,
    whole: true,
  });
}

export interface HealthCheckDeps {
  /** Nothing queued, in flight or waiting: a check may go out. */
  idle(): boolean;
  /** The terminal is closing: no more checks. */
  closed(): boolean;
  /** The check itself (DeviceInfo, a job of the terminal's scheduler). */
  check(): Promise<unknown>;
  /** What the check found: undefined when the terminal answered. */
  onResult(err: unknown): void;
}

/**
 * The optional idle health check of a terminal: one timer (on the clock), a check only when
 * nothing else is waiting or in flight, the next one an interval after.
 * The check is a job of the terminal's scheduler: a request that arrives
 * meanwhile waits for it rather than be refused as busy.
 */
export class HealthCheck {
  private timer: Timer | undefined;

  constructor(
    readonly intervalMs: number,
    private readonly deps: HealthCheckDeps,
    private readonly clock: Clock = systemClock,
  ) {}

  schedule(delayMs = this.intervalMs): void {
    if (this.intervalMs <= 0 || this.deps.closed()) return;
    this.timer?.cancel();
    this.timer = this.clock.setTimer(() => this.fire(), delayMs, { background: true });
  }

  stop(): void {
    this.timer?.cancel();
  }

  private fire(): void {
    if (this.deps.closed()) return;
    if (!this.deps.idle()) return this.schedule();
    this.deps
      .check()
      .then(
        () => this.deps.onResult(undefined),
        (err: unknown) => {
          if (!this.deps.closed()) this.deps.onResult(err);
        },
      )
      .finally(() => this.schedule());
  }
}
