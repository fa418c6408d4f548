/** A device SN as a terminal reports it, if it is one (printable, 1 to 64 characters); else undefined. */
export function deviceSnOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const sn = value.trim();
  return sn.length > 0 && sn.length <= 64 && /^[\x21-\x7e]+$/.test(sn) ? sn : undefined;
}
