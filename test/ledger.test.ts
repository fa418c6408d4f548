import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import {
  deviceSnOf,
} from '../lib/session';
import {
  amountToMinorUnits, LedgerBusyError, LedgerVersionError, minorUnitsToAmount, OPEN_PAYMENTS_SQL, openLedger, SCHEMA_VERSION, type JournalEntry,
} from '../lib/ledger';
import { fillLedger } from '../bench/ledger-fill';
import { until } from './helpers/wait';
import { committed, tempLedgerFile, useLedgers } from './helpers/ledger-files';

const LEDGER_MODULE = path.join(__dirname, '..', 'lib', 'ledger', 'index.js');


/** A child process that opens the ledger and holds it until killed. */
async function holder(file: string): Promise<{ child: ChildProcess; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-e', `const { openLedger } = require(${JSON.stringify(LEDGER_MODULE)}); openLedger(${JSON.stringify(file)}); console.log('ready'); setInterval(() => {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`the holder exited (${code}) before it was ready: ${err}`)));
  });
  return {
    child,
    kill: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

const sale = (ref: string, over: Partial<JournalEntry> = {}) => ({ referenceID: ref, action: 'Sale' as const, amount: '10.00', currency: 'TWD', terminal: 'T1', requestID: `q-${ref}`, ...over });

describe('ledger (SQLite through node:sqlite, real files)', () => {
  const open = useLedgers();

  it('is a WAL database of STRICT tables at the current schema version, private to this user', async () => {
    const file = tempLedgerFile();
    const ledger = open(file);
    await ledger.begin(sale('S1'));
    const db = new DatabaseSync(file, { readOnly: true });
    try {
      assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
      assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, SCHEMA_VERSION);
      const tables = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string; sql: string }>;
      assert.deepEqual(tables.map((t) => t.name).sort(), ['cloud_pairing', 'easycard_runs', 'lookups', 'meta', 'owner', 'payment_days', 'payments', 'terminals']);
      for (const t of tables) assert.match(t.sql, /\) STRICT(, WITHOUT ROWID)?$/, t.name);
      // Integer minor units and the exponent: the amount prints back exactly.
      assert.deepEqual({ ...(db.prepare("SELECT amount_minor, exponent, currency FROM payments WHERE key = 'S1'").get() as object) }, { amount_minor: 1000, exponent: 2, currency: 'TWD' });
    } finally {
      db.close();
    }
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  });

  it('amounts as minor units and back, exactly', () => {
    for (const a of ['0.00', '0.10', '12.30', '999999999999.99', '7', '3.5']) assert.equal(minorUnitsToAmount(amountToMinorUnits(a)!.minor, amountToMinorUnits(a)!.exponent), a);
    assert.equal(amountToMinorUnits('1e3'), undefined);
  });

  it('a write resolves once committed (another connection sees it); reads see a change at once, before it commits', async () => {
    const file = tempLedgerFile();
    const ledger = open(file);
    const begun = ledger.begin(sale('A1', { customerOrderID: 'O-1', deviceSn: 'SN-1', configNode: 'cfg', address: '/dev/ttyUSB0' }));
    assert.equal(ledger.get('Sale', 'A1')!.state, 'open', 'seen before it commits');
    await begun;
    const row = committed(file).get('A1')!;
    assert.deepEqual([row.state, row.customerOrderID, row.deviceSn, row.configNode, row.address, row.amount], ['open', 'O-1', 'SN-1', 'cfg', '/dev/ttyUSB0', '10.00']);
    const settled = ledger.recordOutcome('Sale', 'A1', 'Success', { verdict: 'approved', reason: 'approved', rrn: '123' });
    assert.equal(ledger.get('Sale', 'A1')!.state, 'Success');
    assert.equal(ledger.openEntries('T1').length, 0);
    await settled;
    assert.equal(committed(file).get('A1')!.outcome!.rrn, '123');
  });

  it('group commit: writes posted together share transactions; each answered after its own commit', async () => {
    const file = tempLedgerFile();
    const ledger = open(file);
    await ledger.begin(sale('WARM'));
    const before = { ...ledger.stats };
    await Promise.all(Array.from({ length: 200 }, (_, i) => ledger.begin(sale(`G${i}`, { terminal: `T${i % 50}` }))));
    const transactions = ledger.stats.transactions - before.transactions;
    assert.equal(ledger.stats.operations - before.operations, 200);
    assert.ok(transactions < 50, `${transactions} transactions for 200 writes`);
    assert.equal(committed(file).size, 201);
  });

  it('one payment namespace: open payments of a terminal by its name or its SN; a sale\'s refunds; by customerOrderID', async () => {
    const file = tempLedgerFile();
    const ledger = open(file);
    await ledger.begin(sale('P1', { terminal: 'serial-/dev/a', deviceSn: 'SN-OLD' }));
    await ledger.begin(sale('P2', { terminal: 'serial-/dev/b', deviceSn: 'SN-NEW' }));
    await ledger.begin(sale('P3', { terminal: 'serial-/dev/c' }));
    assert.deepEqual(ledger.openEntries({ terminal: 'serial-/dev/a' }).map((e) => e.referenceID), ['P1']);
    assert.deepEqual(ledger.openEntries({ terminal: 'serial-/dev/a', deviceSn: 'SN-NEW' }).map((e) => e.referenceID), ['P1', 'P2']);
    assert.equal(ledger.openCount, 3);
    await ledger.begin({ referenceID: 'RF1', action: 'Refund', amount: '3.00', currency: 'TWD', orgReferenceID: 'P1', terminal: 'T', requestID: 'r1' });
    await ledger.recordOutcome('Refund', 'RF1', 'Success');
    await ledger.begin({ referenceID: 'RF2', action: 'Refund', amount: '2.00', currency: 'TWD', orgReferenceID: 'P1', terminal: 'T', requestID: 'r2' });
    await ledger.begin({ referenceID: 'RF3', action: 'Refund', amount: '9.00', currency: 'TWD', orgReferenceID: 'P1', terminal: 'T', requestID: 'r3' });
    await ledger.recordOutcome('Refund', 'RF3', 'Failed');
    assert.deepEqual(ledger.refundsOf('P1').map((e) => [e.referenceID, e.state]).sort(), [['RF1', 'Success'], ['RF2', 'open'], ['RF3', 'Failed']]);
    assert.deepEqual(ledger.refundsOf('P2'), []);
    // A Void is kept under its own key beside the sale it voids.
    await ledger.begin({ referenceID: 'P1', action: 'Void', terminal: 'T', requestID: 'v1' });
    assert.equal(ledger.get('Void', 'P1')!.action, 'Void');
    assert.equal(ledger.byReference('P1')!.action, 'Sale');
  });

  it('the open payments of every terminal come from the partial index of open payments, never a walk over every payment kept', async () => {
    const file = tempLedgerFile();
    const at = Date.UTC(2026, 10, 1);
    const settled = function* (): Generator<JournalEntry> {
      for (let i = 0; i < 20_000; i++) {
        const when = new Date(at + i * 1000).toISOString();
        yield { referenceID: `H${i}`, action: 'Sale', terminal: `t${i % 50}`, requestID: `r${i}`, amount: '1.00', currency: 'HKD', state: 'Success', openedAt: when, closedAt: when, deliveredAt: when };
      }
    };
    fillLedger(file, settled());
    const ledger = open(file);
    await ledger.begin(sale('OPEN-2', { terminal: 't7', openedAt: new Date(at + 5_000).toISOString() }));
    await ledger.begin(sale('OPEN-1', { terminal: 't3', openedAt: new Date(at).toISOString() }));
    assert.deepEqual(ledger.openEntries().map((e) => e.referenceID), ['OPEN-1', 'OPEN-2']);
    const plan = ledger.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${OPEN_PAYMENTS_SQL}`).map((r) => r.detail).join(' | ');
    // One of the two partial indexes of open payments (by terminal or by SN: both hold exactly the open ones).
    assert.match(plan, /USING INDEX payments_open(_sn)?\b/, plan);
    assert.doesNotMatch(plan, /payments_opened|SCAN payments(?! USING INDEX payments_open(_sn)?\b)/, plan);
  });

  it('one owner: another owner in this process and another process are refused, naming the pid; a killed owner releases it at once', async () => {
    const file = tempLedgerFile();
    const first = open(file, { owner: 'runtime-1' });
    assert.equal(openLedger(file, { owner: 'runtime-1' }), first, 'the same owner shares it');
    await first.close();
    assert.throws(() => openLedger(file, { owner: 'runtime-2' }), (err: unknown) => err instanceof LedgerBusyError && /already open in this process/.test(err.message));
    await first.close();
    // Free again: another owner may open it now.
    const again = openLedger(file, { owner: 'runtime-2' });
    await again.close();
    const other = await holder(file);
    try {
      assert.throws(() => openLedger(file), (err: unknown) => err instanceof LedgerBusyError && err.message.includes(`process ${other.child.pid} `) && err.owner?.pid === other.child.pid);
    } finally {
      await other.kill();
    }
    // No lock file outlives its process: the kernel released the lock with it.
    const after = open(file);
    assert.equal(after.owner!.pid, process.pid);
  });

  it('many ledgers in one process (one per user directory) do not collide', async () => {
    const ledgers = Array.from({ length: 5 }, () => open(tempLedgerFile()));
    await Promise.all(ledgers.map((l, i) => l.begin(sale(`M${i}`))));
    for (const [i, l] of ledgers.entries()) assert.deepEqual(l.openEntries().map((e) => e.referenceID), [`M${i}`]);
  });

  it('a ledger of a newer schema is refused and left as it is', () => {
    const file = tempLedgerFile();
    const db = new DatabaseSync(file);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => openLedger(file), (err: unknown) => err instanceof LedgerVersionError && err.found === SCHEMA_VERSION + 1);
    const check = new DatabaseSync(file, { readOnly: true });
    assert.equal((check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'payments'").get() as { n: number }).n, 0);
    check.close();
    // And the refusal left no owner behind: the file can be opened by a tool.
  });

  it('retention: settled payments older than the setting are deleted in small batches; open ones and recent ones stay', async () => {
    const file = tempLedgerFile();
    const now = Date.now();
    const day = 86_400_000;
    const old = (i: number): JournalEntry => ({ ...sale(`OLD${i}`), state: 'Success', openedAt: new Date(now - 400 * day).toISOString(), closedAt: new Date(now - 400 * day).toISOString() });
    fillLedger(file, [
      ...Array.from({ length: 9 }, (_, i) => old(i)),
      { ...sale('OLD-OPEN'), state: 'open', openedAt: new Date(now - 400 * day).toISOString() },
      { ...sale('RECENT'), state: 'Success', openedAt: new Date(now - 30 * day).toISOString(), closedAt: new Date(now - 30 * day).toISOString() },
    ]);
    const ledger = open(file, { pruneBatch: 2, pruneEveryMs: 10 });
    await until('the old payments to be pruned', () => ledger.stats.pruned >= 9);
    assert.deepEqual([...committed(file).keys()].sort(), ['OLD-OPEN', 'RECENT']);
    assert.ok(ledger.stats.transactions >= 0);
  });

  it('reads a plausible device SN only', () => {
    assert.equal(deviceSnOf(' WP-1 '), 'WP-1');
    assert.equal(deviceSnOf(''), undefined);
    assert.equal(deviceSnOf('a b'), undefined);
    assert.equal(deviceSnOf('x'.repeat(65)), undefined);
    assert.equal(deviceSnOf(42), undefined);
  });
});
