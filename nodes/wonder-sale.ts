import type { NodeAPI } from 'node-red';
import { amountAndCurrency, payloadObject, registerActionNode } from './common/action-node';

export = function register(RED: NodeAPI): void {
  registerActionNode(RED, {
    type: 'wonder-sale',
    action: 'Sale',
    progress: true,
    receipt: true,
    params: async (RED, node, config, msg) => {
      const p = payloadObject(msg);
      return { ...(await amountAndCurrency(RED, node, config, msg)), customerOrderID: p.customerOrderID, referenceID: p.referenceID };
    },
  });
};
