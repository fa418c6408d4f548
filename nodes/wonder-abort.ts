import type { NodeAPI } from 'node-red';
import { payloadObject, registerActionNode } from './common/action-node';

export = function register(RED: NodeAPI): void {
  registerActionNode(RED, {
    type: 'wonder-abort',
    action: 'Abort',
    // The payment it cancels (msg.payload.referenceID); without one, the payment running now.
    params: async (_RED, _node, _config, msg) => {
      const referenceID = payloadObject(msg).referenceID;
      return referenceID === undefined ? {} : { referenceID };
    },
  });
};
