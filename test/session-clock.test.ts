import { strict as assert } from 'node:assert';
import { ManualClock } from '../lib/clock';
import { openLedger } from '../lib/ledger';
import { TerminalSession, type Outcome } from '../lib/session';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { SimulatorTransport } from '../lib/simulator/transport';
import { tempLedgerFile } from './helpers/ledger-files';
import { MemoryStore } from './sim/store';

const MINUTE = 60_000;

/** A session, its simulated terminal and an in-memory ledger, all on one manual clock. */
function onClock(extra: Partial<ConstructorParameters<typeof TerminalSession>[0]> = {}) {
  const clock = new ManualClock({ wall: Date.UTC(2026, 11, 7, 12) });
  const terminal = new SimulatedTerminal({ clock, cardDelayMs: 1_000, random: () => 0.5 });
  const store = new MemoryStore();
  const session = new TerminalSession({
    transport: new SimulatorTransport({ terminal }),
    pairingCode: '260880',
    clientDeviceSN: 'TEST-ECR',
    journal: store,
    clock,
    paymentTimeoutMs: 2 * MINUTE,
    commandTimeoutMs: 10_000,
    statusPollIntervalMs: 2_000,
    resolveTimeoutMs: 30_000,
    ...extra,
  });
  return { clock, terminal, store, session };
}

/** Runs `work` to its end on the manual clock (moving time only as far as its timers need). */
async function settle<T>(clock: ManualClock, work: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let done: { value?: T; error?: unknown } | undefined;
  work.then((value) => (done = { value }), (error: unknown) => (done = { error }));
  await clock.advance(0);
  while (done === undefined) {
    const due = clock.nextDue();
    assert.ok(due !== undefined, 'the request waits on nothing the clock can move');
    await clock.advance(due - clock.monotonic());
  }
  return done;
}

function codeOf(error: unknown): string | undefined {
  return (error as { code?: string } | undefined)?.code;
}

function notSentOf(error: unknown): boolean | undefined {
  return (error as { notSent?: boolean } | undefined)?.notSent;
}

/** A sale left open 40 s into its two-minute card window: the terminal takes it and answers neither it (10 s) nor any lookup (30 s). */
async function leaveOpen(env: ReturnType<typeof onClock>, referenceID: string): Promise<void> {
  env.terminal.silent = new Set(['Sale', 'TransactionStatus']);
  const { error } = await settle(env.clock, env.session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID }, { timeoutMs: 10_000 }));
  assert.equal(codeOf(error), 'E_PENDING');
  assert.equal(env.store.get('Sale', referenceID)?.state, 'open');
  env.terminal.silent = new Set(['TransactionStatus']);
}

