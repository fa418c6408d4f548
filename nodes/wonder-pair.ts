import type { NodeAPI } from 'node-red';
import { registerActionNode } from './common/action-node';

export = function register(RED: NodeAPI): void {
  registerActionNode(RED, {
    type: 'wonder-pair',
    action: 'Pair',
  });
};
