import { strict as assert } from 'node:assert';
import { responseHeaderOf } from '../lib';
import { cipher, everyOneByteChange, isSecurityError, laxRead, responses, noStackTracesInThisSuite } from './helpers/seed-cipher';

// Split from strict-decoding.test.ts: CPU-bound for tens of seconds, so it runs
// in the full suite (beside the other files, in parallel), not in test:unit.
describe('strict decoding: every one-byte change of every seed response (exhaustive: full tier)', function () {
  this.timeout(180_000);
  noStackTracesInThisSuite();

  it('rejects every one-byte change (every bit flip included) of every seed response ciphertext as a security error', () => {
    let variants = 0;
    let laxAccepted = 0;
    let bitFlips = 0;
    for (const v of responses) {
      for (const t of everyOneByteChange(v.data)) {
        variants++;
        assert.throws(() => responseHeaderOf(cipher.decryptJson(t.data)), isSecurityError, `${v.action} byte ${t.index} ^ ${t.delta} was accepted`);
        if ((t.delta & (t.delta - 1)) === 0) {
          // The single-bit flips: also through decryptResponse, and counted under the old reading.
          bitFlips++;
          assert.throws(() => cipher.decryptResponse(t.data), isSecurityError);
          if (laxRead(t.data) !== undefined) laxAccepted++;
        }
      }
    }
    const bytes = responses.reduce((n, v) => n + Buffer.from(v.data, 'base64').length, 0);
    assert.equal(variants, bytes * 255);
    // The reading this replaces took about one in 70 of them.
    assert.equal(bitFlips, bytes * 8);
    assert.ok(laxAccepted > bitFlips / 200, `lax reading accepted only ${laxAccepted} of ${bitFlips}`);
  });
});
