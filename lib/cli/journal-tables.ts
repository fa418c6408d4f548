/** The journal command's human-readable tables (and the totals as CSV). */
import { csvCell, type ReadRow, type TotalsRow } from '../ledger';

function table(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Control characters (a hostile terminal name, say) shown, never sent to the technician's terminal. */
function printable(text: string | undefined): string {
  return (text ?? '').replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The payments, newest first as given. A Void shows the amount and currency of the transaction it voided. */
export function entryTable(entries: readonly ReadRow[]): string {
  if (entries.length === 0) return '(no entries)';
  const rows = entries.map(({ entry: e, result, voided }) => [
    printable(e.openedAt),
    printable(e.terminal),
    printable(e.action),
    printable(e.referenceID),
    printable(e.amount ?? voided?.amount ?? e.outcome?.amount ?? ''),
    printable(e.currency ?? voided?.currency ?? e.outcome?.currency ?? ''),
    result,
    printable(e.outcome?.reason ?? ''),
  ]);
  return `${table(['OPENED', 'TERMINAL', 'ACTION', 'REFERENCE', 'AMOUNT', 'CUR', 'RESULT', 'REASON'], rows, new Set([4]))}\n${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}`;
}

const TOTALS_HEADER = ['terminal', 'currency', 'sales', 'salesAmount', 'refunds', 'refundsAmount', 'voids', 'voidsAmount', 'declined', 'unknown', 'unpriced', 'net'];

function totalsCells(r: TotalsRow): string[] {
  return [r.terminal, r.currency, String(r.sales.count), r.sales.amount, String(r.refunds.count), r.refunds.amount, String(r.voids.count), r.voids.amount,
    String(r.declined.count), String(r.unknown.count), String(r.unpriced.count), r.net];
}

export function totalsTable(rows: readonly TotalsRow[], format: 'text' | 'csv'): string {
  // Text cells (terminal, currency) neutralised; the counts and sums are ours, and a spreadsheet must read a net of -0.10 as a number.
  if (format === 'csv') return [TOTALS_HEADER.join(','), ...rows.map((r) => totalsCells(r).map((c, i) => (i < 2 ? csvCell(c) : c)).join(','))].join('\r\n');
  if (rows.length === 0) return '(no payments)';
  const text = rows.map((r) => totalsCells(r).map((c, i) => (i < 2 ? printable(c) : c)));
  return table(['TERMINAL', 'CUR', 'SALES', 'AMOUNT', 'REFUNDS', 'AMOUNT', 'VOIDS', 'AMOUNT', 'DECLINED', 'UNKNOWN', 'UNPRICED', 'NET'], text, new Set([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
}
