import { strict as assert } from 'node:assert';
import { ManualClock } from '../lib/clock';
import { isWonderError } from '../lib/protocol';
import { SIMULATOR_AMOUNTS, SimulatedTerminal, SimulatorTransport } from '../lib/simulator';
import { closedBeforeSent, Scheduler, Terminal, type JobKind, type JobSpec } from '../lib/terminal';
import { until } from './helpers/wait';

/** A job whose end the test decides: `finish()` (or `fail(err)`) settles it. */
function gate<T = string>(value?: T) {
  let finish!: () => void;
  let fail!: (err: unknown) => void;
  const done = new Promise<T>((resolve, reject) => {
    finish = () => resolve(value as T);
    fail = reject;
  });
  return { done, finish, fail };
}

const code = (expected: string, notSent = true) => (err: unknown) => {
  assert.ok(isWonderError(err), String(err));
  assert.equal(err.code, expected);
  assert.equal(err.notSent, notSent);
  return true;
};

describe('Scheduler: one queue per terminal, on a ManualClock', () => {
  /** Submits a job that records when it starts and ends when its gate is finished. */
  function recorder(scheduler: Scheduler, order: string[]) {
    const gates = new Map<string, ReturnType<typeof gate>>();
    const add = (name: string, kind: JobKind, extra: Partial<JobSpec<string>> = {}) => {
      const g = gate(name);
      gates.set(name, g);
      const promise = scheduler.submit({
        kind,
        ...extra,
        run: () => {
          order.push(name);
          return g.done;
        },
      });
      promise.catch(() => undefined);
      return promise;
    };
    const finish = async (name: string) => {
      gates.get(name)!.finish();
      await new Promise((r) => setImmediate(r));
    };
    return { add, finish };
  }

  it('runs one job at a time, by priority (key, identity, pair, recovery, request, health), callers\' requests first come first served', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('payment', 'request', { action: 'Sale', referenceID: 'P-1' });
    // While it runs, everything else waits, whatever order it came in.
    add('health', 'health');
    add('request-1', 'request', { action: 'DeviceInfo' });
    add('recovery', 'recovery');
    add('request-2', 'request', { action: 'Sale', referenceID: 'P-2' });
    add('pair', 'pair');
    add('identity', 'identity');
    add('key', 'key');
    assert.deepEqual(order, ['payment']);
    assert.deepEqual(scheduler.queue.map((j) => j.kind), ['key', 'identity', 'pair', 'recovery', 'request', 'request', 'health']);
    for (const name of ['payment', 'key', 'identity', 'pair', 'recovery', 'request-1', 'request-2', 'health']) await finish(name);
    assert.deepEqual(order, ['payment', 'key', 'identity', 'pair', 'recovery', 'request-1', 'request-2', 'health']);
    assert.equal(scheduler.idle, true);
  });

  it('an internal job that comes while requests wait goes before them, never before the job running', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('sale', 'request', { action: 'Sale', referenceID: 'S-1' });
    add('refund', 'request', { action: 'Refund', referenceID: 'R-1' });
    // A reconnect meanwhile: who answers is asked before the refund, after the sale.
    add('identity', 'identity');
    await finish('sale');
    assert.deepEqual(order, ['sale', 'identity']);
    await finish('identity');
    await finish('refund');
    assert.deepEqual(order, ['sale', 'identity', 'refund']);
  });

  it('the busy policy "reject" refuses a request while another request runs or waits, never because of an internal job', async () => {
    const scheduler = new Scheduler({ busyPolicy: 'reject', clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('health', 'health');
    // A check runs: the payment waits for it, it is not refused.
    const sale = add('sale', 'request', { action: 'Sale', referenceID: 'S-1' });
    assert.equal(scheduler.requestsWaiting, 1);
    await assert.rejects(add('other', 'request', { action: 'Sale', referenceID: 'S-2' }), code('E_BUSY'));
    await finish('health');
    assert.deepEqual(order, ['health', 'sale']);
    await assert.rejects(add('during', 'request', { action: 'DeviceInfo' }), code('E_BUSY'));
    await finish('sale');
    assert.equal(await sale, 'sale');
    assert.deepEqual(order, ['health', 'sale']);
  });

  it('a request waits at most its time (on the monotonic clock), then is released unsent, naming its reference', async () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler({ clock });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('long', 'request', { action: 'Sale', referenceID: 'L-1' });
    const waiting = add('waiting', 'request', { action: 'Sale', referenceID: 'W-1', waitMs: 5_000 });
    const released = assert.rejects(waiting, (err: unknown) => {
      code('E_TIMEOUT')(err);
      assert.equal((err as { referenceID?: string }).referenceID, 'W-1');
      assert.match((err as Error).message, /waited 5 s in the queue/);
      return true;
    });
    await clock.advance(4_999);
    assert.equal(scheduler.requestsWaiting, 1);
    // A wall clock stepped forward changes nothing: only the monotonic reading counts.
    clock.stepWall(3_600_000);
    await clock.advance(0);
    assert.equal(scheduler.requestsWaiting, 1);
    await clock.advance(1);
    await released;
    assert.equal(scheduler.requestsWaiting, 0);
    await finish('long');
    assert.deepEqual(order, ['long']);
    assert.equal(clock.timers, 0, 'no timer left behind');
  });

  it('time waited behind the terminal\'s own jobs (an identity check) does not count against a request\'s wait', async () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler({ clock });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('E', 'request', { action: 'Sale', referenceID: 'E-1' });
    add('H', 'request', { action: 'DeviceInfo' });
    const f = add('F', 'request', { action: 'Sale', referenceID: 'F-1', waitMs: 1_000 });
    let settled = false;
    const released = assert.rejects(f, (err: unknown) => {
      settled = true;
      return code('E_TIMEOUT')(err);
    });
    add('G', 'identity');
    await clock.advance(600);
    await finish('E');
    // The identity check runs: F's wait is held with 400 ms left, however long the check takes.
    assert.deepEqual(order, ['E', 'G']);
    await clock.advance(10_000);
    assert.equal(settled, false);
    await finish('G');
    // Behind a caller's request again: the 400 ms left count down.
    assert.deepEqual(order, ['E', 'G', 'H']);
    await clock.advance(399);
    assert.equal(settled, false);
    await clock.advance(1);
    await released;
    await finish('H');
    assert.deepEqual(order, ['E', 'G', 'H']);
    assert.equal(clock.timers, 0);
  });

  it('a job started in time cancels its wait timer; a signal takes a waiting job out', async () => {
    const clock = new ManualClock();
    const scheduler = new Scheduler({ clock });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('first', 'request', { action: 'DeviceInfo' });
    const controller = new AbortController();
    const second = add('second', 'request', { action: 'DeviceInfo', waitMs: 1_000, signal: controller.signal });
    const third = add('third', 'request', { action: 'DeviceInfo', waitMs: 1_000 });
    controller.abort(new Error('the caller gave up'));
    await assert.rejects(second, /the caller gave up/);
    await finish('first');
    assert.deepEqual(order, ['first', 'third']);
    assert.equal(clock.timers, 0);
    await finish('third');
    assert.equal(await third, 'third');
  });

  it('take(reference) takes every waiting copy of that sale or refund out, never the running one nor another', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('running', 'request', { action: 'Sale', referenceID: 'K-1' });
    const copy1 = add('copy-1', 'request', { action: 'Sale', referenceID: 'K-1' });
    const other = add('other', 'request', { action: 'Sale', referenceID: 'O-1' });
    const copy2 = add('copy-2', 'request', { action: 'Sale', referenceID: 'K-1' });
    const aborted = (ref: string) => () => Object.assign(new Error(`${ref} taken out`), { code: 'E_ABORTED' });
    assert.equal(scheduler.take('K-1', aborted('K-1')), 2);
    await assert.rejects(copy1, /K-1 taken out/);
    await assert.rejects(copy2, /K-1 taken out/);
    assert.equal(scheduler.take('NONE', aborted('NONE')), 0);
    await finish('running');
    await finish('other');
    assert.equal(await other, 'other');
    assert.deepEqual(order, ['running', 'other']);
  });

  it('"queued (n)": callers whose request waits behind another request, and whose own is not running; the waiting place is told', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    const places: Array<[string, number]> = [];
    add('identity', 'identity');
    // Behind a check only: waits, not shown queued.
    add('n1-a', 'request', { action: 'Sale', referenceID: 'A', origin: 'n1', onWaiting: (p) => places.push(['n1-a', p]) });
    assert.deepEqual(scheduler.waitingOrigins(), []);
    add('n1-b', 'request', { action: 'Sale', referenceID: 'B', origin: 'n1', onWaiting: (p) => places.push(['n1-b', p]) });
    add('n2-c', 'request', { action: 'Sale', referenceID: 'C', origin: 'n2', onWaiting: (p) => places.push(['n2-c', p]) });
    assert.deepEqual(places, [['n1-b', 2], ['n2-c', 3]]);
    assert.deepEqual(scheduler.waitingOrigins(), ['n1', 'n2']);
    assert.equal(scheduler.requestsWaiting, 3);
    await finish('identity');
    // n1's first runs: n1 is busy, not "queued"; n2 waits.
    assert.deepEqual(scheduler.waitingOrigins(), ['n2']);
    assert.equal(scheduler.running?.origin, 'n1');
    await finish('n1-a');
    await finish('n1-b');
    assert.deepEqual(scheduler.waitingOrigins(), []);
    await finish('n2-c');
    assert.equal(scheduler.idle, true);
  });

  it('a full queue refuses a request unsent (E_QUEUE_FULL); internal jobs still go in', async () => {
    const scheduler = new Scheduler({ maxQueue: 2, clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('running', 'request', { action: 'DeviceInfo' });
    add('w1', 'request', { action: 'DeviceInfo' });
    add('w2', 'request', { action: 'DeviceInfo' });
    await assert.rejects(add('w3', 'request', { action: 'Sale', referenceID: 'F-1' }), (err: unknown) => {
      code('E_QUEUE_FULL')(err);
      assert.equal((err as { referenceID?: string }).referenceID, 'F-1');
      return true;
    });
    add('recovery', 'recovery');
    for (const name of ['running', 'recovery', 'w1', 'w2']) await finish(name);
    assert.deepEqual(order, ['running', 'recovery', 'w1', 'w2']);
  });

  it('close releases what waits unsent (E_CLOSED) and refuses what comes after; the running job runs to its end', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    const running = add('running', 'request', { action: 'Sale', referenceID: 'R-1' });
    const waiting = add('waiting', 'request', { action: 'Sale', referenceID: 'W-1' });
    scheduler.close(closedBeforeSent);
    await assert.rejects(waiting, code('E_CLOSED'));
    await assert.rejects(add('late', 'recovery'), code('E_CLOSED'));
    await finish('running');
    assert.equal(await running, 'running');
    assert.deepEqual(order, ['running']);
  });

  it('a running payment\'s own error is passed as it is: one that may have been sent is never made notSent', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const sentErr = Object.assign(new Error('no answer; the outcome is unknown'), { code: 'E_PENDING', notSent: false });
    await assert.rejects(
      scheduler.submit({ kind: 'request', action: 'Sale', referenceID: 'P-1', run: () => Promise.reject(sentErr) }),
      (err: unknown) => {
        assert.equal(err, sentErr);
        assert.equal((err as { notSent?: boolean }).notSent, false);
        return true;
      },
    );
  });

  it('a job that throws at once fails alone: the next one starts', async () => {
    const scheduler = new Scheduler({ clock: new ManualClock() });
    const order: string[] = [];
    const { add, finish } = recorder(scheduler, order);
    add('first', 'request', { action: 'DeviceInfo' });
    const broken = assert.rejects(
      scheduler.submit({
        kind: 'request',
        action: 'DeviceInfo',
        run: () => {
          throw new Error('broken before any await');
        },
      }),
      /broken before any await/,
    );
    add('after', 'request', { action: 'DeviceInfo' });
    await finish('first');
    await broken;
    assert.deepEqual(order, ['first', 'after']);
    await finish('after');
  });
});

