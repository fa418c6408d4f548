/**
 * Redaction by value: the trade password, its SHA-256 TradeKey, the refund
 * password and its hash must not reach a flow, a log or an error, whatever
 * key they sit under and however Scan2Pay encoded its echo (JSON strings
 * inside strings, twice, also in ASCII only; URL-encoded; base64, base64url,
 * hex), alone or anywhere inside a longer text (`"echo: <base64>"`, a base64
 * value as a URL parameter), also wrapped over several lines or split by
 * spaces (MIME, PEM).
 * Key-name redaction (withoutCredentials) runs as well.
 */
import { REDACTED, withoutCredentials } from './response';

export type Redactor = <T>(value: T) => T;

const MIN_SECRET = 4;
/** How deep encodings are undone (base64 of URL-encoded JSON of …). */
const MAX_DEPTH = 3;
/** The shortest form looked for in a text joined across its whitespace and colons. */
const MIN_GROUPED = 16;
/** The longest base64 run read as a digest's raw bytes: a SHA-256 (44 characters) with text glued to it. */
const MAX_DIGEST_RUN = 64;

/** Runs that may be base64 or base64url, with their padding if any. */
const BASE64_RUN = /[A-Za-z0-9+/_-]{6,}={0,2}/g;
/** Runs that may be hex (4 bytes or more). */
const HEX_RUN = /[0-9A-Fa-f]{8,}/g;
/**
 * Base64, base64url or hex wrapped over lines or split by spaces: runs of
 * their characters with whitespace between. A match starts only where a run
 * starts, so a long run with no whitespace after it is read once, not once
 * from each of its characters.
 */
