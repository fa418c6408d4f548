import { strict as assert } from 'node:assert';
import type { NodeStatus } from 'node-red';
import { TraceLog } from '../lib/session/trace';
import { statusSetter } from '../nodes/common/shown-status';

describe('per-sale bookkeeping of the nodes (status, trace)', () => {
  it('a node status is sent only when its fill, shape or text changes', () => {
    const sent: NodeStatus[] = [];
    const status = statusSetter({ status: (s: NodeStatus) => void sent.push(s) } as never);
    status({ fill: 'blue', shape: 'ring', text: 'a' });
    status({ fill: 'blue', shape: 'ring', text: 'a' });
    status({ fill: 'blue', shape: 'dot', text: 'a' });
    status({ fill: 'green', shape: 'dot', text: 'a' });
    status({ fill: 'green', shape: 'dot', text: 'b' });
    status({ fill: 'green', shape: 'dot', text: 'b' });
    status({});
    status({});
    assert.deepEqual(sent, [
      { fill: 'blue', shape: 'ring', text: 'a' },
      { fill: 'blue', shape: 'dot', text: 'a' },
      { fill: 'green', shape: 'dot', text: 'a' },
      { fill: 'green', shape: 'dot', text: 'b' },
      {},
    ]);
  });

  it('the trace keeps times as numbers and lists them as ISO texts, oldest first, after it wraps', () => {
    const trace = new TraceLog(3);
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
    for (let i = 0; i < 5; i++) trace.add({ atMs: t0 + i * 1000, direction: 'out', action: 'Sale', requestID: `r${i}`, bytes: 455, result: 'sent' });
    const burst = { atMs: t0 + 9000, direction: 'in' as const, action: '-', bytes: 3, result: 'noise', count: 1 };
    trace.add(burst);
    // A burst goes on in the record kept.
    Object.assign(burst, { count: 2, bytes: 7, lastAtMs: t0 + 9500 });
    const listed = trace.list();
    assert.deepEqual(listed, [
      { at: '2026-01-02T03:04:08.006Z', direction: 'out', action: 'Sale', requestID: 'r3', bytes: 455, result: 'sent' },
      { at: '2026-01-02T03:04:09.006Z', direction: 'out', action: 'Sale', requestID: 'r4', bytes: 455, result: 'sent' },
      { at: '2026-01-02T03:04:14.006Z', direction: 'in', action: '-', bytes: 7, result: 'noise', count: 2, lastAt: '2026-01-02T03:04:14.506Z' },
    ]);
    // Copies: a reader that changes them changes nothing kept.
    listed[0]!.result = 'changed';
    assert.equal(trace.list()[0]!.result, 'sent');
  });
});
