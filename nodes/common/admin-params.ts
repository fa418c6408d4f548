/**
 * The admin API's query parameters, checked: a bad value is refused (400)
 * naming the parameter, before any journal is read.
 */

/** A parameter that is not usable, and why (the text names it). */
export class AdminParamError extends Error {
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

export interface JournalParams {
  terminal?: string;
  from?: string;
  to?: string;
  state?: 'open' | 'settled';
  result?: string;
  limit: number;
  format: 'json' | 'csv';
}

export const DEFAULT_LIMIT = 500;
export const MAX_LIMIT = 100_000;

/** YYYY-MM-DD, optionally with a time (and seconds, fraction) and a zone: what Date.parse reads the same everywhere. */
const ISO = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;
/** Terminal ids (config node ids) and journal identities: printable, no control characters. */
const TERMINAL = /^[^\u0000-\u001f\u007f]{1,200}$/;
/** What queryJournal filters on: an entry's result word or its journal state. */
export const RESULTS = ['open', 'approved', 'voided', 'declined', 'not-sent', 'Success', 'Failed', 'NotSent'] as const;

function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AdminParamError(name, 'must be given once, as a single value');
  return value === '' ? undefined : value;
}

/** The calendar date and the clock time written exist (no 30 February, no 25:00): Date.parse rolls them over. */
function realDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return false;
  const time = /T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(value);
  return time === null || (Number(time[1]) < 24 && Number(time[2]) < 60 && Number(time[3] ?? 0) < 60);
}

/** An ISO 8601 date or date-time, returned as an ISO time (UTC). */
export function isoParam(query: Record<string, unknown>, name: string): string | undefined {
  const value = single(query, name);
  if (value === undefined) return undefined;
  // A date alone is the host's local midnight, as a time without an offset is the host's local time (as the journal's CLI and node read them).
  const ms = ISO.test(value) && realDate(value) ? Date.parse(value.length === 10 ? `${value}T00:00:00` : value) : NaN;
  if (Number.isNaN(ms)) throw new AdminParamError(name, `must be an ISO 8601 date or time (2026-11-29 or 2026-11-29T08:00:00Z), not ${JSON.stringify(value.slice(0, 40))}`);
  return new Date(ms).toISOString();
}

export function terminalParam(query: Record<string, unknown>, name = 'terminal'): string | undefined {
  const value = single(query, name);
  if (value !== undefined && !TERMINAL.test(value)) throw new AdminParamError(name, 'must be a terminal id of at most 200 characters');
  return value;
}

/** The parameters of GET /wonder-ecr/journal and /wonder-ecr/totals. */
export function journalParams(query: Record<string, unknown>): JournalParams {
  const out: JournalParams = { limit: DEFAULT_LIMIT, format: 'json' };
  const terminal = terminalParam(query);
  if (terminal !== undefined) out.terminal = terminal;
  const from = isoParam(query, 'from');
  const to = isoParam(query, 'to');
  if (from !== undefined) out.from = from;
  if (to !== undefined) out.to = to;
  if (from !== undefined && to !== undefined && from > to) throw new AdminParamError('to', 'must not be before from');
  const state = single(query, 'state');
  if (state !== undefined) {
    if (state !== 'open' && state !== 'settled') throw new AdminParamError('state', 'must be open or settled');
    out.state = state;
  }
  const result = single(query, 'result');
  if (result !== undefined) {
    if (!(RESULTS as readonly string[]).includes(result)) throw new AdminParamError('result', `must be one of ${RESULTS.join(', ')}`);
    out.result = result;
  }
  const limit = single(query, 'limit');
  if (limit !== undefined) {
    const n = /^\d{1,6}$/.test(limit) ? Number(limit) : NaN;
    if (!(n >= 1 && n <= MAX_LIMIT)) throw new AdminParamError('limit', `must be a whole number from 1 to ${MAX_LIMIT}`);
    out.limit = n;
  }
  const format = single(query, 'format');
  if (format !== undefined) {
    if (format !== 'json' && format !== 'csv') throw new AdminParamError('format', 'must be json or csv');
    out.format = format;
  }
  return out;
}

/** ?bundle=1 (or true): the support bundle rather than the trace. */
export function flagParam(query: Record<string, unknown>, name: string): boolean {
  const value = single(query, name);
  if (value === undefined || value === '0' || value === 'false') return false;
  if (value === '1' || value === 'true') return true;
  throw new AdminParamError(name, 'must be 1 or 0');
}
