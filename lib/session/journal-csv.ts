import type { JournalEntry } from './journal';
import { entryResult } from './journal-totals';

/** The CSV's columns, in order (the header row). */
export const JOURNAL_CSV_COLUMNS = [
  'openedAt', 'closedAt', 'terminal', 'action', 'referenceID', 'orgReferenceID', 'amount', 'currency',
  'state', 'result', 'reason', 'transactionStatus', 'errorCode', 'errorMessage', 'rrn', 'brn', 'transactionTime', 'requestID',
] as const;

export type JournalCsvColumn = (typeof JOURNAL_CSV_COLUMNS)[number];

/**
 * One cell: text a spreadsheet would run as a formula gets a leading
 * apostrophe (text starting with = + - @, a tab, a carriage return, or a NUL,
 * which some spreadsheets drop before reading what follows); quoted when
 * RFC 4180 wants it.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r\0]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function cells(e: JournalEntry): Record<JournalCsvColumn, string | undefined> {
  const o = e.outcome ?? {};
  return {
    openedAt: e.openedAt,
    closedAt: e.closedAt,
    terminal: e.terminal,
    action: e.action,
    referenceID: e.referenceID,
    orgReferenceID: e.orgReferenceID,
    amount: e.amount ?? o.amount,
    currency: e.currency ?? o.currency,
    state: e.state,
    result: entryResult(e),
    reason: o.reason,
    transactionStatus: o.transactionStatus,
    errorCode: o.errorCode,
    errorMessage: o.errorMessage,
    rrn: o.rrn,
    brn: o.brn,
    transactionTime: o.transactionTime,
    requestID: e.requestID,
  };
}

/** The entries as CSV (RFC 4180: a header row, CRLF line ends), in the order given. */
export function journalCsv(entries: readonly JournalEntry[]): string {
  const lines = [JOURNAL_CSV_COLUMNS.join(',')];
  for (const e of entries) {
    const c = cells(e);
    lines.push(JOURNAL_CSV_COLUMNS.map((k) => csvCell(c[k])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
