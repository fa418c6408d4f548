import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JOURNAL_CSV_COLUMNS, minorToAmount } from '../lib/session';
import { openLedger, readLedgerFile, type Ledger } from '../lib/ledger';
import { startNodeRed } from './helpers/node-red-process';

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

/** Terminal B's payments. */
async function paymentsOfB(b: Ledger): Promise<void> {
  await b.begin({ referenceID: 'R1', action: 'Refund', amount: '0.10', currency: 'USD', orgReferenceID: 'X', terminal: 'B', requestID: 'q1', openedAt: '2026-11-29T12:00:00.000Z' });
  await b.recordOutcome('Refund', 'R1', 'Success', { verdict: 'approved', reason: 'approved' });
  await b.begin({ referenceID: 'S9', action: 'Sale', amount: '9.00', currency: 'USD', terminal: 'B', requestID: 'q2', openedAt: '2026-11-29T12:30:00.000Z' });
  await b.recordOutcome('Sale', 'S9', 'Failed', { verdict: 'declined', reason: 'declined' });
}

/** A ledger holding terminal B's payments alone, in `dir`. */
async function ledgerOfB(dir: string): Promise<string> {
  const file = path.join(dir, 'ledger.db');
  const b = openLedger(file);
  await paymentsOfB(b);
  await b.close();
  return file;
}

/** A Node-RED-like userDir/wonder-ecr with two terminals' payments in its ledger. */
async function fixtureDir(): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-'));
  const a = openLedger(path.join(dir, 'ledger.db'));
  await a.begin({ referenceID: 'S1', action: 'Sale', amount: '100.10', currency: 'TWD', terminal: 'A', requestID: 'r1', openedAt: '2026-11-28T09:00:00.000Z' });
  await a.recordOutcome('Sale', 'S1', 'Success', { verdict: 'approved', reason: 'approved' });
  await a.begin({ referenceID: 'S2', action: 'Sale', amount: '0.20', currency: 'TWD', terminal: 'A', requestID: 'r2', openedAt: '2026-11-29T09:00:00.000Z' });
  await a.recordOutcome('Sale', 'S2', 'Success', { verdict: 'approved', reason: 'approved' });
  await a.begin({ referenceID: 'S1', action: 'Void', orgReferenceID: 'S1', terminal: 'A', requestID: 'r3', openedAt: '2026-11-29T10:00:00.000Z' });
  await a.recordOutcome('Void', 'S1', 'Success', { verdict: 'voided', reason: 'voided' });
  await a.begin({ referenceID: '=cmd|calc', action: 'Sale', amount: '5.00', currency: 'TWD', terminal: 'A', requestID: 'r4', openedAt: '2026-11-29T11:00:00.000Z' });
  await paymentsOfB(a);
  await a.close();
  return dir;
}

describe('wonder-ecr journal (command line)', function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => {
    dir = await fixtureDir();
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
    const fileB = await ledgerOfB(fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-b-')));
    const one = await cli(['list', '--ledger', fileB, '--result', 'declined', '--json']);
    assert.deepEqual((JSON.parse(one.stdout) as Array<{ referenceID: string }>).map((e) => e.referenceID), ['S9']);
    // --journal: the old name of --ledger.
    const old = await cli(['list', '--journal', fileB, '--result', 'declined', '--json']);
    assert.equal(old.stdout, one.stdout);
  });

  it('bad input: exit 2, the option named, nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['totals', '--dir', dir, '--from', 'yesterday'], /--from: must be an ISO 8601/],
      [['list', '--dir', dir, '--to', '2026-02-30T25:00'], /--to/],
      [['list', '--dir', dir, '--state', 'closed'], /--state: must be "open" or "settled"/],
      [['list', '--dir', dir, '--limit', 'ten'], /--limit/],
      [['list', '--dir', dir, '--journal', path.join(dir, 'ledger.db')], /--journal: cannot be given with --dir/],
      [['list', '--dir', dir, '--ledger', path.join(dir, 'ledger.db')], /--ledger: cannot be given with --dir/],
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
    await ledgerOfB(path.join(STATE, 'wonder-ecr'));
    const run = await cli(['list', '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as Array<{ referenceID: string }>).map((e) => e.referenceID), ['S9', 'R1']);
  });

  it('reads the ledger without writing to it', async () => {
    const file = await ledgerOfB(fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-jcli-ro-')));
    const before = fs.readFileSync(file);
    const mtime = fs.statSync(file).mtimeMs;
    const run = await cli(['list', '--ledger', file, '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((JSON.parse(run.stdout) as unknown[]).length, 2);
    assert.ok(fs.readFileSync(file).equals(before), 'the file is untouched');
    assert.equal(fs.statSync(file).mtimeMs, mtime);
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
    // Node-RED wrote on undisturbed: every payment settled, none lost, the journal readable by Node-RED itself.
    const all = readLedgerFile(path.join(dir, 'ledger.db'), {});
    const final = await cli(['totals', '--dir', dir, '--json']);
    const [row] = JSON.parse(final.stdout) as Array<{ sales: { count: number }; unknown: { count: number } }>;
    assert.equal(row!.sales.count + row!.unknown.count, all.filter((e) => e.state !== 'NotSent').length);
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
      assert.ok(seen >= last, `entries went from ${last} to ${seen}`);
      last = seen;
      reads++;
    }
    assert.equal(await exited, 0, err);
    assert.ok(reads >= 2, `read ${reads} times while writing`);
    const final = await cli(['totals', '--dir', live, '--json']);
    const [row] = JSON.parse(final.stdout) as Array<{ sales: { count: number; amount: string }; unknown: { count: number } }>;
    assert.deepEqual([row!.sales.count, row!.sales.amount, row!.unknown.count], [total, '3030.00', 0]);
  });
});
