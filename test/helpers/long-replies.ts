/**
 * Scan2Pay replies of a given length, in the shapes that cost the redactor
 * most: many short runs of every encoding, and one run as long as the reply
 * (base64, hex, base64 wrapped at 76 columns, a token with no URL-encoding).
 * Used by the redaction tests and the benchmark's linearity figure.
 */
export const LONG_REPLY_SHAPES: Record<string, (length: number) => string> = {
  'text, base64 and hex runs': (length) => {
    const chunk = `ok ${Buffer.from('x'.repeat(60)).toString('base64')} ${'deadbeef'.repeat(8)} text%20here `;
    return chunk.repeat(Math.floor(length / chunk.length));
  },
  'one base64 run': (length) => Buffer.from('y'.repeat(Math.floor(length / 4) * 3)).toString('base64'),
  'one hex run': (length) => 'c0ffee'.repeat(Math.floor(length / 6)),
  'base64 wrapped at 76 columns': (length) =>
    Buffer.from('z'.repeat(Math.floor(((length / 4) * 3 * 76) / 77)))
      .toString('base64')
      .match(/.{1,76}/g)!
      .join('\n'),
  'one token with no URL-encoding in it': (length) => 'q.'.repeat(Math.floor(length / 2)),
};
