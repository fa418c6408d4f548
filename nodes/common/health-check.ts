import { ValidationError } from '../../lib/errors';

export const HEALTH_CHECK_MIN_SECONDS = 5;
export const HEALTH_CHECK_MAX_SECONDS = 3600;

/**
 * The idle health check's interval in ms from the config's `healthCheck`
 * (seconds): empty, absent (a flow saved by an older version) or 0 is off.
 */
export function healthCheckMs(value: unknown): number {
  if (value === undefined || value === null || value === '') return 0;
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.trim() : '';
  const n = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (n === 0) return 0;
  if (!(n >= HEALTH_CHECK_MIN_SECONDS && n <= HEALTH_CHECK_MAX_SECONDS)) {
    throw new ValidationError('healthCheck', `must be empty or 0 (off), or a whole number of seconds from ${HEALTH_CHECK_MIN_SECONDS} to ${HEALTH_CHECK_MAX_SECONDS}, got ${JSON.stringify(value)}`);
  }
  return n * 1000;
}
