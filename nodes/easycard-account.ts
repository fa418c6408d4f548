import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { credentialMissing, EasyCardAccountHandle, type EasyCardAccountCredentials, type EasyCardAccountDef } from './common/easycard-account-handle';
import { describeError, EC_NS, ect } from './common/i18n';
import { LEDGER_FILE_NAME } from '../lib/ledger';
import { ledgerOwnerOf } from './common/ledger-owner';
import { onFlowsStarted } from './common/flows-started';

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
    // Its runs live in the runtime's ledger, beside the Wonder payments (shared by the accounts of one MchId).
    const userDir = (RED.settings as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
    const mchId = typeof def.mchId === 'string' ? def.mchId.trim() : '';
    node.easycard = new EasyCardAccountHandle(def, node.credentials, mchId === '' ? undefined : { file: path.join(userDir, 'wonder-ecr', LEDGER_FILE_NAME), owner: ledgerOwnerOf(RED) });
    
    const handle = node.easycard;
    if (credentialMissing(handle.configError, node.credentials)) {
      // Credentials not filled in yet (an imported example): the retry nodes' status asks for them; a line in the log, no error.
      node.log(ect(RED, 'log.noCredentials'));
    } else if (handle.configError !== undefined) {
      // Library messages name the field and never echo a password or a key.
      node.error(ect(RED, 'errors.config', { detail: describeError(RED, handle.configError, EC_NS) }));
    }
    // After each deploy: a run a restart ended whose node is gone is at least logged (the others are sent from their node).
    const onStarted = () => {
      for (const r of handle.takeRecovered((rec) => rec.node === undefined || RED.nodes.getNode(rec.node) === null)) {
        node.warn(ect(RED, 'log.recoveredOrphan', { storeOrderNo: r.storeOrderNo, state: r.result?.reason ?? r.state }));
      }
    };
    const stopOnStarted = onFlowsStarted(RED.events, onStarted);
    node.on('close', (_removed: boolean, done: () => void) => {
      stopOnStarted();
      // The retry nodes let a request already sent finish: its end is still recorded.
      const drained = handle.retry?.drain() ?? Promise.resolve();
      void drained.then(() => handle.close()).then(done, done);
    });
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
