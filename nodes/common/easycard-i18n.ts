import type { NodeAPI } from 'node-red';
import { isWonderError } from '../../lib/protocol';
import { isEasyCardError } from '../../lib/easycard';

/**
 * Message catalog of the EasyCard nodes: the easycard-retry set's
 * (locales/<lang>/easycard-retry.json). The easycard-account editor has its own
 * catalog for its labels; runtime texts of both nodes live here.
 */
export const EC_NS = 'node-red-contrib-wonder-ecr/easycard-retry';

export function ect(RED: NodeAPI, key: string, params?: Record<string, string | number>): string {
  return RED._(`${EC_NS}:${key}`, params);
}

function has(RED: NodeAPI, key: string): boolean {
  const text = RED._(`${EC_NS}:${key}`);
  return text !== key && text !== `${EC_NS}:${key}`;
}

/**
 * Translated text for a library error. The library's English detail is kept
 * after it (it never holds a password, a key or a TradeKey), so the field name
 * stays visible whatever the language.
 */
export function describeEasyCardError(RED: NodeAPI, err: unknown): string {
  if (isWonderError(err)) {
    if (err.code === 'E_VALIDATION' && err.field !== undefined && has(RED, `errors.field.${err.field}`)) {
      const detail = err.message.startsWith(`${err.field}: `) ? err.message.slice(err.field.length + 2) : err.message;
      return `${ect(RED, `errors.field.${err.field}`)} (${err.field}: ${detail})`;
    }
    return has(RED, `errors.${err.code}`) ? `${ect(RED, `errors.${err.code}`)}: ${err.message}` : err.message;
  }
  if (isEasyCardError(err)) {
    return has(RED, `errors.${err.code}`) ? `${ect(RED, `errors.${err.code}`)}: ${err.message}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** An Error with translated text and the library error's code, field and cause. */
export function translatedEasyCardError(RED: NodeAPI, err: unknown): Error & { code?: string; field?: string } {
  const out = new Error(describeEasyCardError(RED, err), { cause: err }) as Error & { code?: string; field?: string };
  if (isWonderError(err) || isEasyCardError(err)) {
    out.name = err.name;
    out.code = err.code;
    if (isWonderError(err) && err.field !== undefined) out.field = err.field;
  }
  return out;
}
