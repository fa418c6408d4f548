/**
 * Part 6 (issue 15): how soon a progress message leaves the sale node after
 * the session learns the step. Sales through the real runtime (test helper,
 * spies off) on the in-process simulator (card delay 0), the sale node's
 * progress output on. For each step the session reports (`waiting-card`:
 * the node sends `sent` and `waiting-card`; `done`: `approved`), the time
 * from the session's `activity` event (a listener put first) to the sale
 * node's send, and to the next node's input.
 */
import type { TerminalSession } from '../lib/session';
import { loadFlow, startRuntime } from './node-red';
import { median, nowMs, percentile } from './stats';

export interface ProgressResult {
  sales: number;
  steps: number;
  /** Session activity → the sale node's send of the progress message, ms. */
  sendMedianMs: number;
  sendP95Ms: number;
  sendMaxMs: number;
  /** Session activity → the message's arrival at the next node, ms. */
  deliverMedianMs: number;
  deliverP95Ms: number;
  deliverMaxMs: number;
}

const SALES = 200;
const WARMUP = 10;

export async function runProgress(): Promise<ProgressResult> {
  const helper = await startRuntime();
  const flow = [
    { id: 'f1', type: 'tab', label: 'progress bench' },
    { id: 'sim', type: 'wonder-terminal', name: 'simulated terminal', transport: 'simulator', timeout: '30' },
    { id: 'sale', type: 'wonder-sale', z: 'f1', terminal: 'sim', progress: true, outputs: 2, wires: [['out'], ['steps']] },
    { id: 'out', type: 'helper', z: 'f1' },
    { id: 'steps', type: 'helper', z: 'f1' },
  ];
  await loadFlow(flow, {});
  const terminal = helper.getNode('sim') as unknown as { wonder: { session: TerminalSession & { transport: { terminal: { opts: { cardDelayMs: number } } } } } };
  const session = terminal.wonder.session;
  session.transport.terminal.opts.cardDelayMs = 0;

  /** When the session told of each step, by the progress step it becomes. */
  let learnt = new Map<string, number>();
  session.prependListener('activity', (a: { kind: string }) => {
    const at = nowMs();
    if (a.kind === 'waiting-card') {
      learnt.set('sent', at);
      learnt.set('waiting-card', at);
    } else if (a.kind === 'done') {
      learnt.set('approved', at);
    }
  });
  const sendDelays: number[] = [];
  const deliverDelays: number[] = [];
  let recording = false;
  const node = helper.getNode('sale') as unknown as { send: (msg: unknown) => void };
  const send = node.send.bind(node);
  node.send = (msg: unknown) => {
    const at = nowMs();
    const progress = Array.isArray(msg) ? (msg[1] as { wonder?: { progress?: string } } | null) : null;
    const step = progress?.wonder?.progress;
    if (recording && step !== undefined && learnt.has(step)) sendDelays.push(at - learnt.get(step)!);
    send(msg);
  };
  const steps = helper.getNode('steps');
  steps.on('input', (msg: { wonder: { progress: string } }) => {
    const at = nowMs();
    if (recording && learnt.has(msg.wonder.progress)) deliverDelays.push(at - learnt.get(msg.wonder.progress)!);
  });
  for (let i = 0; i < WARMUP + SALES; i++) {
    recording = i >= WARMUP;
    learnt = new Map();
    const out = new Promise<void>((resolve) => helper.getNode('out').once('input', () => resolve()));
    // The approved step is delivered after the outcome on output 1: wait for both.
    const last = new Promise<void>((resolve) => {
      const onStep = (m: { wonder: { progress: string } }) => {
        if (m.wonder.progress === 'approved') {
          steps.removeListener('input', onStep); // Node-RED's own; `off` leaves an 'input' listener in place
          resolve();
        }
      };
      steps.on('input', onStep);
    });
    helper.getNode('sale').receive({ payload: { amount: '10.20', currency: 'HKD' } });
    await Promise.all([out, last]);
  }
  await helper.unload();
  return {
    sales: SALES,
    steps: sendDelays.length,
    sendMedianMs: median(sendDelays),
    sendP95Ms: percentile(sendDelays, 95),
    sendMaxMs: Math.max(...sendDelays),
    deliverMedianMs: median(deliverDelays),
    deliverP95Ms: percentile(deliverDelays, 95),
    deliverMaxMs: Math.max(...deliverDelays),
  };
}
