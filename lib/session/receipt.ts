/**
 * Receipt lines for a settled Sale, Refund or Void, for a small thermal
 * printer: a customer copy and a merchant copy, each line at most `width`
 * printer columns (32 on a 58 mm roll, 48 on an 80 mm one; a CJK character
 * takes two columns). No Node-RED import: the texts are given translated.
 *
 * Card data: only the last 4 digits are printed, never the first 6, the
 * hash or the token.
 */

export type ReceiptAction = 'Sale' | 'Refund' | 'Void';
export type ReceiptVerdict = 'approved' | 'declined' | 'voided';
export type ReceiptWidth = 32 | 48;

export interface Receipt {
  customer: string[];
  merchant: string[];
}

/** Every text a receipt prints, already in the reader's language. */
export interface ReceiptTexts {
  title: Record<ReceiptAction, string>;
  customerCopy: string;
  merchantCopy: string;
  date: string;
  terminal: string;
  amount: string;
  card: string;
  entry: string;
  rrn: string;
  reference: string;
  originalReference: string;
  order: string;
  brn: string;
  errorCode: string;
  result: Record<ReceiptVerdict, string>;
  /** A Void the terminal refused (the transaction stands). */
  voidRefused: string;
  /** Known entry modes (contactless, chip, …), by the terminal's word in lower case. */
  entryModes: Record<string, string>;
}

export interface ReceiptInput {
  action: ReceiptAction;
  verdict: ReceiptVerdict;
  /** Sale / Refund: its reference; Void: the voided transaction's. */
  referenceID: string;
  orgReferenceID?: string;
  amount?: string;
  currency?: string;
  /** The terminal's serial number (response header). */
  terminal?: string;
  /** The terminal's timestamp (ISO 8601 with offset); the transaction time wins when the body has one. */
  timestamp?: string;
  /** The terminal's answer body (transactionTime, paymentMethod, paymentEntryType, creditCard, rrn, brn, …). */
  body?: unknown;
  width?: ReceiptWidth;
  /** When the terminal gave no time at all. */
  now?: Date;
}

/** Printer columns a character takes: 2 for East Asian wide and full-width characters, 0 for combining marks. */
function columns(code: number): number {
  if (code < 0x300) return 1;
  if (code >= 0x300 && code <= 0x36f) return 0;
  if (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x20000 && code <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** Text whose every character takes one column (all below U+0300): its width is its length. */
const NARROW = /^[\u0000-\u02ff]*$/;

/** Printer columns a text takes. */
export function displayWidth(text: string): number {
  if (NARROW.test(text)) return text.length;
  let w = 0;
  for (const ch of text) w += columns(ch.codePointAt(0)!);
  return w;
}

/** Splits a text into pieces of at most `width` columns. */
function chop(text: string, width: number): string[] {
  if (text.length <= width && (text.length <= width / 2 || NARROW.test(text))) return [text];
  const out: string[] = [];
  if (NARROW.test(text)) {
    for (let i = 0; i < text.length; i += width) out.push(text.slice(i, i + width));
    return out;
  }
  let line = '';
  let w = 0;
  for (const ch of text) {
    const c = columns(ch.codePointAt(0)!);
    if (w + c > width) {
      out.push(line);
      line = '';
      w = 0;
    }
    line += ch;
    w += c;
  }
  if (line !== '' || out.length === 0) out.push(line);
  return out;
}

/** A terminal's text as it may be printed: printable, trimmed, at most 64 characters. */
function clean(value: unknown): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
    .trim()
    .slice(0, 64);
  return text === '' ? undefined : text;
}

function center(text: string, width: number): string[] {
  return chop(text, width).map((piece) => {
    const pad = Math.floor((width - displayWidth(piece)) / 2);
    return ' '.repeat(Math.max(0, pad)) + piece;
  });
}

/** `label    value` on one line when it fits; else the label on its own line and the value below. */
function field(label: string, value: string | undefined, width: number): string[] {
  if (value === undefined) return [];
  const gap = width - displayWidth(label) - displayWidth(value);
  if (gap >= 1) return [label + ' '.repeat(gap) + value];
  // Too long for one line with its label: the label, then the value right-aligned below, or wrapped when longer than a line.
  if (displayWidth(value) <= width) return [...chop(label, width), ' '.repeat(width - displayWidth(value)) + value];
  return [...chop(label, width), ...chop(value, width)];
}

/** "2025-11-12 10:12:04" from an ISO 8601 time, in the offset the terminal gave. */
function printedTime(iso: string | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})/.exec(iso);
  return m === null ? undefined : `${m[1]} ${m[2]}`;
}

function localTime(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** `**** 1234` from the terminal's last 4 digits; nothing when they are not 4 digits. */
export function maskedCard(last4: unknown): string | undefined {
  return typeof last4 === 'string' && /^[0-9]{4}$/.test(last4) ? `**** ${last4}` : undefined;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** Builds both copies of a receipt. */
export function buildReceipt(input: ReceiptInput, texts: ReceiptTexts): Receipt {
  const width = input.width ?? 32;
  const body = record(input.body);
  const card = record(body.creditCard);
  const amount = clean(body.amount) ?? input.amount;
  const currency = clean(body.currency) ?? input.currency;
  const time = printedTime(clean(body.transactionTime)) ?? printedTime(input.timestamp) ?? localTime(input.now ?? new Date());
  const brand = clean(body.paymentMethod)?.toUpperCase();
  const masked = maskedCard(card.panLast4Digits);
  const entryWord = clean(body.paymentEntryType);
  const entry = entryWord === undefined ? undefined : (texts.entryModes[entryWord.toLowerCase()] ?? entryWord);
  const rule = '-'.repeat(width);

  const copy = (which: 'customer' | 'merchant'): string[] => {
    const lines = [...center(texts.title[input.action], width), ...center(which === 'customer' ? texts.customerCopy : texts.merchantCopy, width), rule];
    lines.push(...field(texts.date, time, width));
    lines.push(...field(texts.terminal, clean(input.terminal), width));
    lines.push(...field(texts.amount, amount !== undefined ? `${currency ?? ''} ${amount}`.trim() : undefined, width));
    const cardText = [brand, masked].filter((s) => s !== undefined).join(' ');
    lines.push(...field(texts.card, cardText === '' ? undefined : cardText, width));
    lines.push(...field(texts.entry, entry, width));
    lines.push(...field(texts.rrn, clean(body.rrn), width));
    lines.push(...field(texts.reference, input.referenceID, width));
    if (input.action === 'Refund') lines.push(...field(texts.originalReference, clean(input.orgReferenceID), width));
    if (which === 'merchant') {
      lines.push(...field(texts.order, clean(body.customerOrderID), width));
      lines.push(...field(texts.brn, clean(body.brn), width));
      if (input.verdict === 'declined') lines.push(...field(texts.errorCode, clean(body.errorCode), width));
    }
    const result = input.action === 'Void' && input.verdict === 'declined' ? texts.voidRefused : texts.result[input.verdict];
    lines.push(rule, ...center(result, width));
    return lines;
  };
  return { customer: copy('customer'), merchant: copy('merchant') };
}
