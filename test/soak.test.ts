import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { SoakReport } from '../scripts/soak';

const SCRIPT = path.join(__dirname, '..', 'scripts', 'soak.js');

/** Runs the soak script as CI does, in its own process with the GC exposed so heap figures mean something. */
function soak(sales: number, seed: number): Promise<SoakReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', SCRIPT, '--sales', String(sales), '--seed', String(seed)], { timeout: 110_000 }, (err, stdout, stderr) => {
      if (stdout.trim() === '') return reject(new Error(`soak printed nothing: ${String(err)} ${stderr}`));
      resolve(JSON.parse(stdout) as SoakReport);
    });
  });
}

describe('soak (CI size): sales over a real pty with random line faults and outcomes', function () {
  this.timeout(120_000);

  it('none lost, none doubled, the journal agrees with the books, heap and handles flat', async () => {
    const report = await soak(400, 7);
    assert.equal(report.doubled, 0, 'a sale went out twice');
    assert.equal(report.lost, 0, 'a sale has no outcome');
    assert.equal(report.stillPending, 0);
    assert.equal(report.errors, 0);
    assert.equal(report.journalDisagreements, 0);
    assert.ok(report.resolvedByStatus > 0, 'no outcome needed TransactionStatus: the faults did not bite');
    assert.ok(report.lineFaults.discardedBytes > 0, 'no noise reached the decoder');
    assert.equal(report.approved + report.declined + report.queueTimeouts, report.uniqueReferences);
    assert.ok(report.heapMB.afterTeardown <= report.heapMB.before + 2, `heap ${report.heapMB.before} → ${report.heapMB.afterTeardown} MB after teardown`);
    assert.ok(report.handles.end <= report.handles.start, `handles ${report.handles.startKinds.join(',')} → ${report.handles.endKinds.join(',')}`);
    assert.ok(report.fds.end <= report.fds.start, `fds ${report.fds.start} → ${report.fds.end}`);
    assert.ok(report.ok);
  });
});
