import { strict as assert } from 'node:assert';
import { ManualClock, sleep, systemClock } from '../lib/clock';

describe('clock (lib/clock): monotonic for durations, wall for timestamps', () => {
  it('a manual clock fires timers in due order, ties in the order set, and only when advanced past them', async () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    clock.setTimer(() => fired.push('b@20'), 20);
    clock.setTimer(() => fired.push('a@10'), 10);
    clock.setTimer(() => fired.push('c@20'), 20);
    const cancelled = clock.setTimer(() => fired.push('never'), 15);
    cancelled.cancel();
    await clock.advance(9);
    assert.deepEqual(fired, []);
    await clock.advance(11);
    assert.deepEqual(fired, ['a@10', 'b@20', 'c@20']);
    assert.equal(clock.monotonic(), 20);
    assert.equal(clock.timers, 0);
  });

  it('async code awaiting a sleep goes on between timers, as in real time', async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    const run = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(clock, 100);
        seen.push(clock.monotonic());
      }
    })();
    await clock.advance(250);
    assert.deepEqual(seen, [100, 200]);
    await clock.advance(50);
    await run;
    assert.deepEqual(seen, [100, 200, 300]);
  });

  it('stepping the wall clock back or forward moves no timer and no monotonic reading', async () => {
    const clock = new ManualClock({ wall: Date.UTC(2026, 11, 7, 12) });
    let fired = false;
    clock.setTimer(() => { fired = true; }, 1000);
    clock.stepWall(-20 * 60_000);
    assert.equal(clock.wall(), Date.UTC(2026, 11, 7, 11, 40));
    assert.equal(clock.monotonic(), 0);
    await clock.advance(999);
    assert.equal(fired, false);
    clock.stepWall(3600_000);
    await clock.advance(1);
    assert.equal(fired, true);
  });

  it('a sleep aborted before it is due rejects with the reason and leaves no timer', async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const slept = sleep(clock, 1000, ac.signal);
    ac.abort(new Error('cancelled'));
    await assert.rejects(slept, /cancelled/);
    assert.equal(clock.timers, 0);
    await assert.rejects(sleep(clock, 10, ac.signal), /cancelled/);
  });

  it('runAll fires every timer, including those set by timers, and says how far it went', async () => {
    const clock = new ManualClock();
    let n = 0;
    const tick = () => { if (++n < 5) clock.setTimer(tick, 30); };
    clock.setTimer(tick, 30);
    assert.equal(await clock.runAll(), 150);
    assert.equal(n, 5);
    await assert.rejects(clock.advance(-1), /ms must be a number ≥ 0/);
  });

  it('the system clock: monotonic never goes back, wall is the epoch time, a timer fires and one cancelled does not', async () => {
    const a = systemClock.monotonic();
    const b = systemClock.monotonic();
    assert.ok(b >= a);
    assert.ok(Math.abs(systemClock.wall() - Date.now()) < 1000);
    let cancelledFired = false;
    systemClock.setTimer(() => { cancelledFired = true; }, 0).cancel();
    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 1, { background: false }));
    assert.equal(cancelledFired, false);
  });
});
