import { strict as assert } from 'node:assert';
import { type Invariant, type Plant, simulate } from './sim/harness';

/**
 * The simulation can fail: for each invariant, a bug planted in the
 * simulation's own terminal, link or store (never in the product) is reported
 * as that invariant within a bounded number of seeds.
 */
const PLANTS: Array<{ invariant: Invariant; plant: Plant; what: string }> = [
  { invariant: 'evidence', plant: 'unwitnessed-answers', what: "the terminal's answers escape the witness log (the product's verdicts then rest on nothing seen)" },
  { invariant: 'at-most-once', plant: 'lose-open-on-crash', what: 'the store loses its open payments in a crash (a redelivered order goes out again)' },
  { invariant: 'not-sent', plant: 'sent-then-not-sent', what: 'the link delivers a payment, then says it was not sent' },
  { invariant: 'delivered-once', plant: 'forget-outcome-on-crash', what: 'the store reopens settled payments in a crash (recovery settles and emits them again)' },
  { invariant: 'none-lost', plant: 'lose-open-on-crash', what: 'the store loses its open payments in a crash' },
  { invariant: 'abort-queued', plant: 'misread-lookup-as-payment', what: 'the terminal takes a lookup for the payment it names (so an aborted one appears to reach it)' },
  { invariant: 'ledger-totals', plant: 'drop-outcome-write', what: 'the store acknowledges an outcome and never keeps it' },
];

const BOUND = 200;

describe('deterministic simulation: each invariant is reported when a bug is planted in the simulation', () => {
  for (const { invariant, plant, what } of PLANTS) {
    it(`${invariant}: planted "${plant}" (${what}) is reported within ${BOUND} seeds`, async () => {
      let found: number | undefined;
      for (let seed = 1; seed <= BOUND && found === undefined; seed++) {
        const r = await simulate({ seed, plant });
        if (r.violations.some((v) => v.invariant === invariant && v.seed === seed && v.trace.length > 0)) found = seed;
      }
      assert.ok(found !== undefined, `${invariant} was not reported in ${BOUND} seeds with "${plant}" planted`);
    });
  }

  it('without a plant the same seeds report nothing', async () => {
    for (let seed = 1; seed <= 20; seed++) assert.deepEqual((await simulate({ seed })).violations, []);
  });
});
