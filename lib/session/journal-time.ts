import { ValidationError } from '../protocol';

/**
 * A period on the entries' `openedAt`: `from` inclusive, `to` exclusive (ISO 8601 times; a date alone
 * is the host's local midnight, a time without an offset the host's local time).
 */
export interface JournalPeriod {
  from?: string;
  to?: string;
}

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

/** A test of an entry's `openedAt` against a period; cheap for the journal's own `toISOString()` form. */
export function periodTest(period: JournalPeriod): (openedAt: string | undefined) => boolean {
  const { from, to } = periodBounds(period);
  if (from === undefined && to === undefined) return () => true;
  const fromIso = from === undefined ? undefined : new Date(from).toISOString();
  const toIso = to === undefined ? undefined : new Date(to).toISOString();
  return (openedAt) => {
    if (typeof openedAt !== 'string') return false;
    if (openedAt.length === 24 && openedAt.charCodeAt(23) === 90 /* Z */) {
      // The journal's own form: ISO strings in UTC compare as text.
      return (fromIso === undefined || openedAt >= fromIso) && (toIso === undefined || openedAt < toIso);
    }
    const ms = Date.parse(openedAt);
    if (!Number.isFinite(ms)) return false;
    return (from === undefined || ms >= from) && (to === undefined || ms < to);
  };
}
