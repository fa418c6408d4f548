import type { NodeStatus } from 'node-red';
import type { ShownState } from '../../lib/terminal';
import { NS } from './i18n';

/**
 * Node status like the core nodes: a shape, a colour and a short text. The
 * text is an i18n key (`namespace:key`): the editor translates it into its own
 * language. Keys hold no parameters (the editor passes none), so counts and
 * causes have a key each.
 */
const key = (k: string) => `${NS}:status.${k}`;

/** Most requests a status counts one by one; more show as "9+". */
export const QUEUED_SHOWN = 9;

/**
 * `simulated`: the terminal is a simulator. Where a real one shows "ready",
 * it shows "simulated" (a ring: no real payment is taken there).
 */
export function connectionStatus(state: ShownState, simulated = false): NodeStatus {
  if (state.startsWith('unreachable:')) {
    const cause = state.slice('unreachable:'.length);
    // Busy is no fault of the link: it passes.
    if (cause === 'terminal-busy') return { fill: 'yellow', shape: 'ring', text: key('cause.terminal-busy') };
    return { fill: 'red', shape: 'ring', text: cause === 'other' ? key('unreachable') : key(`cause.${cause}`) };
  }
  if (state.startsWith('queued:')) {
    const n = Number(state.slice('queued:'.length));
    return { fill: 'blue', shape: 'ring', text: key(`queued.${n > QUEUED_SHOWN ? 'more' : String(Math.max(1, n))}`) };
  }
  switch (state) {
    case 'connected':
      return simulated ? { fill: 'green', shape: 'ring', text: key('simulated') } : { fill: 'green', shape: 'dot', text: key('ready') };
    case 'unchecked':
      return { fill: 'grey', shape: 'ring', text: key('unchecked') };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: key('connecting') };
    case 'unknown':
      return { fill: 'yellow', shape: 'dot', text: key('unknown') };
    case 'unconfigured':
      return { fill: 'red', shape: 'dot', text: key('configError') };
    case 'no-transport':
      return { fill: 'red', shape: 'dot', text: key('noTransport') };
    case 'pair-again':
      return { fill: 'red', shape: 'ring', text: key('pairAgain') };
    case 'same-terminal':
      return { fill: 'red', shape: 'dot', text: key('sameTerminal') };
    default:
      return { fill: 'grey', shape: 'ring', text: key('closed') };
  }
}

export type ActivityKind = 'sending' | 'waiting-card' | 'resolving' | 'success' | 'failed' | 'error' | 'busy';

/** `simulated`: a success on a simulator reads "success (simulated)". */
export function activityStatus(kind: ActivityKind, simulated = false): NodeStatus {
  switch (kind) {
    case 'waiting-card':
      return { fill: 'blue', shape: 'dot', text: key('waitingCard') };
    case 'resolving':
      // The outcome is not known yet: asked about, never guessed. Not an error.
      return { fill: 'yellow', shape: 'dot', text: key('unknown') };
    case 'success':
      return simulated ? { fill: 'green', shape: 'ring', text: key('simulatedSuccess') } : { fill: 'green', shape: 'dot', text: key('success') };
    case 'failed':
      return { fill: 'red', shape: 'ring', text: key('failed') };
    case 'busy':
      return { fill: 'yellow', shape: 'ring', text: key('busy') };
    case 'error':
      return { fill: 'red', shape: 'dot', text: key('error') };
    default:
      return { fill: 'blue', shape: 'ring', text: key('sending') };
  }
}
