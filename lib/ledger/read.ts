/**
 * Simple reads of the payments for people and tools: a period's payments
 * (with the transactions its voids act on: a void counts at what it voided),
 * or the open ones, of one terminal or all. One SQL query through the
 * indexes on opened_at and state; the caller bounds the period.
 */
import * as fs from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { entryOfRow, type JournalEntry, type PaymentRow } from './entries';
import type { SqlValue } from './writer-protocol';

export interface PaymentSelection {
  /** ISO bounds on the time a payment started: `from` inclusive, `to` exclusive. */
  from?: string;
  to?: string;
  /** The open payments alone (whenever they started). */
  openOnly?: boolean;
  /** One terminal: made under this name, or by this serial number. */
  terminal?: string;
  deviceSn?: string;
}

export type QueryFn = <T>(sql: string, params: Record<string, SqlValue>) => T[];

/** The payments a selection names, through `query` (a ledger's own, or a read-only connection's). */
export function selectPayments(query: QueryFn, s: PaymentSelection): JournalEntry[] {
  const conditions: string[] = [];
  const params: Record<string, SqlValue> = {};
  if (s.openOnly === true) conditions.push("state = 'open'");
  else {
    if (s.from !== undefined) {
      conditions.push('opened_at >= :from');
      params.from = Date.parse(s.from);
    }
    if (s.to !== undefined) {
      conditions.push('opened_at < :to');
      params.to = Date.parse(s.to);
    }
  }
  if (s.terminal !== undefined || s.deviceSn !== undefined) {
    const who: string[] = [];
    if (s.terminal !== undefined) {
      who.push('terminal = :terminal');
      params.terminal = s.terminal;
    }
    if (s.deviceSn !== undefined) {
      who.push('device_sn = :sn');
      params.sn = s.deviceSn;
    }
    conditions.push(`(${who.join(' OR ')})`);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const voids = `${where}${where === '' ? 'WHERE' : ' AND'} kind = 'Void'`;
  const rows = query<PaymentRow>(`SELECT * FROM payments ${where} UNION SELECT * FROM payments WHERE key IN (SELECT reference FROM payments ${voids}) ORDER BY opened_at`, params);
  return rows.map(entryOfRow);
}

/** The payments of a ledger file no one here has open, through a read-only connection (none when the file does not exist). */
export function readLedgerFile(file: string, s: PaymentSelection): JournalEntry[] {
  if (!fs.existsSync(file)) return [];
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return selectPayments((sql, params) => db.prepare(sql).all(params) as never, s);
  } finally {
    db.close();
  }
}
