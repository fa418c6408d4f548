/**
 * Why a terminal could not be reached, in a few words a status can show.
 * The full error text (host, port, code) goes to the log; this is its gist.
 */
export type LinkCause = 'refused' | 'timeout' | 'host' | 'tls' | 'http' | 'gateway' | 'port' | 'other';

const CODES: ReadonlyArray<[RegExp, LinkCause]> = [
  [/^ECONNREFUSED$|^ECONNRESET$|^EPIPE$/, 'refused'],
  [/^ETIMEDOUT$|^EHOSTUNREACH$|^ENETUNREACH$|^EHOSTDOWN$|^ENETDOWN$|^E_TIMEOUT$/, 'timeout'],
  [/^ENOTFOUND$|^EAI_AGAIN$|^EAI_NONAME$/, 'host'],
  [/CERT|^ERR_TLS|^ERR_SSL|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/, 'tls'],
  [/^ENOENT$|^EACCES$|^EBUSY$|^ENODEV$|^ENXIO$|^EIO$/, 'port'],
];

/** The `code`s of an error and its causes (at most five deep), outermost first. */
export function errorCodesOf(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; depth < 5 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return codes;
}

/** Classifies a transport or time-out error. */
export function linkCause(err: unknown): LinkCause {
  if (err === null || typeof err !== 'object') return 'other';
  if ((err as { name?: unknown }).name === 'CloudApiError') return 'gateway';
  for (const code of errorCodesOf(err)) {
    for (const [pattern, cause] of CODES) if (pattern.test(code)) return cause;
  }
  const message = err instanceof Error ? err.message : '';
  if (/answered HTTP \d+/.test(message)) return 'http';
  if (/TLS certificate/.test(message)) return 'tls';
  if (/Cannot open|No such file|Permission denied|not found/i.test(message)) return 'port';
  return 'other';
}
