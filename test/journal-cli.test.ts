import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { JOURNAL_CSV_COLUMNS, minorToAmount } from '../lib/ledger';
import { startNodeRed } from './helpers/node-red-process';
import { ledgerWith, type FixtureEntry } from './helpers/ledger-fixture';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'wonder-ecr.js');
const WRITER = path.resolve(__dirname, 'helpers', 'ledger-writer.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-state-'));
after(() => fs.rmSync(STATE, { recursive: true, force: true }));

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'journal', ...args], { env: { ...process.env, XDG_STATE_HOME: STATE, TZ: 'UTC' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A payment as the ledger keeps it. */
function pay(over: Partial<FixtureEntry> & Pick<FixtureEntry, 'referenceID' | 'terminal' | 'openedAt'>): FixtureEntry {
  return { action: 'Sale', requestID: `r-${over.referenceID}-${over.action ?? 'Sale'}`, state: 'Success', outcome: { verdict: 'approved', reason: 'approved' }, ...over };
}

/** A Node-RED-like userDir/wonder-ecr with a ledger of two terminals' payments. */
function fixtureDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-'));
  ledgerWith(path.join(dir, 'ledger.db'), [
    pay({ referenceID: 'S1', amount: '100.10', currency: 'TWD', terminal: 'A', openedAt: '2026-11-28T09:00:00.000Z' }),
    pay({ referenceID: 'S2', amount: '0.20', currency: 'TWD', terminal: 'A', openedAt: '2026-11-29T09:00:00.000Z' }),
    pay({ referenceID: 'S1', action: 'Void', orgReferenceID: 'S1', terminal: 'A', openedAt: '2026-11-29T10:00:00.000Z', outcome: { verdict: 'voided', reason: 'voided' } }),
    pay({ referenceID: '=cmd|calc', amount: '5.00', currency: 'TWD', terminal: 'A', openedAt: '2026-11-29T11:00:00.000Z', state: 'open', outcome: undefined }),
    pay({ referenceID: 'R1', action: 'Refund', amount: '0.10', currency: 'USD', orgReferenceID: 'X', terminal: 'B', openedAt: '2026-11-29T12:00:00.000Z' }),
    pay({ referenceID: 'S9', amount: '9.00', currency: 'USD', terminal: 'B', openedAt: '2026-11-29T12:30:00.000Z', state: 'Failed', outcome: { verdict: 'declined', reason: 'declined' } }),
  ]);
  return dir;
}

describe('wonder-ecr journal (command line)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fixtureDir();
  });

  it('totals of a day per terminal and currency, as a table, JSON and CSV', async () => {
    const day = ['--dir', dir, '--from', '2026-11-29', '--to', '2026-11-30'];
    const json = await cli(['totals', ...day, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as Array<Record<string, any>>;
    assert.deepEqual(rows.map((r) => [r.terminal, r.currency, r.sales.count, r.sales.amount, r.voids.amount, r.refunds.amount, r.declined.count, r.unknown.count, r.net]), [
      ['A', 'TWD', 1, '0.20', '100.10', '0.00', 0, 1, '-99.90'],
      ['B', 'USD', 0, '0.00', '0.00', '0.10', 1, 0, '-0.10'],
    ]);
    const text = await cli(['totals', ...day]);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^TERMINAL\s+CUR\s+SALES/);
    assert.match(text.stdout, /\nA\s+TWD\s+1\s+0\.20\s+0\s+0\.00\s+1\s+100\.10\s+0\s+1\s+0\s+-99\.90\n/);
    const csv = await cli(['totals', ...day, '--csv', '--terminal', 'B']);
    assert.deepEqual(csv.stdout.trim().split('\r\n'), [
      'terminal,currency,sales,salesAmount,refunds,refundsAmount,voids,voidsAmount,declined,unknown,unpriced,net',
      'B,USD,0,0.00,1,0.10,0,0.00,1,0,0,-0.10',
    ]);
  });

  it('list: newest first, filtered; export: CSV with formula cells neutralised', async () => {
    const list = await cli(['list', '--dir', dir, '--state', 'open']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /=cmd\|calc\s+5\.00\s+TWD\s+open/);
    assert.match(list.stdout, /\n1 entry\n$/);
    // A void shows the amount of the sale it voided.
    const voids = await cli(['list', '--dir', dir, '--result', 'voided']);
    assert.match(voids.stdout, /A\s+Void\s+S1\s+100\.10\s+TWD\s+voided/);
    const all = await cli(['list', '--dir', dir, '--json']);
    assert.deepEqual((JSON.parse(all.stdout) as Array<{ referenceID: string }>).map((e) => e.referenceID), ['S9', 'R1', '=cmd|calc', 'S1', 'S2', 'S1']);
    const exp = await cli(['export', '--dir', dir, '--terminal', 'A', '--from', '2026-11-29T10:30:00Z']);
    assert.equal(exp.code, 0);
    const lines = exp.stdout.trimEnd().split('\r\n');
    assert.equal(lines[0], JOURNAL_CSV_COLUMNS.join(','));
    assert.equal(lines.length, 2);
    assert.match(lines[1]!, /^2026-11-29T11:00:00\.000Z,,A,Sale,'=cmd\|calc,/);
    const one = await cli(['list', '--ledger', path.join(dir, 'ledger.db'), '--terminal', 'B', '--result', 'declined', '--json']);
    assert.deepEqual((JSON.parse(one.stdout) as Array<{ referenceID: string }>).map((e) => e.referenceID), ['S9']);
    // --journal: the old name of --ledger.
    const old = await cli(['list', '--journal', path.join(dir, 'ledger.db'), '--terminal', 'B', '--json', '--limit', '1']);
    assert.deepEqual((JSON.parse(old.stdout) as Array<{ referenceID: string }>).map((e) => e.referenceID), ['S9']);
    // The export of many payments comes a page at a time: every one, in order, with CRLF line ends.
    const many = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-many-'));
    ledgerWith(path.join(many, 'ledger.db'), Array.from({ length: 12_345 }, (_, i) => pay({ referenceID: `M${i}`, amount: '1.00', currency: 'TWD', terminal: 'A', openedAt: new Date(Date.UTC(2026, 10, 1) + i * 1_000).toISOString() })));
    const big = await cli(['export', '--dir', many]);
    fs.rmSync(many, { recursive: true, force: true });
    assert.equal(big.code, 0, big.stderr);
    assert.ok(big.stdout.endsWith('\r\n') && !/[^\r]\n/.test(big.stdout), 'every line ends CRLF');
    const refs = big.stdout.trimEnd().split('\r\n').slice(1).map((l) => l.split(',')[4]);
    assert.deepEqual(refs, Array.from({ length: 12_345 }, (_, i) => `M${12_344 - i}`));
  });

  it('bad input: exit 2, the option named, nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['totals', '--dir', dir, '--from', 'yesterday'], /--from: must be an ISO 8601/],
      [['list', '--dir', dir, '--to', '2026-02-30T25:00'], /--to/],
      [['list', '--dir', dir, '--state', 'closed'], /--state: must be "open" or "settled"/],
      [['list', '--dir', dir, '--limit', 'ten'], /--limit/],
      [['list', '--dir', dir, '--journal', path.join(dir, 'ledger.db')], /--journal: cannot be given with --dir/],
      [['list', '--dir', dir, '--ledger', path.join(dir, 'ledger.db')], /--ledger: cannot be given with --dir/],
      [['list', '--ledger', path.join(dir, 'ledger.db'), '--journal', path.join(dir, 'ledger.db')], /--journal: cannot be given with --ledger/],
      [['list', '--dir', path.join(dir, 'missing')], /--dir: .* is not a directory/],
      [['list', '--journal', path.join(dir, 'missing.db')], /--journal: .* is not a file/],
      [['list', '--ledger', path.join(dir, 'missing.db')], /--ledger: .* is not a file/],
      [['show', '--dir', dir], /journal needs list, totals or export/],
      [['list', '--dir', dir, '--csv', '--json'], /--csv: cannot be given with --json/],
      [['list', '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '', args.join(' '));
    }
  });

  it('defaults to the CLI\'s own state directory', async () => {
    const own = path.join(STATE, 'wonder-ecr');
    fs.mkdirSync(own, { recursive: true, mode: 0o700 });
    ledgerWith(path.join(own, 'ledger.db'), [
      pay({ referenceID: 'C1', amount: '1.00', currency: 'TWD', terminal: 'cli', openedAt: '2026-11-29T12:00:00.000Z' }),
      pay({ referenceID: 'C2', amount: '2.00', currency: 'TWD', terminal: 'cli', openedAt: '2026-11-29T12:30:00.000Z' }),
    ]);
    const run = await cli(['list', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as Array<{ referenceID: string }>).map((e) => e.referenceID), ['C2', 'C1']);
  });

  it('reads without writing: the ledger unchanged, its WAL empty; a file that is no ledger is unreadable (exit 1)', async () => {
    const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-ro-'));
    const file = path.join(copy, 'ledger.db');
    fs.copyFileSync(path.join(dir, 'ledger.db'), file);
    fs.chmodSync(file, 0o600);
    const before = fs.readFileSync(file);
    const stat = fs.statSync(file);
    const run = await cli(['list', '--ledger', file, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as unknown[]).length, 6);
    assert.ok(fs.readFileSync(file).equals(before), 'the ledger is unchanged');
    assert.equal(fs.statSync(file).mtimeMs, stat.mtimeMs);
    // (SQLite's WAL files may be there, as beside any reader: nothing in them.)
    for (const name of fs.readdirSync(copy).filter((n) => n !== 'ledger.db')) {
      assert.match(name, /^ledger\.db-(wal|shm)$/);
      if (name.endsWith('-wal')) assert.equal(fs.statSync(path.join(copy, name)).size, 0, 'nothing written to the WAL');
    }
    fs.writeFileSync(path.join(copy, 'other.db'), 'not a database, just text\n');
    const other = await cli(['totals', '--ledger', path.join(copy, 'other.db')]);
    assert.equal(other.code, 1, other.stderr);
    assert.match(other.stderr, /cannot read .*other\.db/);
    fs.rmSync(copy, { recursive: true, force: true });
  });

  it('reads the journal of a running Node-RED while its terminal takes payments', async () => {
    const flows = [
      { id: 'tab', type: 'tab', label: 'sales' },
      { id: 'term', type: 'wonder-terminal', name: 'sim', transport: 'simulator', timeout: '30' },
      { id: 'tick', type: 'inject', z: 'tab', props: [{ p: 'payload' }], repeat: '0.05', once: true, onceDelay: 0.1, topic: '', payload: '{"amount":"1.25","currency":"HKD"}', payloadType: 'json', wires: [['sale']] },
      { id: 'sale', type: 'wonder-sale', z: 'tab', terminal: 'term', wires: [[]] },
    ];
    const red = await startNodeRed({ flows });
    const dir = path.join(red.userDir, 'wonder-ecr');
    let last = 0;
    let reads = 0;
    try {
      while (reads < 6 || last < 20) {
        const run = await cli(['totals', '--dir', dir, '--json']);
        assert.equal(run.code, 0, run.stderr);
        const rows = JSON.parse(run.stdout) as Array<{ sales: { count: number; amount: string }; unknown: { count: number } }>;
        const seen = rows.length === 0 ? 0 : rows[0]!.sales.count + rows[0]!.unknown.count;
        assert.ok(seen >= last, `entries went from ${last} to ${seen}`);
        if (rows.length > 0) assert.equal(rows[0]!.sales.amount, minorToAmount(BigInt(rows[0]!.sales.count) * 125n));
        last = seen;
        reads++;
      }
    } finally {
      assert.ok((await red.stop()) !== 1);
    }
    // Node-RED wrote on undisturbed: every payment in the ledger, as SQLite itself reads it.
    const db = new DatabaseSync(path.join(dir, 'ledger.db'), { readOnly: true });
    const { n } = db.prepare("SELECT count(*) AS n FROM payments WHERE state <> 'NotSent'").get() as { n: number };
    db.close();
    const final = await cli(['totals', '--dir', dir, '--json']);
    const [row] = JSON.parse(final.stdout) as Array<{ sales: { count: number }; unknown: { count: number } }>;
    assert.equal(row!.sales.count + row!.unknown.count, n);
  });

  it('works while another process writes to the same ledger', async () => {
    const live = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-live-'));
    const file = path.join(live, 'ledger.db');
    const total = 3_000;
    const writer = spawn(process.execPath, [WRITER, file, String(total)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    writer.stdout.on('data', (d: Buffer) => (out += d.toString()));
    writer.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => writer.on('close', resolve));
    // Wait until it has written something, then read again and again while it writes.
    while (!/progress/.test(out)) await new Promise((r) => writer.stdout.once('data', r));
    let reads = 0;
    let last = 0;
    while (!/done/.test(out)) {
      const run = await cli(['totals', '--dir', live, '--json']);
      assert.equal(run.code, 0, run.stderr);
      const rows = JSON.parse(run.stdout) as Array<{ sales: { count: number }; unknown: { count: number } }>;
      const seen = rows.length === 0 ? 0 : rows[0]!.sales.count + rows[0]!.unknown.count;
      assert.ok(seen >= last, `payments went from ${last} to ${seen} (one lost)`);
      last = seen;
      reads++;
    }
    assert.equal(await exited, 0, err);
    assert.ok(reads >= 2, `read ${reads} times while writing`);
    const final = await cli(['totals', '--dir', live, '--json']);
    const [row] = JSON.parse(final.stdout) as Array<{ sales: { count: number; amount: string }; unknown: { count: number } }>;
    assert.deepEqual([row!.sales.count, row!.sales.amount, row!.unknown.count], [total, '3030.00', 0]);
    fs.rmSync(live, { recursive: true, force: true });
  });
});
