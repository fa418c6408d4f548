import { strict as assert } from 'node:assert';
import { simulateMany } from './sim/harness';

/** The full suite's run of the simulation: 10,000 seeds (1 … 10000), every invariant holding. */
describe('deterministic simulation: 10,000 seeds', function () {
  this.timeout(600_000);
  it('10,000 seeds: no invariant violated', async () => {
    const result = await simulateMany(1, 10_000);
    const lines = result.violations.slice(0, 5).map((v) => `seed ${v.seed} ${v.invariant}: ${v.message}\n  ${v.trace.join('\n  ')}`);
    assert.equal(result.violations.length, 0, lines.join('\n'));
    assert.equal(result.runs, 10_000);
  });
});
