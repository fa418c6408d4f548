import type { NodeAPI } from 'node-red';
import { payloadObject, registerActionNode } from './common/action-node';

export = function register(RED: NodeAPI): void {
  registerActionNode(RED, {
    type: 'wonder-void',
    action: 'Void',
    receipt: true,
    params: async (_RED, _node, _config, msg) => ({ orgReferenceID: payloadObject(msg).orgReferenceID }),
  });
};
