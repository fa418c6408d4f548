import type { NodeAPI } from 'node-red';
import { isWonderError } from '../../lib/protocol';
import { isPairAgainError } from '../../lib/session';

/** Shared message catalog: the wonder-terminal set's. */
export const NS = 'node-red-contrib-wonder-ecr/wonder-terminal';

export function t(RED: NodeAPI, key: string, params?: Record<string, string | number>): string {
  return RED._(`${NS}:${key}`, params);
}

function has(RED: NodeAPI, key: string): boolean {
  return RED._(`${NS}:${key}`) !== key && RED._(`${NS}:${key}`) !== `${NS}:${key}`;
}

/**
 * Turns a library error into translated text. The library's own English
 * detail is kept after it (it never holds a secret).
 */
export function describeError(RED: NodeAPI, err: unknown): string {
  if (!isWonderError(err)) return err instanceof Error ? err.message : String(err);
  if (isPairAgainError(err)) return `${t(RED, 'errors.pairAgain')}: ${err.message}`;
  if (err.code === 'E_VALIDATION' && err.field !== undefined && has(RED, `errors.field.${err.field}`)) {
    // The translation says what is wanted; keep what was given, and the field's name.
    const given = /, got (.+)$/.exec(err.message)?.[1];
    return `${t(RED, `errors.field.${err.field}`)} (${err.field}${given === undefined ? '' : `: ${given}`})`;
  }
  return has(RED, `errors.${err.code}`) ? `${t(RED, `errors.${err.code}`)}: ${err.message}` : err.message;
}

/**
 * The Error a flow's Catch node gets: translated text, the code, the field,
 * the payment's referenceID and whether it was certainly not sent. Nothing
 * from inside the library: no cause chain, no terminal body, no stack frames.
 */
export function translatedError(RED: NodeAPI, err: unknown): Error & { code?: string; field?: string; referenceID?: string; notSent?: boolean } {
  const out = new Error(describeError(RED, err)) as Error & { code?: string; field?: string; referenceID?: string; notSent?: boolean };
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
