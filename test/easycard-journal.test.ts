import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EasyCardJournal, type EasyCardRecord } from '../lib/easycard/journal';

const record = (key: string, change: Partial<EasyCardRecord> = {}): EasyCardRecord => ({
  key: `Account0001/${key}`, mchId: 'Account0001', storeOrderNo: key, serviceType: 'Payment', state: 'running', attempts: 0,
  next: { serviceType: 'Payment', mchId: 'Account0001', retry: '1', deviceId: '01301234', amount: '1', terminalTXNNumber: '152226', hostSerialNumber: '152226' },
  startedAt: '2026-01-01T00:00:00.000Z', updatedAt: '', ...change,
});

describe('EasyCard journal (file)', () => {
  const dir = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'easycard-journal-')), 'wonder-ecr');

  it('a run left running by a dead process: unknown outcome if a retry was in flight, else interrupted and resumable; reported once', () => {
    const file = path.join(dir(), 'easycard.jsonl');
    const j = new EasyCardJournal(file);
    j.put(record('IN-FLIGHT', { attempts: 1, inFlight: 2, node: 'n1' }));
    j.put(record('WAITING', { attempts: 1, node: 'n1' }));
    j.put(record('DONE', { state: 'completed', attempts: 1, result: { ok: true, reportToEasyCard: false } }));
    // The process dies without closing: a new one reads the file.
    const k = new EasyCardJournal(file);
    assert.equal(k.get('Account0001/IN-FLIGHT')!.state, 'failed');
    assert.equal(k.get('Account0001/IN-FLIGHT')!.result!.reason, 'unknown-outcome');
    assert.equal(k.get('Account0001/IN-FLIGHT')!.attempts, 2);
    assert.equal(k.get('Account0001/WAITING')!.state, 'interrupted');
    assert.equal(k.get('Account0001/WAITING')!.next!.retry, '1');
    assert.deepEqual(k.unreported().map((r) => r.storeOrderNo).sort(), ['IN-FLIGHT', 'WAITING']);
    k.close();
    j.close();
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  });

  it('a torn last line (power cut mid-write) is dropped and the next write lands on a line of its own', () => {
    const file = path.join(dir(), 'easycard.jsonl');
    const j = new EasyCardJournal(file);
    j.put(record('A', { state: 'completed', result: { ok: true, reportToEasyCard: false } }));
    j.close();
    fs.appendFileSync(file, '{"key":"Account0001/B","sta');
    const k = new EasyCardJournal(file);
    assert.equal(k.get('Account0001/B'), undefined);
    k.put(record('C', { state: 'interrupted' }));
    k.close();
    const again = new EasyCardJournal(file);
    assert.equal(again.get('Account0001/A')!.state, 'completed');
    assert.equal(again.get('Account0001/C')!.state, 'interrupted');
    again.close();
  });

  it('is never opened through a symbolic link', () => {
    const d = dir();
    fs.mkdirSync(d, { recursive: true });
    const target = path.join(d, 'elsewhere.jsonl');
    fs.writeFileSync(target, '');
    fs.symlinkSync(target, path.join(d, 'easycard.jsonl'));
    assert.throws(() => new EasyCardJournal(path.join(d, 'easycard.jsonl')), /symbolic link/);
  });
});