const WRAPPED_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]+={0,2}(?:\s+[A-Za-z0-9+/_-]+={0,2})+/g;
/** What may stand between the groups of a wrapped or grouped encoding. */
const SEPARATED = /[\s:]/;
const SEPARATORS = /[\s:]+/g;
/** A token, up to the separators of a query, a header or a sentence; one holding `%XX` may hold URL-encoded bytes. */
const TOKEN = /[^\s&=?#"',;<>]+/g;
const PERCENT_BYTE = /%[0-9A-Fa-f]{2}/;

/** A text URL-encoded; a lone surrogate, which no URL can carry, written as U+FFFD. */
function uriEncoded(encode: (text: string) => string, text: string): string {
  return encode(text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'));
}

/** The forms a secret can take inside a text. */
function formsOf(secret: string): string[] {
  const once = JSON.stringify(secret).slice(1, -1);
  const twice = JSON.stringify(once).slice(1, -1);
  // JSON written in ASCII only (`\u00f1`: Python's json.dumps, Jackson's ESCAPE_NON_ASCII), once and twice.
  const asciiOnce = once.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const asciiTwice = JSON.stringify(asciiOnce).slice(1, -1);
  // URL-encoded as encodeURIComponent, encodeURI and a form (a space as `+`) write it.
  const url = uriEncoded(encodeURIComponent, secret);
  const forms = new Set([secret, once, twice, asciiOnce, asciiTwice, url, url.replace(/%20/g, '+'), uriEncoded(encodeURI, secret), uriEncoded(encodeURIComponent, once)]);
  // The secret's own base64, base64url and hex, and its base64 URL-encoded, as text: found whatever stands glued to them
  // (text glued to a run shifts how it decodes; a stray `%a` before a URL-encoded value takes its first character).
  const bytes = Buffer.from(secret, 'utf8');
  const base64 = bytes.toString('base64');
  for (const form of [base64, bytes.toString('base64url'), bytes.toString('hex'), encodeURIComponent(base64)]) forms.add(form);
  if (/^[0-9a-f]+$/i.test(secret)) {
    forms.add(secret.toLowerCase());
    forms.add(secret.toUpperCase());
  }
  return [...forms].filter((f) => f.length >= MIN_SECRET).sort((a, b) => b.length - a.length);
}

/** `%XX` sequences decoded as bytes in this encoding, `+` as a space or kept; anything else kept (never throws, unlike decodeURIComponent). */
function percentDecoded(text: string, encoding: 'utf8' | 'latin1', plus: ' ' | '+'): string {
  return (plus === ' ' ? text.replace(/\+/g, ' ') : text).replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString(encoding));
}

/**
 * A text with its `%XX` bytes read as UTF-8 and as Latin-1 (a secret's bytes
 * show in one or the other), its `+` read as a space (a form) and kept (a URL
 * as `new URL()` and `encodeURI` write it); the text itself left out.
 */
function percentViews(text: string): string[] {
  const views = new Set<string>();
  for (const plus of [' ', '+'] as const) for (const encoding of ['utf8', 'latin1'] as const) views.add(percentDecoded(text, encoding, plus));
  views.delete(text);
  return [...views];
}

/** JSON string escapes: `\uXXXX` for any character and `\/` (PHP, .NET and Go escape more than JSON.stringify does). */
const JSON_ESCAPE = /\\(?:u([0-9A-Fa-f]{4})|(["\\/bfnrt]))/g;
const JSON_ESCAPED: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
/** HTML character references (an error page echoing the request). */
const HTML_ENTITY = /&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(amp|lt|gt|quot|apos));/g;
const HTML_NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const codePoint = (n: number): string => (n <= 0x10ffff ? String.fromCodePoint(n) : '\ufffd');

/** The text with its JSON escapes undone, and with its HTML character references undone (each where it has any). */
function markupViews(text: string): string[] {
  const views: string[] = [];
  if (text.includes('\\')) views.push(text.replace(JSON_ESCAPE, (_, hex: string | undefined, c: string) => (hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : (JSON_ESCAPED[c] ?? c))));
  if (text.includes('&')) {
    views.push(text.replace(HTML_ENTITY, (_, dec: string | undefined, hex: string | undefined, name: string) => (dec !== undefined ? codePoint(Number(dec)) : hex !== undefined ? codePoint(parseInt(hex, 16)) : HTML_NAMED[name]!)));
  }
  return views.filter((view) => view !== text);
}

/** A byte string read as UTF-8 and as Latin-1 (a secret's bytes show in one or the other). */
function textsOf(bytes: Buffer): string[] {
  const latin1 = bytes.toString('latin1');
  const utf8 = bytes.toString('utf8');
  return utf8 === latin1 ? [utf8] : [utf8, latin1];
}

/** Anything but printable ASCII and whitespace: no encoding (base64, hex, URL, JSON) writes it. */
const NOT_ENCODED_TEXT = /[^\x20-\x7e\t\n\v\f\r]+/;

/**
 * The stretches of a decoded view that may hold a further encoding, worth
 * decoding in turn. Text glued to the front or back of an encoded run (`0b1a`
 * before a hex run) decodes to stray bytes there; an encoded secret still
 * sits whole in one stretch between them. Random bytes, what most runs
 * decode to, give only short stretches.
 */
function textParts(view: string): string[] {
  return view.split(NOT_ENCODED_TEXT).filter((part) => part.length >= MIN_SECRET);
}

/**
 * What a run may decode to: base64 (or base64url) read from each of the 4
 * alignments (characters glued to its front shift it), hex from each of 2.
 */
function base64Bytes(run: string): Buffer[] {
  const std = run.replace(/-/g, '+').replace(/_/g, '/');
  const bytes: Buffer[] = [];
  for (let skip = 0; skip < 4 && std.length - skip >= 6; skip++) bytes.push(Buffer.from(std.slice(skip), 'base64'));
  return bytes;
}

function base64Views(run: string): string[] {
  return base64Bytes(run).flatMap(textsOf);
}

function hexViews(run: string): string[] {
  const views: string[] = [];
  for (let skip = 0; skip < 2; skip++) {
    const even = run.slice(skip, skip + ((run.length - skip) & ~1));
    if (even.length >= 8) views.push(...textsOf(Buffer.from(even, 'hex')));
  }
  return views;
}

/** One case-blind pattern of these texts (hex digests come in either case); none for none. */
function anyOf(texts: readonly string[]): RegExp | undefined {
  return texts.length === 0 ? undefined : new RegExp(texts.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'i');
}

/** A redactor for these secrets (empty ones ignored). Holds them in a closure only. */
export function makeRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const forms = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET).flatMap(formsOf))];
  // One case-blind pattern of every form (hex digests come in either case).
  const pattern = anyOf(forms);
  const holds = (text: string) => pattern !== undefined && pattern.test(text);
  // Forms long enough to be read out of a text joined across its separators without joining words by chance (a key
  // `1234` in `12:34`): a digest printed in groups.
  const groupedPattern = anyOf(forms.filter((form) => form.length >= MIN_GROUPED));
  /** True when a secret shows in one of these decoded views (at any depth). */
  const revealed = (views: string[], depth: number) => views.some((view) => holds(view) || (depth < MAX_DEPTH && textParts(view).some((part) => hidden(part, depth + 1))));
  // A digest (the TradeKey, the refund key's hash) may also travel as its raw bytes, base64-encoded:
  // a run not much longer than one (32 bytes: 44 characters).
  const digests = forms.some((form) => /^[0-9a-f]{32,}$/i.test(form));
  /** True when a base64 run reveals a secret: in its text, or as the bytes of a digest. */
  const base64Reveals = (run: string, depth: number): boolean =>
    revealed(base64Views(run), depth) || (digests && run.length <= MAX_DIGEST_RUN && base64Bytes(run).some((bytes) => holds(bytes.toString('hex'))));
  /** True when a base64 or hex run of the text reveals a secret. */
  const runsReveal = (text: string, depth: number): boolean => {
    for (const m of text.matchAll(BASE64_RUN)) if (base64Reveals(m[0], depth)) return true;
    for (const m of text.matchAll(HEX_RUN)) if (revealed(hexViews(m[0]), depth)) return true;
    return false;
  };
  /**
   * The same, with the separators taken out first: an encoding wrapped over
   * lines, a digest printed in groups (`fb325a0c 9e…`, `fb:32:5a…`), plain or
   * encoded.
   */
  const wrappedReveals = (text: string, depth: number): boolean => {
    if (!SEPARATED.test(text)) return false;
    const joined = text.replace(SEPARATORS, '');
    return (groupedPattern !== undefined && groupedPattern.test(joined)) || runsReveal(joined, depth);
  };
  /** True when the text holds a secret in any form, plain or encoded, anywhere in it. */
  const hidden = (text: string, depth: number): boolean => {
    if (holds(text)) return true;
    if (PERCENT_BYTE.test(text) && revealed(percentViews(text), depth)) return true;
    if (revealed(markupViews(text), depth)) return true;
    return runsReveal(text, depth) || wrappedReveals(text, depth);
  };
  const scrub = (text: string): string => {
    if (!hidden(text, 0)) return text;
    let out = text;
    for (const form of forms) if (out.includes(form)) out = out.split(form).join(REDACTED);
    if (holds(out)) return REDACTED;
    // Encoded secrets: the run (or URL-encoded token) that reveals one goes, the text around it stays.
    out = out.replace(TOKEN, (token) => (PERCENT_BYTE.test(token) && revealed(percentViews(token), 0) ? REDACTED : token));
    out = out.replace(BASE64_RUN, (run) => (base64Reveals(run, 0) ? REDACTED : run));
    out = out.replace(HEX_RUN, (run) => (revealed(hexViews(run), 0) ? REDACTED : run));
    // Encodings wrapped over lines: the wrapped run goes when its characters, joined, reveal one.
    out = out.replace(WRAPPED_RUN, (run) => (wrappedReveals(run, 0) ? REDACTED : run));
    // Whatever still reveals one (URL-encoding split across tokens, JSON or HTML escapes, a grouped digest): the whole text goes.
    if (hidden(out, 0)) return REDACTED;
    return out;
  };
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > 32) return REDACTED;
    if (typeof value === 'string') return forms.length === 0 ? value : scrub(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (typeof value === 'object' && value !== null) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[forms.length === 0 ? k : scrub(k)] = walk(v, depth + 1);
      return out;
    }
    return value;
  };
  return <T>(value: T): T => walk(withoutCredentials(value), 0) as T;
}

/** Redacts the secrets from an error's message and stack (and its causes'), for logs and flows. */
export function redactError(redact: Redactor, err: unknown, seen: Set<unknown> = new Set()): unknown {
  if (!(err instanceof Error)) return redact(err);
  if (seen.has(err)) return err;
  seen.add(err);
  for (const field of ['message', 'stack'] as const) {
    const text = err[field];
    if (typeof text !== 'string') continue;
    const redacted = redact(text);
    if (redacted === text) continue;
    try {
      Object.defineProperty(err, field, { value: redacted, configurable: true, writable: true });
    } catch {
      // a frozen error keeps its text
    }
  }
  if (err.cause !== undefined) redactError(redact, err.cause, seen);
  return err;
}
