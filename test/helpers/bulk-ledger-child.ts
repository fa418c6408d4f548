/**
 * Builds a bulk ledger in a process of its own (the test's heap keeps none of
 * the garbage half a million inserts make): `node bulk-ledger-child.js JSON`
 * with `{file, options, periods: [[from, to], …]}`; prints the expected totals
 * of each period as JSON (minor units as strings).
 */
import { bulkLedger } from './ledger-fixture';

const { file, options, periods } = JSON.parse(process.argv[2]!) as { file: string; options: Parameters<typeof bulkLedger>[1]; periods: Array<[number, number]> };
const { expected } = bulkLedger(file, options);
const out = periods.map(([from, to]) => [...expected(from, to)]);
process.stdout.write(JSON.stringify(out, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
