import { describeValue, ValidationError } from '../../lib/protocol';
import { periodBounds, validateJournalQuery, type JournalQuery } from '../../lib/ledger';
import { registeredTerminal, registeredTerminals, type RegisteredTerminal } from './terminal-registry';

/** What a wonder-journal node is asked: `msg.payload`, checked field by field. */
export interface JournalRequest extends JournalQuery {
  operation: 'totals' | 'open' | 'list';
}

const OPERATIONS = ['totals', 'open', 'list'] as const;
/** At most this many entries in a list unless `limit` says otherwise. */
export const DEFAULT_LIST_LIMIT = 1_000;
export const MAX_LIST_LIMIT = 100_000;

function localDay(value: unknown): { from: string; to: string } {
  const now = new Date();
  let start: Date;
  if (value === 'today' || value === 'yesterday') {
    start = new Date(now.getFullYear(), now.getMonth(), now.getDate() - (value === 'yesterday' ? 1 : 0));
  } else {
    const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
    start = m === null ? new Date(NaN) : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (m === null || Number.isNaN(start.getTime()) || start.getDate() !== Number(m[3])) {
      throw new ValidationError('day', `must be "today", "yesterday" or a date such as "2026-11-29", got ${describeValue(value)}`);
    }
  }
  const end = new Date(start.getFullYear(), start.getMonth(), start.getDate() + 1);
  return { from: start.toISOString(), to: end.toISOString() };
}

/**
 * `msg.payload` → a request: `{operation, terminal?, from?, to?, day?, state?, result?, limit?}`;
 * `operation` falls back to the node's own. A ValidationError names the first wrong field.
 */
export function parseJournalRequest(payload: unknown, fallbackOperation: string | undefined): JournalRequest {
  const p = payload === undefined || payload === null || payload === '' ? {} : payload;
  if (typeof p !== 'object' || Array.isArray(p)) throw new ValidationError('payload', `must be an object such as {"operation": "totals"}, got ${describeValue(payload)}`);
  const o = p as Record<string, unknown>;
  const operation = o.operation ?? (fallbackOperation === '' ? undefined : fallbackOperation);
  if (!OPERATIONS.includes(operation as JournalRequest['operation'])) {
    throw new ValidationError('operation', `must be "totals", "open" or "list", got ${describeValue(operation)}`);
  }
  const req: JournalRequest = { operation: operation as JournalRequest['operation'] };
  for (const key of ['terminal', 'from', 'to', 'state', 'result'] as const) {
    const v = o[key];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new ValidationError(key, `must be a string, got ${describeValue(v)}`);
    (req as unknown as Record<string, string>)[key] = v;
  }
  if (o.day !== undefined && o.day !== null && o.day !== '') {
    if (req.from !== undefined || req.to !== undefined) throw new ValidationError('day', 'cannot be given with from or to');
    Object.assign(req, localDay(o.day));
  }
  if (o.limit !== undefined && o.limit !== null && o.limit !== '') {
    if (typeof o.limit !== 'number' || !Number.isInteger(o.limit) || o.limit < 1 || o.limit > MAX_LIST_LIMIT) {
      throw new ValidationError('limit', `must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${describeValue(o.limit)}`);
    }
    req.limit = o.limit;
  }
  const { terminal: _terminal, ...rest } = req;
  validateJournalQuery(rest);
  periodBounds(req);
  return req;
}

/** A deployed terminal by its config node id, else by its name (undefined when none or several have it). */
export function findTerminal(idOrName: string): RegisteredTerminal | undefined {
  const byId = registeredTerminal(idOrName);
  if (byId !== undefined) return byId;
  const named = registeredTerminals().filter((t) => t.name === idOrName);
  return named.length === 1 ? named[0] : undefined;
}
