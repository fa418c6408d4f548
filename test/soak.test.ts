import { strict as assert } from 'node:assert';
import { runSoak } from '../scripts/soak';

describe('soak (CI size): sales over a real pty with random line faults and outcomes', function () {
  this.timeout(120_000);

  it('none lost, none doubled, the journal agrees with the books, handles flat', async () => {
    const report = await runSoak({ sales: 400, concurrency: 4, seed: 7 });
    assert.equal(report.doubled, 0, 'a sale went out twice');
    assert.equal(report.lost, 0, 'a sale has no outcome');
    assert.equal(report.stillPending, 0);
    assert.equal(report.errors, 0);
    assert.equal(report.journalDisagreements, 0);
    assert.ok(report.resolvedByStatus > 0, 'no outcome needed TransactionStatus: the faults did not bite');
    assert.ok(report.lineFaults.discardedBytes > 0, 'no noise reached the decoder');
    assert.ok(report.duplicatesAnswered > 0 || report.uniqueReferences === report.sales);
    assert.ok(report.handles.end <= report.handles.start, `handles ${report.handles.startKinds.join(',')} → ${report.handles.endKinds.join(',')}`);
    assert.ok(report.fds.end <= report.fds.start, `fds ${report.fds.start} → ${report.fds.end}`);
    assert.equal(report.approved + report.declined + report.queueTimeouts, report.uniqueReferences);
    assert.ok(report.heapMB.afterTeardown <= report.heapMB.before + 2, `heap ${report.heapMB.before} → ${report.heapMB.afterTeardown} MB after teardown`);
    assert.ok(report.ok);
  });
});
