import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal, journalArchives, journalTotals, readJournalFile } from '../lib/session';

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-archive-')), 'journal-T1.jsonl');
}

function amountOf(i: number): string {
  return `${(i % 997) + 1}.${String(i % 100).padStart(2, '0')}`;
}

describe('journal compaction keeps history in monthly archives', function () {
  this.timeout(120_000);

  it('25,000 settled entries with maxSettled 10,000: every one still found, totals unchanged', async () => {
    const file = tempFile();
    const journal = new Journal(file, { maxSettled: 10_000 });
    const months = ['2026-09', '2026-10', '2026-11'];
    const expected = new Map<string, string>();
    for (let start = 0; start < 25_000; start += 1_000) {
      const batch: Array<Promise<unknown>> = [];
      for (let i = start; i < start + 1_000; i++) {
        const openedAt = `${months[Math.floor(i / 10_000)]!}-${String((i % 28) + 1).padStart(2, '0')}T10:00:00.000Z`;
        batch.push(journal.begin({ referenceID: `A${i}`, action: i % 10 === 9 ? 'Refund' : 'Sale', amount: amountOf(i), currency: i % 3 === 0 ? 'USD' : 'TWD', terminal: 'T1', requestID: `r${i}`, openedAt }));
        expected.set(`A${i}`, i % 7 === 0 ? 'Failed' : 'Success');
      }
      await Promise.all(batch);
      await Promise.all([...Array(1_000).keys()].map((k) => {
        const i = start + k;
        return journal.recordOutcome(i % 10 === 9 ? 'Refund' : 'Sale', `A${i}`, expected.get(`A${i}`) as 'Success', { verdict: expected.get(`A${i}`) === 'Success' ? 'approved' : 'declined' });
      }));
    }
    await journal.begin({ referenceID: 'STILL-OPEN', action: 'Sale', amount: '1.00', currency: 'TWD', terminal: 'T1', requestID: 'r-open' });
    const inMemory = journal.all();
    assert.ok(inMemory.length < 25_000, `compaction ran: ${inMemory.length} in memory`);
    await journal.close();

    const archives = journalArchives(file);
    assert.deepEqual(archives.map((a) => a.month), ['2026-09', '2026-10'], 'the newest 10,000 (November and late October) stay in the journal');
    for (const a of archives) assert.equal(fs.statSync(a.file).mode & 0o777, 0o600);
    const mainLines = fs.readFileSync(file, 'utf8').trim().split('\n').length;
    assert.ok(mainLines < 2 * 12_500 + 2, `${mainLines} lines in the journal itself`);

    const read = readJournalFile(file);
    assert.equal(read.length, 25_001);
    const byRef = new Map(read.map((e) => [e.referenceID, e]));
    for (const [ref, state] of expected) assert.equal(byRef.get(ref)?.state, state, ref);
    assert.equal(byRef.get('STILL-OPEN')!.state, 'open');

    // Totals from the files equal totals computed from what was written.
    let twd = 0n;
    let usd = 0n;
    for (let i = 0; i < 25_000; i++) {
      if (expected.get(`A${i}`) !== 'Success') continue;
      const [whole, cents] = amountOf(i).split('.');
      const minor = (BigInt(whole!) * 100n + BigInt(cents!)) * (i % 10 === 9 ? -1n : 1n);
      if (i % 3 === 0) usd += minor;
      else twd += minor;
    }
    const rows = journalTotals(read);
    const net = (m: bigint) => `${m < 0n ? '-' : ''}${(m < 0n ? -m : m) / 100n}.${String((m < 0n ? -m : m) % 100n).padStart(2, '0')}`;
    assert.deepEqual(rows.map((r) => [r.currency, r.net]), [['TWD', net(twd)], ['USD', net(usd)]]);
    assert.equal(rows.find((r) => r.currency === 'TWD')!.unknown.count, 1);

    // A month's period reads only the archives it needs, and finds the same entries of that month.
    const october = readJournalFile(file, { from: '2026-10-01T00:00:00Z', to: '2026-11-01T00:00:00Z' });
    const octoberRefs = october.filter((e) => e.openedAt.startsWith('2026-10')).length;
    assert.equal(octoberRefs, 10_000);
    assert.ok(!october.some((e) => e.openedAt.startsWith('2026-09')), 'September archive not read');

    // A reopened journal sees only the recent ones in memory, and compacts again without losing any.
    const reopened = new Journal(file, { maxSettled: 10_000 });
    assert.equal(reopened.get('Sale', 'STILL-OPEN')!.state, 'open');
    await reopened.close();
    assert.equal(readJournalFile(file).length, 25_001);
  });

  it('an archive line torn by a power cut does not swallow the next append', async () => {
    const file = tempFile();
    const torn = `${file.slice(0, -'.jsonl'.length)}.archive-2026-11.jsonl`;
    fs.writeFileSync(torn, '{"referenceID":"TORN","act', { mode: 0o600 });
    const journal = new Journal(file, { maxSettled: 2 });
    for (let i = 0; i < 6; i++) {
      await journal.begin({ referenceID: `B${i}`, action: 'Sale', amount: '2.00', currency: 'TWD', terminal: 'T1', requestID: `r${i}`, openedAt: '2026-11-05T00:00:00.000Z' });
      await journal.recordOutcome('Sale', `B${i}`, 'Success', { verdict: 'approved' });
    }
    await journal.close();
    assert.deepEqual(readJournalFile(file).map((e) => e.referenceID).sort(), ['B0', 'B1', 'B2', 'B3', 'B4', 'B5']);
  });
});
