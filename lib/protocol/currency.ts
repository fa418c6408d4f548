/**
 * Minor units of currencies (ISO 4217, list one): how many decimals an amount
 * in a currency may carry. Pure data, no I/O.
 *
 * Most currencies have two. The table lists the ones that differ; a code not
 * in it (every other ISO code, and any three capital letters the standard
 * does not list) has two, which is what the terminal's amount format carries.
 */

/** Currencies whose minor unit is not two decimals (ISO 4217, amendment 179). */
const MINOR_UNITS: Readonly<Record<string, number>> = Object.freeze({
  // No minor unit: whole amounts only.
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  // Three decimals.
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  // Four decimals.
  CLF: 4, UYW: 4,
});

/** The most decimals any currency has (CLF, UYW): the longest fraction an amount is ever written with. */
export const MAX_MINOR_UNIT = 4;

/** Decimals of a currency's minor unit: 0 (JPY), 3 (KWD), 4 (CLF), otherwise 2. */
export function minorUnit(currency: string): number {
  return Object.hasOwn(MINOR_UNITS, currency) ? MINOR_UNITS[currency]! : 2;
}

/** Whether a currency's minor unit is listed as other than two (for tests and docs). */
export function hasListedMinorUnit(currency: string): boolean {
  return Object.hasOwn(MINOR_UNITS, currency);
}
