import { strict as assert } from 'node:assert';
import { INVARIANTS, simulate, simulateMany } from './sim/harness';

/**
 * The deterministic simulation (test/sim/harness.ts, docs/simulation.md) in
 * the fast tier: 1,000 seeds, every invariant holding; the same seed gives the
 * same run. test/simulation-10k.test.ts runs 10,000 in the full suite.
 */
describe('deterministic simulation: 1,000 seeds of a gateway under faults', () => {
  // Two halves of 500 seeds, each well inside the tier's per-test time-out on a loaded 2-core machine.
  const faults: Record<string, number> = {};
  for (const [from, runs] of [[1, 500], [501, 500]] as const) {
    it(`seeds ${from} … ${from + runs - 1}: no invariant violated`, async () => {
      const result = await simulateMany(from, runs);
      const lines = result.violations.slice(0, 5).map((v) => `seed ${v.seed} ${v.invariant}: ${v.message}\n  ${v.trace.join('\n  ')}`);
      assert.equal(result.violations.length, 0, lines.join('\n'));
      assert.equal(result.runs, runs);
      for (const [kind, n] of Object.entries(result.faults)) faults[kind] = (faults[kind] ?? 0) + n;
    });
  }

  it('the 1,000 seeds injected every kind of fault', () => {
    for (const kind of ['crash', 'disk-full', 'clock-step-back', 'clock-step-forward', 'terminal-swapped', 'answer-lost', 'answer-late', 'doubled', 'contradictory', 'undecryptable', 'answer-about-other', 'lookup-lost', 'lookup-slow', 'lookup-names-other', 'disconnect-before-send', 'disconnect-after-send']) {
      assert.ok((faults[kind] ?? 0) > 0, `no ${kind} in 1,000 seeds`);
    }
  });

  it('the same seed gives the same trace and digest; another seed another', async () => {
    const a = await simulate({ seed: 4242 });
    const b = await simulate({ seed: 4242 });
    const c = await simulate({ seed: 4243 });
    assert.equal(a.digest, b.digest);
    assert.deepEqual(a.trace, b.trace);
    assert.notEqual(a.digest, c.digest);
    assert.ok(a.trace.length > 3);
  });

  it('names the invariants it checks', () => {
    assert.deepEqual([...INVARIANTS], ['evidence', 'at-most-once', 'not-sent', 'delivered-once', 'none-lost', 'abort-queued', 'ledger-totals']);
  });
});