describe('session on an injected clock (card windows and time-outs on the monotonic reading, timestamps on the wall reading)', () => {
  it('a wall clock stepped back 20 minutes does not refuse every new sale E_BLOCKED: an old unresolved payment past its card window holds nothing back', async () => {
    const env = onClock();
    await env.session.open();
    await leaveOpen(env, 'OLD');
    // Past the old sale's card window (monotonic), then the wall clock is stepped back 20 minutes (NTP, an operator).
    await env.clock.advance(3 * MINUTE);
    env.clock.stepWall(-20 * MINUTE);
    const next = await settle(env.clock, env.session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'NEW' }));
    assert.equal(codeOf(next.error), undefined, `the new sale was refused: ${String(next.error)}`);
    assert.equal((next.value as Outcome).result, 'Success');
    assert.equal(env.terminal.count('Sale', 'NEW'), 1);
    // The old one is still open, and still asked about.
    assert.equal(env.store.get('Sale', 'OLD')?.state, 'open');
    assert.ok(env.terminal.count('TransactionStatus', 'OLD') >= 2);
    env.terminal.stop();
    await env.session.close();
  });

  it('a wall clock stepped forward 20 minutes does not release a payment still in its card window: the next sale is held back E_BLOCKED, unsent', async () => {
    const env = onClock();
    await env.session.open();
    await leaveOpen(env, 'FRESH');
    // 30 s of lookups into a two-minute card window; the wall clock jumps 20 minutes ahead.
    env.clock.stepWall(20 * MINUTE);
    const next = await settle(env.clock, env.session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'NEXT' }));
    assert.equal(codeOf(next.error), 'E_BLOCKED');
    assert.equal(notSentOf(next.error), true);
    assert.equal(env.terminal.count('Sale', 'NEXT'), 0);
    // Once its window has passed on the monotonic clock, it holds nothing back.
    await env.clock.advance(2 * MINUTE);
    const later = await settle(env.clock, env.session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'NEXT' }));
    assert.equal((later.value as Outcome | undefined)?.result, 'Success', String(later.error));
    env.terminal.stop();
    await env.session.close();
  });

  it('a payment opened before this session (a restart) keeps what was left of its window by the wall clock when first seen, however the wall clock steps after', async () => {
    const first = onClock();
    await first.session.open();
    await leaveOpen(first, 'BEFORE');
    // A new session on the same store (the process restarted), 40 s into the sale's window by the wall clock.
    const clock = first.clock;
    const second = new TerminalSession({
      transport: new SimulatorTransport({ terminal: first.terminal }),
      pairingCode: '260880',
      clientDeviceSN: 'TEST-ECR',
      journal: first.store,
      clock,
      paymentTimeoutMs: 2 * MINUTE,
      commandTimeoutMs: 10_000,
      statusPollIntervalMs: 2_000,
      resolveTimeoutMs: 30_000,
    });
    await second.open();
    const held = await settle(clock, second.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER' }));
    assert.equal(codeOf(held.error), 'E_BLOCKED');
    clock.stepWall(-20 * MINUTE);
    await clock.advance(2 * MINUTE);
    const sent = await settle(clock, second.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER' }));
    assert.equal((sent.value as Outcome | undefined)?.result, 'Success', String(sent.error));
    first.terminal.stop();
    await first.session.close();
    await second.close();
  });

  it('an old unresolved payment (past its card window) is asked with the command time-out, not 1 s: a slow terminal\'s answer settles it', async () => {
    const env = onClock();
    await env.session.open();
    await leaveOpen(env, 'SLOW');
    await env.clock.advance(3 * MINUTE);
    // The terminal answers lookups again, 5 s after each (within the 10 s command time-out).
    env.terminal.silent = new Set();
    env.terminal.delays = { TransactionStatus: 5_000 };
    const recovered: string[] = [];
    env.session.on('recovered', ({ entry }: { entry: { referenceID: string } }) => recovered.push(entry.referenceID));
    const next = await settle(env.clock, env.session.request('Sale', { amount: '1.00', currency: 'HKD', referenceID: 'AFTER-SLOW' }));
    assert.equal((next.value as Outcome | undefined)?.result, 'Success', String(next.error));
    assert.deepEqual(recovered, ['SLOW']);
    assert.equal(env.store.get('Sale', 'SLOW')?.state, 'Success');
    env.terminal.stop();
    await env.session.close();
  });

  it('a command time-out fires on the monotonic clock, to the millisecond, whatever the wall clock does', async () => {
    const env = onClock();
    await env.session.open();
    env.terminal.silent = new Set(['DeviceInfo']);
    let error: unknown;
    env.session.request('DeviceInfo').catch((e: unknown) => (error = e));
    await env.clock.advance(9_999);
    env.clock.stepWall(-3_600_000);
    await env.clock.advance(0);
    assert.equal(error, undefined);
    env.clock.stepWall(7_200_000);
    await env.clock.advance(1);
    assert.equal(codeOf(error), 'E_TIMEOUT');
    await env.session.close();
  });

  it('a request waiting in the queue is released unsent after its wait, on the clock', async () => {
    const env = onClock();
    await env.session.open();
    const sale = env.session.request('Sale', { amount: '2.00', currency: 'HKD', referenceID: 'FIRST' });
    let waited: unknown;
    env.session.request('DeviceInfo', undefined, { timeoutMs: 500 }).catch((e: unknown) => (waited = e));
    await env.clock.advance(499);
    assert.equal(waited, undefined);
    await env.clock.advance(1);
    assert.equal(codeOf(waited), 'E_TIMEOUT');
    assert.equal(notSentOf(waited), true);
    assert.equal((await settle(env.clock, sale)).value?.result, 'Success');
    assert.equal(env.terminal.count('DeviceInfo'), 0);
    await env.session.close();
  });

  it('elapsedMs is monotonic time, and the recorded opening time is the wall reading', async () => {
    const env = onClock();
    await env.session.open();
    const run = env.session.request('Sale', { amount: '3.00', currency: 'HKD', referenceID: 'TIMED' });
    await env.clock.advance(0);
    env.clock.stepWall(-10 * MINUTE);
    const { value } = await settle(env.clock, run);
    assert.equal(value!.elapsedMs, 1_000);
    assert.equal(env.store.get('Sale', 'TIMED')!.openedAt, new Date(Date.UTC(2026, 11, 7, 12)).toISOString());
    await env.session.close();
  });

  it("the ledger records its timestamps on its clock's wall reading", async () => {
    const clock = new ManualClock({ wall: Date.UTC(2030, 0, 2, 3, 4, 5) });
    const ledger = openLedger(tempLedgerFile(), { clock });
    try {
      const e = await ledger.begin({ referenceID: 'L-1', action: 'Sale', terminal: 't', requestID: 'r' });
      assert.equal(e.openedAt, '2030-01-02T03:04:05.000Z');
      clock.stepWall(-86_400_000);
      const closed = await ledger.recordOutcome('Sale', 'L-1', 'Success');
      assert.equal(closed!.closedAt, '2030-01-01T03:04:05.000Z');
    } finally {
      await ledger.close();
    }
  });
});
