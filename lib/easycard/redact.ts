/**
 * Redaction by value: the trade password, its SHA-256 TradeKey, the refund
 * password and its hash must not reach a flow, a log or an error, whatever
 * key they sit under and however Scan2Pay encoded its echo (JSON strings
 * inside strings, twice; URL-encoded; base64). Key-name redaction
 * (withoutCredentials) runs as well.
 */
import { REDACTED, withoutCredentials } from './response';

export type Redactor = <T>(value: T) => T;

const MIN_SECRET = 4;
const BASE64ISH = /^[A-Za-z0-9+/_-]{12,}={0,2}$/;

/** The forms a secret can take inside a text. */
function formsOf(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  const forms = new Set([secret, once, twice, encodeURIComponent(secret), encodeURIComponent(once)]);
  if (/^[0-9a-f]+$/i.test(secret)) {
    forms.add(secret.toLowerCase());
    forms.add(secret.toUpperCase());
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
}

function decodedViews(text: string): string[] {
  const views: string[] = [];
  if (text.includes('%')) {
    try {
      views.push(decodeURIComponent(text.replace(/\+/g, ' ')));
    } catch {
      // not URL-encoded
    }
  }
  const compact = text.replace(/\s+/g, '');
  if (BASE64ISH.test(compact)) {
    const bytes = Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    views.push(bytes.toString('utf8'), bytes.toString('latin1'));
  }
  return views;
}

/** A redactor for these secrets (empty ones ignored). Holds them in a closure only. */
export function makeRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const forms = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET).flatMap(formsOf))];
  const lowerForms = forms.map((f) => f.toLowerCase());
  const holds = (text: string) => {
    const lower = text.toLowerCase();
    return lowerForms.some((f) => lower.includes(f));
  };
  const scrub = (text: string, depth: number): string => {
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    if (holds(out)) return REDACTED;
    // A secret visible only once decoded (URL, base64, …, nested): the whole text goes.
    if (depth < 3 && decodedViews(out).some((view) => holds(view) || scrub(view, depth + 1) !== view)) return REDACTED;
    return out;
  };
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > 32) return REDACTED;
    if (typeof value === 'string') return forms.length === 0 ? value : scrub(value, 0);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[forms.length === 0 ? k : scrub(k, 0)] = walk(v, depth + 1);
      return out;
    }
    return value;
  };
  return <T>(value: T): T => walk(withoutCredentials(value), 0) as T;
}

/** Redacts the secrets from an error's message (and its cause's), for logs and flows. */
export function redactError(redact: Redactor, err: unknown): unknown {
  if (!(err instanceof Error)) return redact(err);
  const message = redact(err.message);
  if (message !== err.message) {
    try {
      Object.defineProperty(err, 'message', { value: message, configurable: true, writable: true });
    } catch {
      // a frozen error keeps its text
    }
  }
  if (err.cause !== undefined) redactError(redact, err.cause);
  return err;
}
