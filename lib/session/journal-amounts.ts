/**
 * Exact money for the journal's sums: an amount the journal wrote ("12.30",
 * two decimals, see canonicalAmount) as bigint minor units and back. Never
 * goes through binary floating point.
 */

const AMOUNT = /^(\d{1,15})(?:\.(\d{1,2}))?$/;

/** Minor units (hundredths) of an amount string, or undefined when it is not one. */
export function amountToMinor(value: unknown): bigint | undefined {
  if (typeof value !== 'string') return undefined;
  const m = AMOUNT.exec(value.trim());
  if (m === null) return undefined;
  return BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
}

/** An amount in minor units written with two decimals ("-3.05" for -305n). */
export function minorToAmount(minor: bigint): string {
  const negative = minor < 0n;
  const abs = negative ? -minor : minor;
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${(abs / 100n).toString()}.${cents}`;
}
