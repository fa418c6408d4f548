import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  journalArchiveFile,
  readJournalFile,
  deviceSnOf,
  IDENTITY_MAP_FILE,
  Journal,
  JournalFollower,
  JournalLockedError,
  latestEntries,
  lockFileOf,
  mergeJournalEntries,
  readIdentityMap,
  rememberSn,
  TerminalSession,
} from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';

const PLACE = 'serial-/dev/ttyUSB0';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-identity-'));
}

function linesOf(file: string): Array<{ referenceID: string; state: string; terminal: string }> {
  return fs.readFileSync(file, 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l));
}

/** A child process holding a journal open for writing until it is killed. */
async function writerProcess(file: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const journalModule = path.join(__dirname, '..', 'lib', 'session', 'journal.js');
  const child = spawn(process.execPath, ['-e', `const { Journal } = require(${JSON.stringify(journalModule)}); new Journal(${JSON.stringify(file)}); console.log('ready'); setInterval(() => {}, 1000);`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`the writer exited (${code}) before it was ready`)));
  });
  return {
    pid: child.pid!,
    kill: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.on('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

describe('terminal identity: one writer per journal', () => {
  it('refuses a second writer in the same process, and frees the file at close', async () => {
    const file = path.join(tempDir(), 'journal-x.jsonl');
    const first = new Journal(file);
    assert.throws(() => new Journal(file), (err: unknown) => err instanceof JournalLockedError && /already open for writing in this process/.test(err.message));
    // A reader needs no lock.
    await first.begin({ referenceID: 'R1', action: 'Sale', amount: '1.00', currency: 'HKD', terminal: 'T', requestID: 'q1' });
    assert.equal(latestEntries(file).get('R1')!.state, 'open');
    await first.close();
    assert.equal(fs.existsSync(lockFileOf(file)), false);
    const second = new Journal(file);
    assert.equal(second.get('Sale', 'R1')!.state, 'open');
    await second.close();
  });

  it('refuses a live writer in another process, naming it, and takes its lock over once that process is gone', async () => {
    const file = path.join(tempDir(), 'journal-x.jsonl');
    const writer = await writerProcess(file);
    try {
      assert.throws(() => new Journal(file), (err: unknown) => err instanceof JournalLockedError && err.message.includes(`process ${writer.pid} `) && err.owner?.pid === writer.pid);
    } finally {
      await writer.kill();
    }
    const journal = new Journal(file);
    assert.equal(JSON.parse(fs.readFileSync(lockFileOf(file), 'utf8')).pid, process.pid);
    await journal.close();
  });

  it('takes over the lock of a pid that now belongs to another process (start time differs) and a torn lock file', async () => {
    const file = path.join(tempDir(), 'journal-x.jsonl');
    fs.writeFileSync(lockFileOf(file), JSON.stringify({ pid: process.ppid, start: 'not-its-start', host: os.hostname(), command: 'node-red', since: '2026-01-01T00:00:00Z' }));
    const journal = new Journal(file);
    await journal.close();
    fs.writeFileSync(lockFileOf(file), '{"pid":12');
    const again = new Journal(file);
    await again.close();
  });
});

describe('terminal identity: the journal follows the serial number', () => {
  it('reads only a plausible device SN', () => {
    assert.equal(deviceSnOf(' WP-123 '), 'WP-123');
    for (const bad of ['', ' ', 'a b', 'x'.repeat(65), 'a\nb', 42, undefined, null]) assert.equal(deviceSnOf(bad), undefined, String(bad));
  });

  it('moves the place journal into journal-sn-<SN>.jsonl (open entries first), removes the old file, and a restart opens the SN journal', async () => {
    const dir = tempDir();
    const follower = new JournalFollower(dir, PLACE);
    const start = follower.start();
    assert.equal(start.terminalId, PLACE);
    assert.equal(path.basename(start.journal.file), 'journal-serial-_dev_ttyUSB0.jsonl');
    await start.journal.begin({ referenceID: 'DONE', action: 'Sale', amount: '2.00', currency: 'HKD', terminal: PLACE, requestID: 'q0' });
    await start.journal.recordOutcome('Sale', 'DONE', 'Success');
    await start.journal.begin({ referenceID: 'OPEN', action: 'Sale', amount: '1.00', currency: 'HKD', terminal: PLACE, requestID: 'q1' });
    const moved = follower.follow('WP-123', start)!;
    assert.equal(follower.follow('WP-123', moved), undefined);
    assert.equal(moved.terminalId, 'sn-WP-123');
    assert.equal(path.basename(moved.journal.file), 'journal-sn-WP-123.jsonl');
    assert.deepEqual(
      linesOf(moved.journal.file).map((e) => [e.referenceID, e.state, e.terminal]),
      [
        ['OPEN', 'open', 'sn-WP-123'],
        ['DONE', 'Success', 'sn-WP-123'],
      ],
    );
    assert.deepEqual(moved.journal.openEntries('sn-WP-123').map((e) => e.referenceID), ['OPEN']);
    // A month compaction archived under the place's name moves with the journal, renamed.
    const archived = { referenceID: 'OLD', action: 'Sale', amount: '5.00', currency: 'HKD', terminal: PLACE, requestID: 'q9', state: 'Success', openedAt: '2026-10-02T08:00:00.000Z', closedAt: '2026-10-02T08:00:30.000Z' };
    fs.writeFileSync(journalArchiveFile(follower.placeFile, '2026-10'), `${JSON.stringify(archived)}\n`, { mode: 0o600 });
    await start.journal.close();
    follower.retirePlaceJournal('WP-123');
    assert.equal(fs.existsSync(follower.placeFile), false);
    assert.equal(fs.existsSync(journalArchiveFile(follower.placeFile, '2026-10')), false);
    assert.deepEqual(linesOf(journalArchiveFile(moved.journal.file, '2026-10')), [{ ...archived, terminal: 'sn-WP-123' }]);
    assert.equal(readJournalFile(moved.journal.file).find((e) => e.referenceID === 'OLD')?.terminal, 'sn-WP-123');
    assert.equal(readIdentityMap(dir)[PLACE]!.sn, 'WP-123');
    await moved.journal.close();

    const restarted = new JournalFollower(dir, PLACE).start();
    assert.equal(restarted.sn, 'WP-123');
    assert.equal(restarted.journal.get('Sale', 'OPEN')!.state, 'open');
    await restarted.journal.close();
  });

  it('after a crash between the merge and the removal, the next start loses nothing and duplicates nothing', async () => {
    const dir = tempDir();
    const follower = new JournalFollower(dir, PLACE);
    const place = new Journal(follower.placeFile);
    await place.begin({ referenceID: 'OPEN', action: 'Sale', amount: '1.00', currency: 'HKD', terminal: PLACE, requestID: 'q1' });
    await place.close();
    const snFile = path.join(dir, 'journal-sn-WP-9.jsonl');
    // The merge and the map were written; the old file was not removed yet when the power went.
    assert.equal(mergeJournalEntries(latestEntries(follower.placeFile).values(), snFile, { fromTerminal: PLACE, toTerminal: 'sn-WP-9' }), 1);
    rememberSn(dir, PLACE, 'WP-9');
    const started = follower.start();
    assert.equal(fs.existsSync(follower.placeFile), false);
    assert.equal(linesOf(snFile).filter((e) => e.referenceID === 'OPEN').length, 1);
    assert.equal(started.journal.openEntries('sn-WP-9').length, 1);
    await started.journal.close();
    assert.ok(fs.existsSync(path.join(dir, IDENTITY_MAP_FILE)));
  });

  it('a payment left open before the move is recovered from the SN journal, and a Sale begun during the move is on disk there before it leaves', async () => {
    const dir = tempDir();
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 10_000, serverDeviceSN: 'WP-77' });
    const follower = new JournalFollower(dir, PLACE);
    let current = follower.start();
    const session = new TerminalSession({
      transport: new SimulatorTransport({ terminal }),
      pairingCode: '260880',
      clientDeviceSN: 'J',
      journal: current.journal,
      terminalId: current.terminalId,
      paymentTimeoutMs: 300,
      commandTimeoutMs: 300,
      statusPollIntervalMs: 20,
      resolveTimeoutMs: 100,
    });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'LEFT-OPEN' }));
    terminal.transactions.get('LEFT-OPEN')!.state = 'Success';
    const snFile = path.join(dir, 'journal-sn-WP-77.jsonl');
    const onDiskWhenSent: boolean[] = [];
    session.on('activity', (a: { kind: string; action: string }) => {
      if (a.kind === 'sending' && a.action === 'Sale') onDiskWhenSent.push(linesOf(snFile).some((e) => e.referenceID === 'DURING' && e.state === 'open'));
    });
    // A Sale is asked for; the answer that tells the SN arrives before its begin line is on disk: the journal moves now.
    const during = session.request('Sale', { amount: '3.00', currency: 'HKD', referenceID: 'DURING' });
    await Promise.resolve();
    const next = follower.follow('WP-77', current)!;
    session.useJournal(next.journal, next.terminalId);
    const old = current;
    current = next;
    // The open payment is settled first (from the SN journal), then the new one goes out once.
    const outcome = await during;
    assert.equal(outcome.result, 'Success');
    assert.deepEqual(onDiskWhenSent, [true]);
    assert.equal(current.journal.get('Sale', 'LEFT-OPEN')!.state, 'Success');
    assert.equal(terminal.count('Sale', 'LEFT-OPEN'), 1);
    assert.equal(terminal.count('Sale', 'DURING'), 1);
    await old.journal.close();
    follower.retirePlaceJournal('WP-77');
    await session.close();
    await current.journal.close();
    const reread = latestEntries(snFile);
    assert.equal(reread.get('DURING')!.state, 'Success');
    assert.equal(reread.get('LEFT-OPEN')!.state, 'Success');
  });
});
