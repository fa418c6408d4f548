import { strict as assert } from 'node:assert';
import { ledgerBytes } from './helpers/ledger-files';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Scan2PayResponse } from '../lib/easycard';
import { SEED_FAILED, SEED_RETRY1_FAILED, SEED_RETRY2_SUCCESS } from './helpers/easycard-fixtures';
import { httpSink } from './helpers/http-sink';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { Scan2PayTestServer, type ScriptedReply } from './helpers/scan2pay-server';
import { until } from './helpers/wait';

const IV = '8651731586517315';
const PASSWORD = 'Tr4de-P@ss-Restart-9031';
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function withOrder(base: Scan2PayResponse, orderId: string, retry?: string): Scan2PayResponse {
  const r = clone(base);
  (r.Data as Record<string, unknown>).OrderId = orderId;
  if (retry !== undefined) (r.Data as Record<string, unknown>).Retry = retry;
  return r;
}


describe('EasyCard retries survive a restart (real Node-RED process killed mid-run, Scan2Pay on loopback)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess | undefined;
  const server = new Scan2PayTestServer({ iv: IV });
  before(() => server.start());
  after(async () => {
    await red?.stop('SIGKILL');
    await server.close();
  });

  it('after SIGKILL: a completed payment is answered from the journal, one killed mid-request is reported and never resent, one killed during the card wait resumes from its recorded Retry', async () => {
    // Scan2Pay: B completes on retry 1; A's retry 1 is never answered (Node-RED dies first);
    // C fails retry 1 (asks for retry 2), then completes on retry 2.
    const script = (req: { data: Record<string, unknown> }): ScriptedReply => {
      const order = String(req.data.StoreOrderNo);
      const retry = String(req.data.Retry);
      if (order === 'PO-B') return { response: withOrder(SEED_RETRY2_SUCCESS, 'PO-B') };
      if (order === 'PO-A') return { response: withOrder(SEED_RETRY2_SUCCESS, 'PO-A'), delayMs: 60_000 };
      if (order === 'PO-C' && retry === '1') return { response: withOrder(SEED_RETRY1_FAILED, 'PO-C', '2') };
      return { response: withOrder(SEED_RETRY2_SUCCESS, 'PO-C') };
    };
    for (let i = 0; i < 10; i++) server.script(script);
    const sent = (order: string) => server.requests.filter((r) => r.data.StoreOrderNo === order).map((r) => r.data.Retry);

    const sink = await httpSink();
    const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-easycard-restart-'));
    const wrap = (id: string, expr: string) => ({ id, type: 'change', z: 'tab1', rules: [{ t: 'set', p: 'payload', pt: 'msg', to: expr, tot: 'jsonata' }], wires: [['post']] });
    const failed = (order: string) => ({ id: `fail-${order}`, type: 'inject', z: 'tab1', props: [{ p: 'payload' }], payload: JSON.stringify(withOrder(SEED_FAILED, order)), payloadType: 'json', wires: [['retry']] });
    const cardBack = (order: string) => ({ id: `back-${order}`, type: 'inject', z: 'tab1', props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], topic: 'card-back', payload: order, payloadType: 'str', wires: [['retry']] });
    const flows = [
      { id: 'tab1', type: 'tab', label: 'kiosk' },
      { id: 'acct', type: 'easycard-account', name: 'merchant', endpoint: server.url, mchId: 'Account0001', timeout: '5' },
      ...['PO-A', 'PO-B', 'PO-C'].flatMap((o) => [failed(o), cardBack(o)]),
      { id: 'retry', type: 'easycard-retry', z: 'tab1', account: 'acct', waitForSignal: true, cardWait: '0', wires: [['out1'], ['out2']] },
      wrap('out1', '{"kind": "completed", "payload": payload, "easycard": easycard}'),
      wrap('out2', '{"kind": "failed", "payload": payload, "easycard": easycard}'),
      { id: 'statuses', type: 'status', z: 'tab1', scope: ['retry'], wires: [['wrapStatus']] },
      wrap('wrapStatus', '{"kind": "status", "text": status.text}'),
      { id: 'post', type: 'http request', z: 'tab1', method: 'POST', ret: 'txt', url: sink.url, wires: [[]] },
    ];
    red = await startNodeRed({ flows: [], userDir });
    const credentials = { password: PASSWORD, rsaPublicKey: server.publicKeyPem, aesIv: IV };
    const withCreds = flows.map((n) => (n.id === 'acct' ? { ...n, credentials } : n));
    const deploy = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(withCreds) });
    assert.equal(deploy.status, 204);
    await until('the deployed flows to start', () => (red!.output().match(/Started flows/g) ?? []).length >= 2, 20_000);
    const fire = async (id: string) => assert.equal((await fetch(`${red!.url}/inject/${id}`, { method: 'POST' })).status, 200, red!.output());
    // Status texts are i18n keys (the editor translates them): "place card (n/3)" is status.placeCard.n.
    const key = (text: string) => {
      const m = /^place card \((\d)\/3\)$/.exec(text);
      return m === null ? text : `node-red-contrib-wonder-ecr/easycard-retry:status.placeCard.${m[1]}`;
    };
    const statuses = (text: string) => sink.bodies.filter((b) => b.kind === 'status' && (b.text === text || b.text === key(text))).length;

    // B: completed before the power cut.
    await fire('fail-PO-B');
    await until('B waits for the card', () => statuses('place card (1/3)') === 1, 20_000);
    await fire('back-PO-B');
    const completedB = await sink.next((b) => b.kind === 'completed' && b.easycard.storeOrderNo === 'PO-B', 'B completed');
    assert.equal(completedB.easycard.attempts, 1);
    // C: retry 1 fails and asks for retry 2; Node-RED dies while the cardholder is asked again.
    await fire('fail-PO-C');
    await until('C waits for the card', () => statuses('place card (1/3)') === 2, 20_000);
    await fire('back-PO-C');
    await until('C waits for the card again', () => statuses('place card (2/3)') === 1, 20_000);
    // A: its retry 1 is on its way when Node-RED dies.
    await fire('fail-PO-A');
    await until('A waits for the card', () => statuses('place card (1/3)') === 3, 20_000);
    await fire('back-PO-A');
    await until('A retry 1 at Scan2Pay', () => sent('PO-A').length === 1, 20_000);
    await red.stop('SIGKILL');

    const journalFile = path.join(userDir, 'wonder-ecr', 'ledger.db');
    assert.equal(fs.statSync(journalFile).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(journalFile)).mode & 0o777, 0o700);
    const journal = ledgerBytes(journalFile);
    assert.ok(journal.includes('PO-A'), 'the runs are in the ledger');
    // No card data (card number, balance, the reader's AES keys), no secrets (TradeKey, password).
    for (const leak of ['949104293', 'Balance', 'AESKey', 'ae83eef', 'TradeKey', PASSWORD]) assert.ok(!journal.includes(leak), `${leak} in the journal`);

    // Node-RED comes back: the runs the kill ended are reported from their node.
    red = await startNodeRed({ flows: JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')), userDir });
    const reportedA = await sink.next((b) => b.kind === 'failed' && b.easycard.storeOrderNo === 'PO-A', 'A reported');
    assert.equal(reportedA.easycard.recovered, true);
    assert.equal(reportedA.easycard.reason, 'unknown-outcome');
    assert.equal(reportedA.easycard.reportToEasyCard, true);
    const reportedC = await sink.next((b) => b.kind === 'failed' && b.easycard.storeOrderNo === 'PO-C', 'C reported');
    assert.equal(reportedC.easycard.recovered, true);
    assert.equal(reportedC.easycard.resumable, true);

    // The failed responses are delivered again.
    await fire('fail-PO-B');
    const againB = await sink.next((b) => b.kind === 'completed' && b.easycard.storeOrderNo === 'PO-B' && b.easycard.duplicate === true, 'B from the journal');
    assert.equal(againB.easycard.attempts, 1);
    await fire('fail-PO-A');
    const againA = await sink.next((b) => b.kind === 'failed' && b.easycard.storeOrderNo === 'PO-A' && b.easycard.duplicate === true, 'A from the journal');
    assert.equal(againA.easycard.reason, 'unknown-outcome');
    await fire('fail-PO-C');
    // C resumes at retry 2 (not the stale retry 1 of the failed response given).
    await until('C resumed, waiting for the card', () => statuses('place card (2/3)') === 2, 20_000);
    await fire('back-PO-C');
    const completedC = await sink.next((b) => b.kind === 'completed' && b.easycard.storeOrderNo === 'PO-C', 'C completed');
    assert.equal(completedC.easycard.resumed, true);
    assert.equal(completedC.easycard.attempts, 2);

    // One completion each, nothing run twice.
    assert.deepEqual(sent('PO-B'), ['1']);
    assert.deepEqual(sent('PO-A'), ['1']);
    assert.deepEqual(sent('PO-C'), ['1', '2']);
    assert.equal(sink.bodies.filter((b) => b.kind === 'completed' && b.easycard.duplicate !== true).length, 2);
    assert.deepEqual(server.failures, []);
    await sink.close();
  });
});
