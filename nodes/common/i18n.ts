import type { NodeAPI } from 'node-red';
import { fieldDetail, isWonderError } from '../../lib/protocol';
import { isPairAgainError } from '../../lib/session';

/** Shared message catalog of the Wonder nodes: the wonder-terminal set's. */
export const NS = 'node-red-contrib-wonder-ecr/wonder-terminal';

/**
 * Message catalog of the EasyCard nodes: the easycard-retry set's
 * (locales/<lang>/easycard-retry.json). The easycard-account editor has its own
 * catalog for its labels; runtime texts of both nodes live here.
 */
export const EC_NS = 'node-red-contrib-wonder-ecr/easycard-retry';

export function t(RED: NodeAPI, key: string, params?: Record<string, string | number>): string {
  return RED._(`${NS}:${key}`, params);
}

/** A text of the EasyCard nodes' catalog. */
export function ect(RED: NodeAPI, key: string, params?: Record<string, string | number>): string {
  return RED._(`${EC_NS}:${key}`, params);
}

/** The text of `key` in the first catalog that has it. */
function lookup(RED: NodeAPI, catalogs: readonly string[], key: string): string | undefined {
  for (const ns of catalogs) {
    const text = RED._(`${ns}:${key}`);
    if (text !== key && text !== `${ns}:${key}`) return text;
  }
  return undefined;
}

/**
 * Turns any library error (the WonderError family, EasyCard errors included)
 * into translated text: the node's own catalog first (`ns`: NS or EC_NS), then
 * the shared one. The library's English detail is kept after it (it never
 * holds a secret: no pairing code, key, password or TradeKey).
 *
 * A bad field reads as the field's translated rule, then the field's name and
 * what was given (or, where the message does not say, its detail), so the
 * field stays visible whatever the language.
 */
export function describeError(RED: NodeAPI, err: unknown, ns: string = NS): string {
  if (!isWonderError(err)) return err instanceof Error ? err.message : String(err);
  const catalogs = ns === NS ? [NS] : [ns, NS];
  if (isPairAgainError(err)) return `${t(RED, 'errors.pairAgain')}: ${err.message}`;
  // A rule the input broke beyond its form (a refund beyond its sale): the rule's text, the field and the detail.
  const rule = (err as { rule?: unknown }).rule;
  const ruleText = err.code === 'E_VALIDATION' && typeof rule === 'string' ? lookup(RED, catalogs, `errors.rule.${rule}`) : undefined;
  if (ruleText !== undefined) return `${ruleText} (${err.field}: ${fieldDetail(err)})`;
  const field = err.code === 'E_VALIDATION' && err.field !== undefined ? lookup(RED, catalogs, `errors.field.${err.field}`) : undefined;
  if (field !== undefined) {
    const detail = fieldDetail(err);
    const given = /, got (.+)$/.exec(detail)?.[1] ?? detail;
    return `${field} (${err.field}: ${given})`;
  }
  const code = lookup(RED, catalogs, `errors.${err.code}`);
  const text = code === undefined ? err.message : `${code}: ${err.message}`;
  // The cause the terminal's diagnosis names (see line-monitor.ts), when the line is why it failed.
  const diagnosis = (err as { diagnosis?: unknown }).diagnosis;
  return typeof diagnosis === 'string' ? `${text}. ${t(RED, `diagnosis.${diagnosis}`)}` : text;
}

/**
 * The Error a flow's Catch node gets: translated text, the code, the field,
 * the payment's referenceID and whether it was certainly not sent. Nothing
 * from inside the library: no cause chain, no terminal or Scan2Pay body, no
 * stack frames.
 */
export function translatedError(
  RED: NodeAPI,
  err: unknown,
  ns: string = NS,
): Error & { code?: string; field?: string; referenceID?: string; notSent?: boolean } {
  const out = new Error(describeError(RED, err, ns)) as Error & { code?: string; field?: string; referenceID?: string; notSent?: boolean };
  if (isWonderError(err)) {
    out.name = err.name;
    out.code = err.code;
    if (err.field !== undefined) out.field = err.field;
    if (err.referenceID !== undefined) out.referenceID = err.referenceID;
    if (err.notSent !== undefined) out.notSent = err.notSent;
  } else {
    out.name = 'WonderError';
    out.code = 'E_INTERNAL';
  }
  out.stack = `${out.name}: ${out.message}`;
  return out;
}
