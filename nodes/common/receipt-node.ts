import type { NodeAPI } from 'node-red';
import { canonicalAmount } from '../../lib/protocol';
import type { Ledger } from '../../lib/ledger';
import { buildReceipt, type Outcome, type Receipt, type ReceiptTexts, type ReceiptWidth } from '../../lib/session';
import { t } from './i18n';

const ENTRY_MODES = ['contactless', 'chip', 'contact', 'insert', 'swipe', 'magstripe', 'manual', 'fallback', 'qr'];

/** Texts already looked up, per runtime: its language is set when it starts. */
const textsOf = new WeakMap<NodeAPI, ReceiptTexts>();

/** The receipt's texts in the runtime's language (Node-RED's `lang` setting, else the system locale), looked up once. */
export function receiptTexts(RED: NodeAPI): ReceiptTexts {
  let texts = textsOf.get(RED);
  if (texts === undefined) {
    texts = lookUpTexts(RED);
    textsOf.set(RED, texts);
  }
  return texts;
}

function lookUpTexts(RED: NodeAPI): ReceiptTexts {
  const r = (key: string) => t(RED, `receipt.${key}`);
  return {
    title: { Sale: r('title.Sale'), Refund: r('title.Refund'), Void: r('title.Void') },
    customerCopy: r('customerCopy'),
    merchantCopy: r('merchantCopy'),
    date: r('date'),
    terminal: r('terminal'),
    amount: r('amount'),
    card: r('card'),
    entry: r('entry'),
    rrn: r('rrn'),
    reference: r('reference'),
    originalReference: r('originalReference'),
    order: r('order'),
    brn: r('brn'),
    errorCode: r('errorCode'),
    result: { approved: r('result.approved'), declined: r('result.declined'), voided: r('result.voided') },
    voidRefused: r('result.voidRefused'),
    entryModes: Object.fromEntries(ENTRY_MODES.map((m) => [m, r(`entryMode.${m}`)])),
  };
}

/** The node's receipt width: 48 columns (80 mm roll) when set so, else 32 (58 mm). */
export function receiptWidth(value: unknown): ReceiptWidth {
  return String(value) === '48' ? 48 : 32;
}

/**
 * `msg.receipt` for a settled Sale, Refund or Void; undefined for anything
 * else (an unknown outcome prints nothing). A Void's amount and currency come
 * from the journal's record of the voided transaction (its answer has none).
 */
export function receiptFor(
  RED: NodeAPI,
  outcome: Outcome,
  asked: { referenceID?: string; amount?: unknown; currency?: unknown; orgReferenceID?: unknown },
  journal: Ledger | undefined,
  width: ReceiptWidth,
): Receipt | undefined {
  const action = outcome.action;
  if (action !== 'Sale' && action !== 'Refund' && action !== 'Void') return undefined;
  const verdict = outcome.verdict ?? (outcome.result === 'Success' ? (action === 'Void' ? 'voided' : 'approved') : outcome.result === 'Failed' ? 'declined' : undefined);
  if (verdict === undefined || verdict === 'unknown') return undefined;
  const ref = outcome.referenceID ?? asked.referenceID;
  if (ref === undefined) return undefined;
  const own = journal?.get(action, ref);
  const target = action === 'Void' ? (journal?.get('Sale', ref) ?? journal?.get('Refund', ref)) : undefined;
  const known = target ?? own;
  const amount = known?.amount ?? (action !== 'Void' ? canonicalAmount(asked.amount) : undefined);
  const currency = known?.currency ?? (action !== 'Void' && typeof asked.currency === 'string' ? asked.currency : undefined);
  const orgReferenceID = own?.orgReferenceID ?? (typeof asked.orgReferenceID === 'string' ? asked.orgReferenceID : undefined);
  return buildReceipt(
    {
      action,
      verdict,
      referenceID: ref,
      ...(action === 'Refund' && orgReferenceID !== undefined ? { orgReferenceID } : {}),
      ...(amount !== undefined ? { amount } : {}),
      ...(currency !== undefined ? { currency } : {}),
      ...(typeof outcome.header?.serverDeviceSN === 'string' ? { terminal: outcome.header.serverDeviceSN } : {}),
      ...(typeof outcome.header?.timestamp === 'string' ? { timestamp: outcome.header.timestamp } : {}),
      // A Void's answer describes the Void, not the card: only a Sale or Refund body is read for card and amount.
      ...(action !== 'Void' ? { body: outcome.body } : {}),
      width,
    },
    receiptTexts(RED),
  );
}
