/**
 * What people and flows ask the ledger (the wonder-journal node's msg.payload,
 * `wonder-ecr journal`'s flags), checked field by field before any query runs.
 */
import { ValidationError } from '../protocol';

/**
 * A period on the payments' opening time: `from` inclusive, `to` exclusive
 * (ISO 8601 times; a date alone is the host's local midnight, a time without
 * an offset the host's local time).
 */
export interface JournalPeriod {
  from?: string;
  to?: string;
}

export interface JournalQuery extends JournalPeriod {
  terminal?: string;
  /** `open`: outcome unknown; `settled`: Success or Failed (never-sent payments are in neither). */
  state?: 'open' | 'settled';
  /** A result word (open, approved, voided, declined, not-sent) or a state (Success, Failed, NotSent). */
  result?: string;
  /** At most this many, the newest. */
  limit?: number;
}

export const RESULT_WORDS = ['open', 'approved', 'voided', 'declined', 'not-sent', 'Success', 'Failed', 'NotSent'] as const;

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Milliseconds of an ISO 8601 time; a clear error naming `field` when it is not one. */
export function isoBound(value: unknown, field: string): number {
  if (typeof value !== 'string' || !ISO.test(value.trim())) {
    throw new ValidationError(field, `must be an ISO 8601 date or time such as "2026-11-29" or "2026-11-29T08:00:00+08:00", got ${JSON.stringify(value)?.slice(0, 60) ?? String(value)}`);
  }
  // A date alone is the host's local midnight, as a time without an offset is the host's local time.
  const text = value.trim();
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00` : text);
  if (!Number.isFinite(ms)) throw new ValidationError(field, `is not a valid date: ${JSON.stringify(value).slice(0, 60)}`);
  return ms;
}

/** The bounds of a period in milliseconds (undefined: open-ended); validates both and their order. */
export function periodBounds(period: JournalPeriod): { from?: number; to?: number } {
  const out: { from?: number; to?: number } = {};
  if (period.from !== undefined && period.from !== '') out.from = isoBound(period.from, 'from');
  if (period.to !== undefined && period.to !== '') out.to = isoBound(period.to, 'to');
  if (out.from !== undefined && out.to !== undefined && out.to < out.from) throw new ValidationError('to', 'must not be before from');
  return out;
}

/** Checks a query's fields; a ValidationError names the first wrong one. */
export function validateJournalQuery(q: JournalQuery): void {
  if (q.terminal !== undefined && (typeof q.terminal !== 'string' || q.terminal === '')) throw new ValidationError('terminal', 'must be a terminal id');
  if (q.state !== undefined && q.state !== 'open' && q.state !== 'settled') throw new ValidationError('state', `must be "open" or "settled", got ${JSON.stringify(q.state)}`);
  if (q.result !== undefined && (typeof q.result !== 'string' || !(RESULT_WORDS as readonly string[]).includes(q.result))) {
    throw new ValidationError('result', `must be one of ${RESULT_WORDS.join(', ')}, got ${JSON.stringify(q.result)}`);
  }
  if (q.limit !== undefined && (typeof q.limit !== 'number' || !Number.isInteger(q.limit) || q.limit < 1)) {
    throw new ValidationError('limit', `must be a whole number of 1 or more, got ${JSON.stringify(q.limit)}`);
  }
  periodBounds(q);
}
