/**
 * CSV for spreadsheets (RFC 4180: CRLF line ends, quotes doubled), every text
 * cell neutralised against formulas.
 */

/** The CSV's columns of a payment, in order (the header row). */
export const JOURNAL_CSV_COLUMNS = [
  'openedAt', 'closedAt', 'terminal', 'action', 'referenceID', 'orgReferenceID', 'amount', 'currency',
  'state', 'result', 'reason', 'transactionStatus', 'errorCode', 'errorMessage', 'rrn', 'brn', 'transactionTime', 'requestID',
] as const;

export type JournalCsvColumn = (typeof JOURNAL_CSV_COLUMNS)[number];

/**
 * One cell: text a spreadsheet would run as a formula (a leading =, +, -, @,
 * tab, carriage return or NUL) gets a leading apostrophe; quoted when RFC 4180
 * wants it.
 */
export function csvCell(value: unknown): string {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r\u0000]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (no line end) of the cells given, in order. */
export function csvLine(cells: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += (i === 0 ? '' : ',') + csvCell(cells[i]);
  return line;
}
