import type { NodeStatus } from 'node-red';
import type { ConnectionState } from './terminal-handle';
import { NS } from './i18n';

/** Node status like the core nodes: a shape, a colour and a short i18n text. */
export function connectionStatus(state: ConnectionState): NodeStatus {
  switch (state) {
    case 'connected':
      return { fill: 'green', shape: 'dot', text: `${NS}:status.connected` };
    case 'connecting':
      return { fill: 'yellow', shape: 'ring', text: `${NS}:status.connecting` };
    case 'disconnected':
      return { fill: 'red', shape: 'ring', text: `${NS}:status.disconnected` };
    case 'unconfigured':
      return { fill: 'red', shape: 'dot', text: `${NS}:status.configError` };
    case 'pair-again':
      return { fill: 'red', shape: 'ring', text: `${NS}:status.pairAgain` };
    default:
      return { fill: 'grey', shape: 'ring', text: `${NS}:status.closed` };
  }
}

export type ActivityKind = 'sending' | 'waiting-card' | 'resolving' | 'success' | 'failed' | 'error' | 'busy';

export function activityStatus(kind: ActivityKind): NodeStatus {
  switch (kind) {
    case 'waiting-card':
      return { fill: 'blue', shape: 'dot', text: `${NS}:status.waitingCard` };
    case 'resolving':
      return { fill: 'yellow', shape: 'dot', text: `${NS}:status.pending` };
    case 'success':
      return { fill: 'green', shape: 'dot', text: `${NS}:status.success` };
    case 'failed':
      return { fill: 'red', shape: 'ring', text: `${NS}:status.failed` };
    case 'busy':
      return { fill: 'yellow', shape: 'ring', text: `${NS}:status.busy` };
    case 'error':
      return { fill: 'red', shape: 'dot', text: `${NS}:status.error` };
    default:
      return { fill: 'blue', shape: 'ring', text: `${NS}:status.sending` };
  }
}
