import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Journal } from '../lib/session/journal';
import { TerminalSession, type Recovery } from '../lib/session';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-journal-')), 'journal.jsonl');
}

function sessionWith(journal: Journal, terminal: SimulatedTerminal, extra: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
  return new TerminalSession({
    transport: new SimulatorTransport({ terminal }),
    pairingCode: '260880',
    clientDeviceSN: 'J',
    journal,
    terminalId: 'T1',
    paymentTimeoutMs: 300,
    commandTimeoutMs: 300,
    statusPollIntervalMs: 20,
    resolveTimeoutMs: 1_000,
    ...extra,
  });
}

/** Polls `check` every 10 ms until it holds; fails naming `what` after `ms`. */
async function until(what: string, check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('transaction journal', () => {
  it('is on disk before the request leaves, and settled after', async () => {
    const file = tempFile();
    const journal = new Journal(file);
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const session = sessionWith(journal, terminal);
    await session.open();
    const seen: string[] = [];
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      // When the terminal sees the Sale, its open entry is already on disk.
      seen.push(fs.readFileSync(file, 'utf8'));
      return handle(input);
    };
    const sale = await session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'J-1' }, { origin: 'node-1' });
    assert.equal(sale.result, 'Success');
    const atSend = seen[0]!.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(atSend.map((e) => [e.referenceID, e.state, e.node, e.amount, e.currency, e.terminal]), [['J-1', 'open', 'node-1', '5.00', 'HKD', 'T1']]);
    const after = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(after.at(-1).state, 'Success');
    assert.equal(after.at(-1).outcome.status, 'Success');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('creditCard'), 'card data in the journal');
    assert.ok(!fs.readFileSync(file, 'utf8').includes('260880'));
    await session.close();
    await journal.close();
  });

  it('never sends the same referenceID twice: sequential and simultaneous duplicates get the first outcome', async () => {
    const journal = new Journal(tempFile());
    const terminal = new SimulatedTerminal({ cardDelayMs: 30 });
    const session = sessionWith(journal, terminal);
    await session.open();
    const [a, b] = await Promise.all([
      session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'DUP' }),
      session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'DUP' }),
    ]);
    const c = await session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'DUP' });
    assert.equal(terminal.count('Sale', 'DUP'), 1);
    assert.deepEqual([a.result, b.result, c.result], ['Success', 'Success', 'Success']);
    assert.equal(a.duplicate, undefined);
    assert.equal(b.duplicate, true);
    assert.equal(c.duplicate, true);
    await assert.rejects(session.request('Refund', { amount: '1.00', currency: 'HKD', orgReferenceID: 'X', referenceID: 'DUP' }), (err: unknown) => {
      assert.match((err as Error).message, /already used by a Sale/);
      assert.deepEqual([(err as { code?: string }).code, (err as { notSent?: boolean }).notSent], ['E_REFERENCE_TAKEN', true]);
      return true;
    });
    assert.equal(terminal.count('Refund'), 0);
    await session.close();
  });

  it('survives a restart with an open entry: settles it by TransactionStatus, not by sending again', async () => {
    const file = tempFile();
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 10_000 });
    let journal = new Journal(file);
    let session = sessionWith(journal, terminal, { resolveTimeoutMs: 100 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'OPEN-1' }, { origin: 'sale-node' }));
    await session.close();
    await journal.close();
    // "Power cut": a torn last line after the open entry.
    fs.appendFileSync(file, '{"referenceID":"TORN","act');
    // The terminal settles the sale meanwhile.
    terminal.transactions.get('OPEN-1')!.state = 'Success';
    journal = new Journal(file);
    assert.equal(journal.get('Sale', 'OPEN-1')!.state, 'open');
    assert.equal(journal.byReference('TORN'), undefined);
    session = sessionWith(journal, terminal);
    await session.open();
    const recovered: Recovery[] = [];
    session.on('recovered', (r: Recovery) => recovered.push(r));
    const results = await session.recover();
    assert.equal(results.length, 1);
    assert.equal(recovered[0]!.entry.node, 'sale-node');
    assert.equal(recovered[0]!.outcome!.result, 'Success');
    assert.equal(journal.get('Sale', 'OPEN-1')!.state, 'Success');
    assert.equal(terminal.count('Sale', 'OPEN-1'), 1);
    // Appends after the torn line are readable.
    await session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER' });
    await session.close();
    await journal.close();
    const reread = new Journal(file);
    assert.equal(reread.get('Sale', 'AFTER')!.state, 'Success');
    await reread.close();
  });

  it('settles an open entry before the next payment is sent', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 150 });
    const journal = new Journal(tempFile());
    const session = sessionWith(journal, terminal, { resolveTimeoutMs: 50 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'P1' }));
    await until('the terminal to approve P1', () => terminal.transactions.get('P1')?.state === 'Success');
    const next = await session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'P2' });
    assert.equal(next.result, 'Success');
    assert.equal(journal.get('Sale', 'P1')!.state, 'Success');
    const order = terminal.received.map((r) => `${r.action}:${r.referenceID}`);
    assert.ok(order.indexOf('TransactionStatus:P1') < order.indexOf('Sale:P2'), order.join(' '));
    await session.close();
  });

  it('a payment that never left (not connected) may be retried with the same referenceID', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const journal = new Journal(tempFile());
    const session = sessionWith(journal, terminal);
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'RETRY' }), (e: unknown) => (e as { code?: string }).code === 'E_CLOSED');
    assert.equal(journal.get('Sale', 'RETRY')!.state, 'NotSent');
    await session.open();
    assert.equal((await session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'RETRY' })).result, 'Success');
    assert.equal(terminal.count('Sale', 'RETRY'), 1);
    await session.close();
  });

  it('a sale in flight when the session closes (redeploy) stays open, never marked not-sent', async () => {
    const terminal = new SimulatedTerminal({ slowCardMs: 500 });
    const journal = new Journal(tempFile());
    const session = sessionWith(journal, terminal, { paymentTimeoutMs: 2_000 });
    await session.open();
    const sale = session.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'IN-FLIGHT' });
    await until('the sale at the terminal', () => terminal.count('Sale', 'IN-FLIGHT') === 1);
    await session.close();
    await assert.rejects(sale);
    assert.equal(journal.get('Sale', 'IN-FLIGHT')!.state, 'open');
    terminal.stop();
  });

  it('a repeat of a referenceID with another amount or currency is refused, naming referenceID', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 20 });
    const session = sessionWith(new Journal(tempFile()), terminal);
    await session.open();
    const first = session.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'ORDER-1' });
    await assert.rejects(session.request('Sale', { amount: '200.00', currency: 'HKD', referenceID: 'ORDER-1' }), (e: unknown) => (e as { field?: string }).field === 'referenceID');
    assert.equal((await first).result, 'Success');
    await assert.rejects(session.request('Sale', { amount: '10.00', currency: 'USD', referenceID: 'ORDER-1' }), (e: unknown) => (e as { field?: string }).field === 'referenceID');
    assert.equal(terminal.count('Sale', 'ORDER-1'), 1);
    await session.close();
  });

  it('a Void the terminal refused (busy) may be sent again; a Void settles only when the sale shows Voided', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    const session = sessionWith(new Journal(tempFile()), terminal, { resolveTimeoutMs: 400 });
    await session.open();
    const sale = await session.request('Sale', { amount: '3.00', currency: 'HKD', referenceID: 'V-1' });
    assert.equal(sale.result, 'Success');
    // Busy: the terminal refuses the first void.
    const realHandle = terminal.handle.bind(terminal);
    let refuse = true;
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      if (refuse && text.includes('"Void"')) {
        refuse = false;
        const cipher = new (await import('../lib/protocol/cipher')).WonderCipher('260880');
        const env = JSON.parse(text) as { data: string };
        const req = cipher.decryptJson(env.data) as { header: { requestID: string } };
        const plain = JSON.stringify({ header: { responseID: req.header.requestID, serverDeviceSN: 'S', timestamp: 't' }, body: { status: 'Failed', errorCode: '50001', errorMessage: 'The equipment is being traded' } });
        return JSON.stringify({ version: '2.0', action: 'Void', data: cipher.encrypt(plain) });
      }
      return realHandle(input);
    };
    const refused = await session.request('Void', { orgReferenceID: 'V-1' });
    assert.equal(refused.result, 'Failed');
    const again = await session.request('Void', { orgReferenceID: 'V-1' });
    assert.equal(again.result, 'Success');
    assert.equal(again.duplicate, undefined);
    assert.equal(terminal.transactions.get('V-1')!.state, 'Voided');
    // A void whose answer is lost while the sale still shows Success is not called Failed.
    const sale2 = await session.request('Sale', { amount: '4.00', currency: 'HKD', referenceID: 'V-2' });
    assert.equal(sale2.result, 'Success');
    const originalState = () => terminal.transactions.get('V-2')!.state;
    const handle2 = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      // The terminal takes its time to apply the void: the sale shows Success meanwhile.
      if (text.includes('"Void"')) return null;
      return handle2(input);
    };
    await assert.rejects(session.request('Void', { orgReferenceID: 'V-2' }, { timeoutMs: 100 }), (e: unknown) => (e as { code?: string }).code === 'E_PENDING');
    assert.equal(originalState(), 'Success');
    await session.close();
  });

  it('a Failed answer saying the reference was used is settled by status: the earlier approval, not a decline', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5 });
    // A journal that does not know the earlier sale (a new file, as after a re-created config node).
    const first = sessionWith(new Journal(tempFile()), terminal);
    await first.open();
    assert.equal((await first.request('Sale', { amount: '6.00', currency: 'HKD', referenceID: 'KNOWN-TO-TERMINAL' })).result, 'Success');
    await first.close();
    const second = sessionWith(new Journal(tempFile()), terminal);
    await second.open();
    const again = await second.request('Sale', { amount: '6.00', currency: 'HKD', referenceID: 'KNOWN-TO-TERMINAL' });
    assert.equal(again.result, 'Success');
    assert.equal(again.duplicate, true);
    assert.equal(again.resolvedBy, 'TransactionStatus');
    await second.close();
  });

  it('a refused new payment (an earlier one unresolved) is E_BLOCKED, not E_PENDING, and is not sent', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 5, pendingMs: 60_000 });
    // A long card window: the unresolved sale may still be in progress on the terminal, so it holds the next one back
    // (past its window it would not: test/faults.test.ts, terminal reboot).
    const session = sessionWith(new Journal(tempFile()), terminal, { resolveTimeoutMs: 60, paymentTimeoutMs: 60_000 });
    await session.open();
    await assert.rejects(session.request('Sale', { amount: SIMULATOR_AMOUNTS.pendingThenApprove, currency: 'HKD', referenceID: 'STILL-OPEN' }), (e: unknown) => (e as { code?: string }).code === 'E_PENDING');
    await assert.rejects(session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'NEXT' }), (e: unknown) => (e as { code?: string }).code === 'E_BLOCKED');
    assert.equal(terminal.count('Sale', 'NEXT'), 0);
    terminal.stop();
    await session.close();
  });

  it('a failed compaction (disk full) does not stop the journal', async () => {
    const file = tempFile();
    const journal = new Journal(file, { maxSettled: 4 });
    // The temp file's place is taken by a directory: the rewrite fails, appends go on.
    fs.mkdirSync(`${file}.tmp`);
    for (let i = 0; i < 20; i++) {
      await journal.begin({ referenceID: `C${i}`, action: 'Sale', terminal: 'T', requestID: `r${i}` });
      await journal.recordOutcome('Sale', `C${i}`, 'Success');
    }
    assert.equal(journal.get('Sale', 'C19')!.state, 'Success');
    await journal.close();
    const reread = new Journal(file, { maxSettled: 1000 });
    assert.equal(reread.get('Sale', 'C19')!.state, 'Success');
    await reread.close();
  });

  /** The open flags of this process's descriptors on `file` (Linux: /proc/self/fdinfo). */
  function flagsOf(file: string): number[] {
    return fs
      .readdirSync('/proc/self/fd')
      .filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === file;
        } catch {
          return false; // the descriptor readdir itself used, closed by now
        }
      })
      .map((fd) => parseInt(/^flags:\s*([0-7]+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!, 8));
  }

  it('on Linux writes its lines through a descriptor opened O_DSYNC (a line is on disk when its write returns), also after compaction', async () => {
    // The CI and the kiosks this is for run Linux; /proc shows a descriptor's open flags there.
    assert.equal(process.platform, 'linux', 'this check reads /proc/self/fdinfo');
    const dsync = fs.constants.O_DSYNC;
    const file = tempFile();
    const journal = new Journal(file, { maxSettled: 4 });
    const before = flagsOf(file);
    assert.equal(before.length, 1, 'one descriptor on the journal');
    assert.equal(before[0]! & dsync, dsync, 'O_DSYNC on the journal');
    for (let i = 0; i < 20; i++) {
      await journal.begin({ referenceID: `D${i}`, action: 'Sale', terminal: 'T', requestID: `r${i}` });
      await journal.recordOutcome('Sale', `D${i}`, 'Success');
    }
    // Compaction ran (20 settled against a bound of 4): the file was replaced and reopened.
    assert.ok(fs.readFileSync(file, 'utf8').trim().split('\n').length < 20);
    const after = flagsOf(file);
    assert.equal(after.length, 1, 'one descriptor on the rewritten journal');
    assert.equal(after[0]! & dsync, dsync, 'O_DSYNC on the rewritten journal');
    await journal.close();
    assert.deepEqual(flagsOf(file), [], 'closed');
  });

  it('without O_DSYNC (as on macOS and Windows) writes, then fdatasyncs, and every line is there after a restart', async () => {
    const file = tempFile();
    const journal = new Journal(file, { maxSettled: 4, dsync: false });
    assert.equal(flagsOf(file)[0]! & fs.constants.O_DSYNC, 0, 'a plain descriptor');
    for (let i = 0; i < 12; i++) {
      await journal.begin({ referenceID: `P${i}`, action: 'Sale', terminal: 'T', requestID: `r${i}` });
      if (i % 2 === 0) await journal.recordOutcome('Sale', `P${i}`, 'Success');
    }
    assert.equal(flagsOf(file)[0]! & fs.constants.O_DSYNC, 0, 'still plain after compaction');
    await journal.close();
    const reread = new Journal(file, { maxSettled: 1000 });
    // The open ones all kept; of the settled ones compaction kept the newest in the journal (the rest went to the archives).
    for (let i = 1; i < 12; i += 2) assert.equal(reread.get('Sale', `P${i}`)?.state, 'open', `P${i}`);
    assert.equal(reread.get('Sale', 'P10')?.state, 'Success', 'P10');
    await reread.close();
  });

  it('an append that fails part-way (disk full mid-line) does not take the next line with it: that one starts on a fresh line and survives a restart', async () => {
    const file = tempFile();
    const journal = new Journal(file);
    await journal.begin({ referenceID: 'BEFORE', action: 'Sale', terminal: 'T', requestID: 'r0' });
    // node:fs itself (the journal calls its write): the next write takes 40 bytes, then the disk is full.
    const nodeFs = require('node:fs') as { write: (...args: unknown[]) => void };
    const write = nodeFs.write;
    let failNext = true;
    nodeFs.write = function (this: unknown, ...args: unknown[]) {
      const [fd, buffer, offset, length, position, callback] = args as [number, Buffer, number, number, null, (err: Error | null, n: number) => void];
      if (!failNext || typeof callback !== 'function') return write.apply(this, args);
      failNext = false;
      write.call(this, fd, buffer, offset, Math.min(40, length), position, () => callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 0));
    };
    try {
      await assert.rejects(journal.begin({ referenceID: 'TORN', action: 'Sale', terminal: 'T', requestID: 'r1' }), /ENOSPC/);
    } finally {
      nodeFs.write = write;
    }
    assert.equal(failNext, false, 'the failing write was the journal\'s');
    // Only its open line (an outcome line would carry the whole entry again): the line that stops it being sent twice.
    await journal.begin({ referenceID: 'AFTER', action: 'Sale', terminal: 'T', requestID: 'r2' });
    await journal.close();
    const reread = new Journal(file);
    assert.equal(reread.get('Sale', 'BEFORE')?.state, 'open');
    assert.equal(reread.get('Sale', 'TORN'), undefined, 'the torn line is dropped');
    assert.equal(reread.get('Sale', 'AFTER')?.state, 'open', 'the line after the torn one is kept');
    await reread.close();
  });

  it('is bounded: old settled entries rotate out, open ones stay', async () => {
    const file = tempFile();
    const journal = new Journal(file, { maxSettled: 50 });
    await journal.begin({ referenceID: 'KEEP-OPEN', action: 'Sale', terminal: 'T', requestID: 'r' });
    for (let i = 0; i < 500; i++) {
      await journal.begin({ referenceID: `S${i}`, action: 'Sale', terminal: 'T', requestID: `r${i}` });
      await journal.settle('Sale', `S${i}`, 'Success');
    }
    assert.ok(journal.size <= 50 * 1.25 + 1, `size ${journal.size}`);
    assert.equal(journal.get('Sale', 'KEEP-OPEN')!.state, 'open');
    assert.equal(journal.get('Sale', 'S499')!.state, 'Success');
    assert.equal(journal.get('Sale', 'S0'), undefined);
    await journal.close();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').length;
    assert.ok(lines < 200, `${lines} lines on disk`);
  });

  it('an abort that loses the race: the payment is reported approved, and says so', async () => {
    const terminal = new SimulatedTerminal({ cardDelayMs: 50 });
    const session = sessionWith(new Journal(tempFile()), terminal, { paymentTimeoutMs: 2_000 });
    await session.open();
    // The terminal reads the card before the abort arrives.
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (input) => {
      const text = typeof input === 'string' ? input : Buffer.from(input).toString();
      // The simulated terminal is slow to take the abort: part of the scenario, not a wait for something.
      if (text.includes('"Abort"')) await new Promise((r) => setTimeout(r, 100));
      return handle(input);
    };
    // The abort is asked once the sale is journaled and waits for the card (not after a fixed
    // 10 ms: the journal's flush alone can take longer on a busy disk).
    const waitingCard = new Promise<void>((resolve) => {
      const seen = (a: { kind: string }) => {
        if (a.kind !== 'waiting-card') return;
        session.off('activity', seen);
        resolve();
      };
      session.on('activity', seen);
    });
    const sale = session.request('Sale', { amount: '9.00', currency: 'HKD' });
    await waitingCard;
    await session.request('Abort');
    const out = await sale;
    assert.equal(out.result, 'Success');
    assert.equal(out.approvedDespiteAbort, true);
    await session.close();
  });
});
