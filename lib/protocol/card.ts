/**
 * Card data a terminal's answer carries (`creditCard`): what a flow or the
 * command line gets by default, and what only on request. The card's brand
 * (`paymentMethod`, beside `creditCard`) and its last four digits are what a
 * receipt or a customer needs; the first six digits, the hash and the token
 * identify the card (with the first six and last four known, an unkeyed hash
 * gives the whole number back in about 10^5 guesses).
 */

/** The card fields given only when raw card data is asked for. */
export const RAW_CARD_FIELDS = ['panPrefix6Digits', 'panHash', 'panToken'] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A response body with its card data minimised: `creditCard` keeps only
 * `panLast4Digits` (its last four characters); everything else in it (prefix,
 * hash, token, any field a terminal adds) is left out. A body without
 * `creditCard` is returned as it is; the body given is never changed.
 */
export function minimiseCard<T>(body: T): T {
  if (!isRecord(body) || !('creditCard' in body)) return body;
  const { creditCard, ...rest } = body;
  if (!isRecord(creditCard)) return rest as T;
  const last4 = creditCard.panLast4Digits;
  return { ...rest, creditCard: typeof last4 === 'string' ? { panLast4Digits: last4.slice(-4) } : {} } as T;
}
