import { strict as assert } from 'node:assert';
import { cipher, encryptText, everyOneByteChange, isSecurityError, requests, UUID_A, noStackTracesInThisSuite } from './helpers/seed-cipher';

// Split from strict-decoding.test.ts: CPU-bound for tens of seconds, so it runs
// in the full suite (beside the other files, in parallel), not in test:unit.
describe('strict decoding: every one-byte change of every seed request (exhaustive: full tier)', function () {
  this.timeout(180_000);
  noStackTracesInThisSuite();

  it('rejects every one-byte change of every seed request ciphertext (the simulator reads requests the same way)', () => {
    let variants = 0;
    for (const v of requests) {
      for (const t of everyOneByteChange(v.data)) {
        variants++;
        assert.throws(() => cipher.decryptRequest(t.data), isSecurityError, `${v.action} byte ${t.index} ^ ${t.delta} was accepted`);
      }
    }
    assert.ok(variants > 100_000);
    // A request is printable ASCII, as the package writes it.
    assert.throws(() => cipher.decryptRequest(encryptText(`{"header":{"requestID":"${UUID_A}"},"body":{"customerOrderID":"訂單"}}`)), isSecurityError);
  });
});
