import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EasyCardJournal, type EasyCardRecord } from '../lib/easycard/journal';
import { openLedger } from '../lib/ledger';
import { tempLedgerFile } from './helpers/ledger-files';

const record = (key: string, change: Partial<EasyCardRecord> = {}): EasyCardRecord => ({
  key: `Account0001/${key}`, mchId: 'Account0001', storeOrderNo: key, serviceType: 'Payment', state: 'running', attempts: 0,
  next: { serviceType: 'Payment', mchId: 'Account0001', retry: '1', deviceId: '01301234', amount: '1', terminalTXNNumber: '152226', hostSerialNumber: '152226' },
  startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '', ...change,
});

describe('EasyCard runs in the ledger', () => {
  it('a run left running by a process that ended: unknown outcome if a retry was in flight, else interrupted and resumable; reported once', async () => {
    const file = tempLedgerFile('easycard-journal-');
    const j = new EasyCardJournal(openLedger(file));
    await j.put(record('IN-FLIGHT', { attempts: 1, inFlight: 2, node: 'n1' }));
    await j.put(record('WAITING', { attempts: 1, node: 'n1' }));
    await j.put(record('DONE', { state: 'completed', attempts: 1, result: { ok: true, reportToEasyCard: false, rrNumber: 'RR1' } }));
    await j.close();
    // The next process opens the ledger.
    const k = new EasyCardJournal(openLedger(file));
    assert.equal(k.get('Account0001/IN-FLIGHT')!.state, 'failed');
    assert.equal(k.get('Account0001/IN-FLIGHT')!.result!.reason, 'unknown-outcome');
    assert.equal(k.get('Account0001/IN-FLIGHT')!.attempts, 2);
    assert.equal(k.get('Account0001/WAITING')!.state, 'interrupted');
    assert.equal(k.get('Account0001/WAITING')!.next!.retry, '1');
    assert.deepEqual(k.get('Account0001/DONE')!.result, { ok: true, reportToEasyCard: false, rrNumber: 'RR1' });
    assert.deepEqual(k.unreported().map((r) => r.storeOrderNo).sort(), ['IN-FLIGHT', 'WAITING']);
    await k.put({ ...k.get('Account0001/WAITING')!, reported: true });
    assert.deepEqual(k.unreported().map((r) => r.storeOrderNo), ['IN-FLIGHT']);
    await k.close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  });

  it('two account nodes with one MchId share the runs: a completed one is answered from its record, a running one is seen running', async () => {
    const file = tempLedgerFile('easycard-journal-');
    const owner = {};
    const a = new EasyCardJournal(openLedger(file, { owner }));
    const b = new EasyCardJournal(openLedger(file, { owner }));
    await a.put(record('PAID', { state: 'completed', attempts: 1, result: { ok: true, reportToEasyCard: false } }));
    assert.equal(b.get('Account0001/PAID')!.state, 'completed');
    assert.equal(a.running, b.running, 'one set of runs under way per ledger');
    // A run of the first account is under way: the second's view of the ledger does not end it.
    await a.put(record('BUSY', { attempts: 0 }));
    const c = new EasyCardJournal(openLedger(file, { owner }));
    assert.equal(c.get('Account0001/BUSY')!.state, 'running');
    await a.close();
    await b.close();
    await c.close();
  });

  it('is never opened through a symbolic link', () => {
    const file = tempLedgerFile('easycard-journal-');
    const target = path.join(path.dirname(file), 'elsewhere.db');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, file);
    assert.throws(() => openLedger(file), /symbolic link/);
  });
});
