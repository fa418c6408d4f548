import type { Node, NodeAPI, NodeDef } from 'node-red';
import { EasyCardAccountHandle, type EasyCardAccountCredentials, type EasyCardAccountDef } from './common/easycard-account-handle';
import { describeEasyCardError, ect } from './common/easycard-i18n';

interface AccountDef extends NodeDef, EasyCardAccountDef {}

/** What an easycard-account config node exposes to the easycard-retry nodes (as `easycard`). */
interface EasyCardAccountNode extends Node<EasyCardAccountCredentials> {
  easycard: EasyCardAccountHandle;
}

export = function register(RED: NodeAPI): void {
  function EasyCardAccountNode(this: EasyCardAccountNode, def: AccountDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    // The handle keeps only the SHA-256 of the passwords; node.credentials is Node-RED's own store.
    node.easycard = new EasyCardAccountHandle(def, node.credentials);
    if (node.easycard.configError !== undefined) {
      // Library messages name the field and never echo a password or a key.
      node.error(ect(RED, 'errors.config', { detail: describeEasyCardError(RED, node.easycard.configError) }));
    }
  }

  RED.nodes.registerType('easycard-account', EasyCardAccountNode as never, {
    credentials: {
      password: { type: 'password' },
      refundKey: { type: 'password' },
      rsaPublicKey: { type: 'text' },
      aesIv: { type: 'text' },
    },
  });
};