describe('Terminal: every request and internal job through its scheduler (simulated terminal)', () => {
  const terminals: Terminal[] = [];
  afterEach(async () => {
    for (const t of terminals.splice(0)) await t.close();
  });
  function start(options: { slowCardMs?: number; healthCheckMs?: number; busyPolicy?: 'queue' | 'reject' } = {}) {
    const sim = new SimulatedTerminal({ cardDelayMs: 20, slowCardMs: options.slowCardMs ?? 3_000 });
    const terminal = new Terminal({
      config: { transport: 'simulator' },
      transport: new SimulatorTransport({ terminal: sim }),
      pairingCode: undefined,
      paymentTimeoutMs: 5_000,
      busyPolicy: options.busyPolicy ?? 'queue',
      ...(options.healthCheckMs !== undefined ? { healthCheckMs: options.healthCheckMs } : {}),
    });
    terminals.push(terminal);
    return { sim, terminal };
  }
  const sent = (sim: SimulatedTerminal, action: string, referenceID?: string) => sim.received.filter((r) => r.action === action && (referenceID === undefined || r.referenceID === referenceID)).length;

  it('a sale waiting behind another is taken out by an Abort naming it: E_ABORTED, notSent, never sent; the running one goes on', async () => {
    const { sim, terminal } = start({ slowCardMs: 400 });
    await terminal.open();
    const running = terminal.request('Sale', { amount: SIMULATOR_AMOUNTS.slowCardholder, currency: 'HKD', referenceID: 'OTHER-1' });
    await until('the other sale at the terminal', () => sim.transactions.has('OTHER-1'));
    const queued = terminal.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'KIOSK-1' });
    const queuedFails = assert.rejects(queued, (err: unknown) => {
      code('E_ABORTED')(err);
      assert.equal((err as { referenceID?: string }).referenceID, 'KIOSK-1');
      return true;
    });
    assert.deepEqual(terminal.scheduler.queue.map((j) => j.referenceID), ['KIOSK-1']);
    const abort = await terminal.request('Abort', { referenceID: 'KIOSK-1' });
    assert.equal(abort.takenOutOfQueue, true);
    await queuedFails;
    assert.equal((await running).result, 'Success');
    await terminal.request('DeviceInfo');
    assert.equal(sent(sim, 'Sale', 'KIOSK-1'), 0);
    assert.equal(sent(sim, 'Abort'), 0);
  });

  it('marked simulated only while a simulator answers: a real terminal answering on the same line afterwards is never called simulated', async () => {
    const terminal = new Terminal({
      config: { transport: 'lan', host: '127.0.0.1', port: 1 },
      transport: new SimulatorTransport({ terminal: new SimulatedTerminal({ cardDelayMs: 20 }) }),
      pairingCode: '260880',
      paymentTimeoutMs: 5_000,
      busyPolicy: 'queue',
    });
    terminals.push(terminal);
    await terminal.open();
    assert.equal(terminal.simulated, false, 'nothing answered yet');
    await terminal.request('DeviceInfo');
    assert.equal(terminal.simulated, true);
    // The session's report of the next answer, from a terminal that does not mark its answers (a real one plugged in).
    terminal.session!.emit('exchange', { kind: 'answered', action: 'DeviceInfo', requestID: 'real-1', bytes: 300 });
    assert.equal(terminal.simulated, false, 'a real answer after a simulated one is still called simulated');
    await terminal.request('DeviceInfo');
    assert.equal(terminal.simulated, true);
  });

  it('a Sale without a reference gets it when it is queued: told at once, and the one sent', async () => {
    const { sim, terminal } = start();
    await terminal.open();
    let told: string | undefined;
    const outcome = await terminal.request('Sale', { amount: '10.00', currency: 'HKD' }, { onQueued: (info) => (told = info.referenceID) });
    assert.ok(told !== undefined && told.length > 0);
    assert.equal(outcome.referenceID, told);
    assert.equal(sent(sim, 'Sale', told), 1);
  });

  it('bad input is refused before it waits, naming the field; nothing queued, nothing sent', async () => {
    const { sim, terminal } = start();
    await terminal.open();
    const before = sim.received.length;
    let queued = false;
    await assert.rejects(terminal.request('Sale', { amount: 'ten', currency: 'HKD' }, { onQueued: () => (queued = true) }), (err: unknown) => {
      code('E_VALIDATION')(err);
      assert.equal((err as { field?: string }).field, 'amount');
      return true;
    });
    assert.equal(queued, false);
    assert.equal(terminal.scheduler.idle, true);
    assert.equal(sim.received.length, before);
  });

  it('with the busy policy "reject", a payment that arrives during a health check waits for it; one during a payment is refused unsent', async () => {
    const { sim, terminal } = start({ busyPolicy: 'reject', slowCardMs: 300 });
    await terminal.open();
    // A health check as the scheduler runs it (its last job).
    const check = terminal.scheduler.submit({ kind: 'health', run: () => terminal.session!.request('DeviceInfo') });
    const sale = terminal.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'H-1' });
    await assert.rejects(terminal.request('Sale', { amount: '10.00', currency: 'HKD', referenceID: 'H-2' }), code('E_BUSY'));
    await check;
    assert.equal((await sale).result, 'Success');
    assert.equal(sent(sim, 'Sale', 'H-2'), 0);
  });
});
