import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { clearJournals, helper, type Msg, userDir } from './helpers/node-red';
import { coreNode } from './helpers/node-red-install';
import { Scan2PayTestServer } from './helpers/scan2pay-server';
import { selfSignedCertificate } from './helpers/tls';
import { Scan2PayClient, type Scan2PayResponse } from '../lib/easycard';
import { SEED_FAILED, SEED_RETRY1_FAILED, SEED_RETRY2_SUCCESS } from './helpers/easycard-fixtures';
import { nextEvent, until } from './helpers/wait';

const IV = '8651731586517315';
const PASSWORD = 'Tr4de-P@ss-Node-5501';
const REFUND_PASSWORD = 'R3fund-Node-Secret-77';
const sha256 = (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
/** Only where time passing with nothing sent is the behaviour under test (the card wait runs on the wall clock); each use says so. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The compiled nodes under test, and the core nodes the tests wire them to. */
const nodesDir = path.join(__dirname, '..', 'nodes');
const accountNode = require(path.join(nodesDir, 'easycard-account.js'));
const retryNode = require(path.join(nodesDir, 'easycard-retry.js'));
const catchNode = coreNode('common/25-catch.js');
const injectNode = coreNode('common/20-inject.js');
const commentNode = coreNode('common/90-comment.js');

// ---- a real translator over the shipped en-US catalogs (the helper's RED._ returns the key) ----

const localesDir = path.join(nodesDir, 'locales');
const catalogs = new Map<string, unknown>();
function catalog(lang: string, ns: string): any {
  const key = `${lang}/${ns}`;
  if (!catalogs.has(key)) catalogs.set(key, JSON.parse(fs.readFileSync(path.join(localesDir, lang, `${ns}.json`), 'utf8')));
  return catalogs.get(key);
}
/** i18next's lookup and `__name__` interpolation, enough for these catalogs. Unknown keys come back unchanged. */
function translate(full: string, params?: Record<string, unknown>): string {
  const m = /^node-red-contrib-wonder-ecr\/([a-z-]+):(.+)$/.exec(full);
  if (m === null) return full;
  let value: any;
  try {
    value = m[2]!.split('.').reduce((o: any, k) => (o === undefined ? undefined : o[k]), catalog('en-US', m[1]!));
  } catch {
    return full;
  }
  if (typeof value !== 'string') return full;
  return value.replace(/__([A-Za-z]+)__/g, (_s, name: string) => (params && name in params ? String(params[name]) : `__${name}__`));
}
const withCatalog = (mod: (red: any) => unknown) => (red: any) => {
  red._ = translate;
  return mod(red);
};
const nodeModules = [withCatalog(accountNode), withCatalog(retryNode), catchNode];

// ---- the seed's example (004, "Payment Retry (EasyCard)") is in helpers/easycard-fixtures ----

/** A failed reply: the seed's retry-1 failure with another Retry / ErrorCode / StatusCode / order. */
function failedReply(retry: string, errorCode = '000125', statusCode = '0000', orderId = 'PO123456', base: Scan2PayResponse = SEED_RETRY1_FAILED): Scan2PayResponse {
  const r = clone(base);
  r.Header.StatusCode = statusCode;
  const data = r.Data as Record<string, any>;
  data.Retry = retry;
  data.ErrorCode = errorCode;
  data.TXNResult = 'Fail';
  data.OrderId = orderId;
  return r;
}
function success(orderId = 'PO123456'): Scan2PayResponse {
  const r = clone(SEED_RETRY2_SUCCESS);
  (r.Data as Record<string, any>).OrderId = orderId;
  return r;
}
function seedFailed(orderId = 'PO123456'): Scan2PayResponse {
  const r = clone(SEED_FAILED);
  (r.Data as Record<string, any>).OrderId = orderId;
  return r;
}
function refundFailed(): Scan2PayResponse {
  const r = failedReply('1', '046203', '0000', 'RF778899', SEED_FAILED);
  r.Header.ServiceType = 'Refund';
  const data = r.Data as Record<string, any>;
  data.request.ServiceType = 'Refund';
  data.ActionType = 'R1';
  return r;
}

// ---- flows ----

const ACCOUNT = 'acct';

function statusesOf(id: string): Array<{ fill?: string; shape?: string; text?: string }> {
  const spy = (helper as any)._NodePrototype.status;
  return spy
    .getCalls()
    .filter((c: any) => c.thisValue?.id === id)
    .map((c: any) => {
      const status = c.args[0];
      if (typeof status?.text !== 'string' || status.text === '') return status;
      // The text is an i18n key the editor translates (here: into en-US, as the editor would).
      assert.match(status.text, /^node-red-contrib-wonder-ecr\/easycard-retry:status\./);
      return { ...status, text: translate(status.text) };
    });
}

/**
 * Warnings a node logs, also while it closes (the helper stops spying on the
 * log before it stops the flows).
 */
function warningsOf(id: string): string[] {
  const node = helper.getNode(id) as unknown as { warn(m: unknown): void };
  const out: string[] = [];
  const original = node.warn.bind(node);
  node.warn = (m: unknown) => {
    out.push(String(m));
    original(m);
  };
  return out;
}

/** Collects what reaches a helper node. */
function collect(id: string): Msg[] {
  const out: Msg[] = [];
  helper.getNode(id).on('input', (m: Msg) => out.push(m));
  return out;
}


async function nextAt(id: string, timeoutMs = 10_000): Promise<Msg> {
  const [m] = await nextEvent<[Msg]>(helper.getNode(id), 'input', { within: timeoutMs, what: `a message at ${id}` });
  return m;
}

describe('EasyCard Node-RED nodes (easycard-account, easycard-retry) against a Scan2Pay server', function () {
  this.timeout(20_000);
  let server: Scan2PayTestServer;

  const account = (extra: Record<string, unknown> = {}) => ({
    id: ACCOUNT,
    type: 'easycard-account',
    name: 'test merchant',
    endpoint: server.url,
    mchId: 'Account0001',
    timeZone: 'Asia/Taipei',
    timeout: '5',
    ...extra,
  });
  const credentials = (extra: Record<string, unknown> = {}) => ({
    [ACCOUNT]: { password: PASSWORD, rsaPublicKey: server.publicKeyPem, aesIv: IV, ...extra },
  });
  const retry = (id = 'r', extra: Record<string, unknown> = {}) => ({
    id,
    type: 'easycard-retry',
    z: 'f1',
    name: '',
    account: ACCOUNT,
    cardWait: '0',
    waitForSignal: false,
    wires: [['done1'], ['done2']],
    ...extra,
  });
  const sinks = [
    { id: 'f1', type: 'tab', label: 'easycard' },
    { id: 'done1', type: 'helper', z: 'f1' },
    { id: 'done2', type: 'helper', z: 'f1' },
    { id: 'catcher', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
  async function load(nodes: unknown[], creds: Record<string, unknown> = credentials()) {
    await helper.load(nodeModules, [...nodes, ...sinks], creds);
    return { out1: collect('done1'), out2: collect('done2'), caught: collect('caught') };
  }

  before(async function () {
    server = await new Scan2PayTestServer({ iv: IV }).start();
    await new Promise<void>((resolve) => helper.startServer(() => resolve()));
  });
  after(async function () {
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    await server.close();
  });
  beforeEach(function () {
    server.reset();
    // Each test starts with empty books (the EasyCard journal lives in the helper's user directory).
    clearJournals();
  });
  afterEach(async function () {
    await helper.unload();
    assert.deepEqual(server.failures, [], 'the Scan2Pay server could not decrypt a request');
  });

  it('registers both types; the account owns one Scan2PayClient, with no secret in its JSON', async function () {
    await load([account(), retry()]);
    const RED = helper._RED as { nodes: { getType(t: string): unknown } };
    assert.equal(typeof RED.nodes.getType('easycard-account'), 'function');
    assert.equal(typeof RED.nodes.getType('easycard-retry'), 'function');
    const handle = (helper.getNode(ACCOUNT) as any).easycard;
    assert.ok(handle.client instanceof Scan2PayClient);
    assert.equal(handle.client.mchId, 'Account0001');
    assert.equal(handle.client.timeZone, 'Asia/Taipei');
    assert.equal(handle.client.timeoutMs, 5000);
    assert.equal(handle.configError, undefined);
    const json = JSON.stringify(handle);
    assert.ok(!json.includes(PASSWORD) && !json.includes(sha256(PASSWORD)), json);
    // A healthy node starts with a cleared status.
    assert.deepEqual(statusesOf('r').at(-1), {});
  });

  it("the seed's sequence: retry 1 fails with Retry 2, retry 2 succeeds → output 1 with attempts 2", async function () {
    const { out1, out2, caught } = await load([account(), retry()]);
    server.script({ response: SEED_RETRY1_FAILED }, { response: SEED_RETRY2_SUCCESS });
    const done = nextAt('done1');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED), keep: 'me' });
    const msg = await done;
    assert.equal(msg.keep, 'me');
    assert.deepEqual(msg.payload, SEED_RETRY2_SUCCESS);
    assert.equal(msg.easycard.ok, true);
    assert.equal(msg.easycard.attempts, 2);
    assert.equal(msg.easycard.storeOrderNo, 'PO123456');
    assert.equal(msg.easycard.reportToEasyCard, false);
    assert.deepEqual(
      msg.easycard.history.map((h: any) => [h.retry, h.txnResult, h.errorCode]),
      [[1, 'Fail', '000125'], [2, 'Success', '000000']],
    );
    assert.equal(out2.length + caught.length, 0);
    assert.equal(out1.length, 1);

    // What Scan2Pay received: two retries of the same transaction, Retry from Data.Retry.
    assert.equal(server.requests.length, 2);
    assert.deepEqual(server.requests.map((r) => r.data.Retry), ['1', '2']);
    for (const r of server.requests) {
      assert.equal(r.header.Method, '31800');
      assert.equal(r.header.ServiceType, 'Payment');
      assert.equal(r.header.TradeKey, sha256(PASSWORD));
      assert.match(String(r.header.CreateTime), /^\d{14}$/);
      assert.equal(r.dataWasString, true);
      assert.deepEqual(
        { DeviceId: r.data.DeviceId, Amount: r.data.Amount, StoreOrderNo: r.data.StoreOrderNo, TerminalTXNNumber: r.data.TerminalTXNNumber, HostSerialNumber: r.data.HostSerialNumber },
        { DeviceId: '01301234', Amount: '1', StoreOrderNo: 'PO123456', TerminalTXNNumber: '152226', HostSerialNumber: '152226' },
      );
      assert.equal(r.data.RefundKey, undefined);
    }

    // The status: place card, retrying, for each retry, then the result; short texts from the en-US catalog.
    const texts = statusesOf('r').map((s) => s.text).filter((t) => t !== undefined);
    const from = texts.indexOf('place card (1/3)');
    assert.ok(from >= 0, JSON.stringify(texts));
    assert.deepEqual(texts.slice(from), ['place card (1/3)', 'retrying (1/3)', 'place card (2/3)', 'retrying (2/3)', 'completed']);
    assert.equal(statusesOf('r').at(-1)?.fill, 'green');
    for (const t of texts) assert.ok(t!.length < 20, `status "${t}" is 20 characters or more`);
  });

  it('accepts the failed response as JSON text, even with \\n and \\u003d in the encrypted reply', async function () {
    await load([account(), retry()]);
    server.script({
      response: SEED_RETRY2_SUCCESS,
      body: (b64) => `{"Response":"${b64.replace(/(.{60})/g, '$1\\n').replace(/=/g, '\\u003d')}"}`,
    });
    const done = nextAt('done1');
    helper.getNode('r').receive({ payload: JSON.stringify(failedReply('2', '046201', '0000', 'PO123456', SEED_FAILED)) });
    const msg = await done;
    assert.equal(msg.easycard.attempts, 1);
    assert.equal(msg.payload.Data.TXNResult, 'Success');
    assert.equal(server.requests[0]!.data.Retry, '2');
  });

  it('three failed retries end on output 2: retries-exhausted, reportToEasyCard, exactly 3 requests, a warning logged', async function () {
    const { out1 } = await load([account(), retry()]);
    // StatusCode 0000 on every reply: the API call ran, the EasyCard transaction failed.
    server.script({ response: failedReply('2') }, { response: failedReply('3') }, { response: failedReply('3') });
    const done = nextAt('done2');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    const msg = await done;
    assert.equal(msg.easycard.ok, false);
    assert.equal(msg.easycard.reason, 'retries-exhausted');
    assert.equal(msg.easycard.reportToEasyCard, true);
    assert.equal(msg.easycard.attempts, 3);
    assert.equal(msg.easycard.storeOrderNo, 'PO123456');
    assert.equal(msg.payload.Data.TXNResult, 'Fail');
    assert.deepEqual(server.requests.map((r) => r.data.Retry), ['1', '2', '3']);
    assert.equal(out1.length, 0);
    assert.equal(statusesOf('r').at(-1)?.text, 'retries exhausted');
    const warnings = helper.log().args.filter((a: any[]) => a[0]?.level === 30).map((a: any[]) => String(a[0].msg));
    assert.ok(warnings.some((w: string) => w.includes('PO123456') && w.includes('report it to EasyCard')), JSON.stringify(warnings));
  });

  it('a code that does not ask for a retry goes straight to output 2, nothing sent', async function () {
    const { out1, caught } = await load([account(), retry()]);
    for (const [retryValue, code] of [['0', '000125'], ['1', '010001'], ['4', '000125']] as const) {
      const done = nextAt('done2');
      helper.getNode('r').receive({ payload: failedReply(retryValue, code, '0000', 'PO123456', SEED_FAILED) });
      const msg = await done;
      assert.equal(msg.easycard.reason, 'not-retryable');
      assert.equal(msg.easycard.attempts, 0);
      assert.equal(msg.easycard.reportToEasyCard, false);
      assert.equal(msg.easycard.errorCode, code);
    }
    assert.equal(server.hits, 0);
    assert.equal(out1.length + caught.length, 0);
    assert.equal(statusesOf('r').at(-1)?.text, 'not retryable');
  });

  it('010128 on a retry (not the original card) stops at once: card-mismatch, reported', async function () {
    await load([account(), retry()]);
    server.script({ response: failedReply('2', '010128') });
    const done = nextAt('done2');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    const msg = await done;
    assert.equal(msg.easycard.reason, 'card-mismatch');
    assert.equal(msg.easycard.errorCode, '010128');
    assert.equal(msg.easycard.attempts, 1);
    assert.equal(msg.easycard.reportToEasyCard, true);
    assert.equal(server.requests.length, 1);
  });

  it('msg.easycard (codes, message, history) is redacted like the payload: a TradeKey or password echoed in the codes never reaches the flow', async function () {
    await load([account(), retry()]);
    const echo = failedReply('2', sha256(PASSWORD).toUpperCase());
    (echo.Data as Record<string, any>).StatusCode = PASSWORD;
    server.script({ response: echo });
    const done = nextAt('done2');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    const msg = await done;
    assert.equal(msg.easycard.attempts, 1);
    assert.equal(msg.easycard.errorCode, '[redacted]');
    const text = JSON.stringify({ payload: msg.payload, easycard: msg.easycard });
    for (const secret of [PASSWORD, sha256(PASSWORD), sha256(PASSWORD).toUpperCase()]) assert.ok(!text.includes(secret), text);
  });

  it('a retry whose reply never comes: unknown-outcome on output 2, not resent', async function () {
    await load([account(), retry()]);
    server.script({ destroySocket: true });
    const done = nextAt('done2');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    const msg = await done;
    assert.equal(msg.easycard.reason, 'unknown-outcome');
    assert.equal(msg.easycard.reportToEasyCard, true);
    assert.equal(msg.easycard.attempts, 1);
    assert.equal(msg.easycard.error.code, 'E_EASYCARD_NETWORK');
    assert.equal(server.hits, 1);
  });

  it('a card-back message releases the wait (timer mode: long card wait ended early)', async function () {
    await load([account(), retry('r', { cardWait: '60' })]);
    server.script({ response: SEED_RETRY2_SUCCESS });
    const done = nextAt('done1');
    const started = Date.now();
    helper.getNode('r').receive({ payload: failedReply('2', '000125', '0000', 'PO123456', SEED_FAILED) });
    await until('the place-card status', () => statusesOf('r').some((s) => s.text === 'place card (2/3)'));
    await sleep(100); // under test: nothing is sent in this time (no event marks "not sent"); it stays
    assert.equal(server.hits, 0, 'sent before the card was back');
    // A card-back naming another transaction does not release this one.
    helper.getNode('r').receive({ topic: 'card-back', payload: 'PO999999' });
    await sleep(100); // under test, as above: the other card-back releases nothing in this time
    assert.equal(server.hits, 0);
    helper.getNode('r').receive({ topic: 'card-back', payload: 'PO123456' });
    const msg = await done;
    assert.ok(Date.now() - started < 5000, 'the card wait was not ended by the card-back message');
    assert.equal(msg.easycard.attempts, 1);
    assert.equal(server.requests.length, 1);
  });

  it('waitForSignal: waits for card-back before each retry; without it nothing is sent and it ends as aborted', async function () {
    await load([account(), retry('r', { waitForSignal: true, cardWait: '0' }), retry('r2', { waitForSignal: true, cardWait: '0.2', wires: [['done1'], ['done2']] })]);
    server.script({ response: SEED_RETRY1_FAILED }, { response: SEED_RETRY2_SUCCESS });
    const done = nextAt('done1');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    for (const n of [1, 2]) {
      await until(`place card (${n}/3)`, () => statusesOf('r').some((s) => s.text === `place card (${n}/3)`));
      await sleep(150); // under test: no retry leaves without card-back in this time; it stays
      assert.equal(server.hits, n - 1, `retry ${n} was sent without the card-back message`);
      helper.getNode('r').receive({ topic: 'card-back', payload: 1700000000000 });
    }
    const msg = await done;
    assert.equal(msg.easycard.attempts, 2);
    assert.equal(server.requests.length, 2);

    // No card-back within 0.2 s: cancelled, resumable, nothing sent.
    server.reset();
    const cancelled = nextAt('done2');
    helper.getNode('r2').receive({ payload: seedFailed('PO555') });
    const c = await cancelled;
    assert.equal(c.easycard.reason, 'aborted');
    assert.equal(c.easycard.resumable, true);
    assert.equal(c.easycard.attempts, 0);
    assert.equal(c.easycard.reportToEasyCard, false);
    assert.deepEqual(c.payload, seedFailed('PO555'));
    assert.equal(server.hits, 0);
  });

  it('a second failed response for a StoreOrderNo being retried is refused as busy (also from another node on the account)', async function () {
    const { out1 } = await load([account(), retry('r', { waitForSignal: true }), retry('other', { waitForSignal: true })]);
    server.script({ response: SEED_RETRY2_SUCCESS });
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    await until('the first wait', () => statusesOf('r').some((s) => s.text === 'place card (1/3)'));
    for (const id of ['r', 'other']) {
      const caught = nextAt('caught');
      helper.getNode(id).receive({ payload: clone(SEED_FAILED) });
      const err = await caught;
      assert.equal(err.error.source.id, id);
      assert.equal(err.easycard.code, 'E_BUSY');
      assert.match(err.error.message, /PO123456/);
      assert.equal(statusesOf(id).at(-1)?.text, 'busy');
    }
    helper.getNode('r').receive({ topic: 'card-back' });
    await until('the completed retry', () => out1.length === 1);
    assert.equal(server.requests.length, 1);
    // Done: the same failed response delivered again gets the recorded result; nothing is sent again.
    helper.getNode('other').receive({ payload: clone(SEED_FAILED) });
    await until('the recorded result', () => out1.length === 2);
    assert.equal(out1[1]!.easycard.duplicate, true);
    assert.equal(server.requests.length, 1);
  });

  it('two account nodes with one MchId share its runs (one ledger): one completed through either is answered from its record by the other, never retried; one under way is busy for both', async function () {
    const second = { ...account(), id: 'acc2', name: 'same merchant, second node' };
    const { out1 } = await load([account(), second, retry('r', { waitForSignal: true }), retry('r2', { account: 'acc2', waitForSignal: true })], { ...credentials(), acc2: credentials()[ACCOUNT] });
    const [a, b] = [ACCOUNT, 'acc2'].map((id) => (helper.getNode(id) as any).easycard);
    assert.notEqual(a, b, 'two account handles');
    server.script({ response: SEED_RETRY2_SUCCESS });
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    await until('the first wait', () => statusesOf('r').some((s) => s.text === 'place card (1/3)'));
    // Under way through the first account: the second refuses the same order as busy, nothing sent.
    const caught = nextAt('caught');
    helper.getNode('r2').receive({ payload: clone(SEED_FAILED) });
    const err = await caught;
    assert.equal(err.error.source.id, 'r2');
    assert.equal(err.easycard.code, 'E_BUSY');
    assert.equal(server.requests.length, 0);
    helper.getNode('r').receive({ topic: 'card-back' });
    await until('the completed retry', () => out1.length === 1);
    assert.equal(server.requests.length, 1);
    // Completed: the same failed response redelivered to the second account gets the recorded result; nothing is sent again.
    helper.getNode('r2').receive({ payload: clone(SEED_FAILED) });
    await until('the recorded result', () => out1.length === 2);
    assert.equal(out1[1]!.easycard.duplicate, true);
    assert.equal(out1[1]!.easycard.ok, true);
    assert.equal(server.requests.length, 1);
    // One record in the ledger for the merchant's order.
    const db = new DatabaseSync(path.join(userDir, 'wonder-ecr', 'ledger.db'), { readOnly: true });
    const rows = db.prepare("SELECT mch_id, store_order_no, state FROM easycard_runs WHERE store_order_no = 'PO123456'").all();
    db.close();
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ mch_id: 'Account0001', store_order_no: 'PO123456', state: 'completed' }]);
  });

  it('input errors reach a Catch node naming the field, with nothing sent and nothing on the outputs', async function () {
    const { out1, out2, caught } = await load([account(), retry(), retry('noacct', { account: '' })]);
    const missingTxn = clone(SEED_FAILED);
    delete (missingTxn.Data as any).request.TerminalTXNNumber;
    const cases: Array<[string, unknown, string]> = [
      ['r', undefined, 'payload'],
      ['r', 42, 'payload'],
      ['r', 'not json {', 'payload'],
      ['r', {}, 'payload'],
      ['r', { Response: 'QUJD' }, 'payload'],
      ['r', { Header: { Method: '11000', ServiceType: 'Payment' }, Data: {} }, 'payload'],
      ['r', { Header: SEED_FAILED.Header }, 'payload'],
      ['r', missingTxn, 'Data.request.TerminalTXNNumber'],
      ['r', refundFailed(), 'refundKey'],
      ['noacct', clone(SEED_FAILED), 'account'],
    ];
    for (const [id, payload, field] of cases) {
      const next = nextAt('caught');
      helper.getNode(id).receive({ payload });
      const msg = await next;
      assert.equal(msg.error.source.id, id);
      assert.ok(msg.error.message.includes(field), `${JSON.stringify(payload)?.slice(0, 60)}: ${msg.error.message}`);
      assert.equal(msg.easycard.code, 'E_VALIDATION');
      assert.equal(msg.easycard.field, field);
    }
    assert.equal(caught.length, cases.length);
    assert.equal(out1.length + out2.length, 0);
    assert.equal(server.hits, 0);
    assert.equal(statusesOf('noacct')[0]?.text, 'no account');
    assert.equal(statusesOf('r').at(-1)?.fill, 'red');
  });

  it('a bad account config shows in the status of the nodes using it and fails their inputs naming the field', async function () {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>, string]> = [
      [{}, { aesIv: '865173158651731' }, 'aesIv'],
      [{}, { password: '' }, 'password'],
      [{}, { rsaPublicKey: 'not a key' }, 'rsaPublicKey'],
      [{ mchId: '' }, {}, 'mchId'],
      [{ endpoint: 'http://scan2pay.example.com/api' }, {}, 'endpoint'],
      [{ timeZone: 'Mars/Olympus' }, {}, 'timeZone'],
      [{ caFile: '/nonexistent/wonder-ecr/ca.pem' }, {}, 'caFile'],
    ];
    for (const [props, creds, field] of cases) {
      await load([account(props), retry()], credentials(creds));
      // A credential left empty (as in an imported flow) says so; a wrong one is a config error.
      const missing = creds.password === '';
      const expected = missing ? { fill: 'red', shape: 'ring', text: 'enter credentials' } : { fill: 'red', shape: 'dot', text: 'config error' };
      assert.deepEqual(statusesOf('r').at(-1), expected, field);
      const caught = nextAt('caught');
      helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
      const msg = await caught;
      assert.ok(msg.error.message.includes(field), msg.error.message);
      assert.equal(msg.easycard.field, field);
      const log = JSON.stringify(helper.log().args);
      // At deploy: a bad credential is a red error naming the field; an empty one only a line asking for it (the status asks too).
      const deployErrors = (helper.log().args as Array<Array<{ level?: number; id?: string; msg?: unknown }>>).filter(([e]) => e?.id === ACCOUNT && e.level === 20);
      if (missing) {
        assert.deepEqual(deployErrors, [], 'an empty credential logged an error at deploy');
        assert.ok(log.includes('enter its credentials'), log.slice(0, 500));
      } else {
        assert.ok(log.includes('EasyCard account configuration is invalid') && log.includes(field), log.slice(0, 500));
      }
      await helper.unload();
    }
    assert.equal(server.hits, 0);
    // A bad card wait on the retry node itself.
    await load([account(), retry('r', { cardWait: '-1' })]);
    assert.equal(statusesOf('r').at(-1)?.text, 'config error');
    const caught = nextAt('caught');
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    assert.ok((await caught).error.message.includes('cardWait'));
  });

  it('caFile: an HTTPS endpoint under a private CA is trusted with it; without it nothing is sent', async function () {
    const cert = selfSignedCertificate();
    const secure = await new Scan2PayTestServer({ iv: IV, tls: cert }).start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-ca-'));
    try {
      const caFile = path.join(dir, 'ca.pem');
      fs.writeFileSync(caFile, cert.cert);
      const creds = { [ACCOUNT]: { password: PASSWORD, rsaPublicKey: secure.publicKeyPem, aesIv: IV } };
      // Without the CA: the certificate is refused before any request leaves; the outcome is not guessed.
      await load([account({ endpoint: secure.url }), retry()], creds);
      const refused = nextAt('done2');
      helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
      const failed = await refused;
      assert.equal(failed.easycard.ok, false);
      assert.equal(failed.easycard.reason, 'not-sent');
      assert.equal(failed.easycard.error.code, 'E_EASYCARD_NETWORK');
      assert.match(failed.easycard.error.message, /SELF_SIGNED/);
      assert.equal(secure.requests.length, 0);
      await helper.unload();
      clearJournals();

      await load([account({ endpoint: secure.url, caFile }), retry()], creds);
      secure.script({ response: SEED_RETRY2_SUCCESS });
      const done = nextAt('done1');
      helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
      const msg = await done;
      assert.deepEqual(msg.payload, SEED_RETRY2_SUCCESS);
      assert.equal(secure.requests.length, 1);
      assert.deepEqual(secure.failures, []);
    } finally {
      await secure.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the stage and production keywords resolve to intella\'s URLs', async function () {
    await load([account({ endpoint: 'production' }), retry()]);
    assert.equal((helper.getNode(ACCOUNT) as any).easycard.client.endpoint, 'https://a.intella.co/allpaypass/api/general');
    await helper.unload();
    await load([account({ endpoint: 'stage' }), retry()]);
    assert.equal((helper.getNode(ACCOUNT) as any).easycard.client.endpoint, 'https://s.intella.co/allpaypass/api/general');
  });

  it('the trade password and refund key (and their SHA-256) are in no message, log line, status or error', async function () {
    const secrets = [PASSWORD, REFUND_PASSWORD, sha256(PASSWORD), sha256(REFUND_PASSWORD)];
    const seen: unknown[] = [];
    // A Refund retry, where Scan2Pay echoes its request (RefundKey and TradeKey included) in the reply.
    const { out1, out2, caught } = await load([account(), retry()], credentials({ refundKey: REFUND_PASSWORD }));
    server.script((req) => {
      const reply = failedReply('2', '046203', '0000', 'RF778899', refundFailed());
      (reply.Data as any).request = { ...(reply.Data as any).request, RefundKey: req.data.RefundKey, TradeKey: req.header.TradeKey };
      return { response: reply };
    }, (req) => {
      const ok = success('RF778899');
      ok.Header.ServiceType = 'Refund';
      (ok.Data as any).request = JSON.stringify({ ...(ok.Data as any).request, RefundKey: req.data.RefundKey });
      return { response: ok };
    });
    helper.getNode('r').receive({ payload: refundFailed() });
    await until('the refund retry', () => out1.length === 1);
    assert.equal(server.requests[0]!.data.RefundKey, sha256(REFUND_PASSWORD));
    assert.equal(server.requests[0]!.data.ActionType, 'R1');
    assert.equal(server.requests[0]!.header.TradeKey, sha256(PASSWORD));
    assert.equal(JSON.parse(out1[0]!.payload.Data.request).RefundKey, '[redacted]');
    // Errors too: a validation error, a busy error and a config error.
    helper.getNode('r').receive({ payload: 'nonsense' });
    await until('the validation error', () => caught.length === 1);
    seen.push(out1, out2, caught, statusesOf('r'), helper.log().args);
    await helper.unload();
    const bad = await load([account(), retry()], credentials({ aesIv: 'short', refundKey: REFUND_PASSWORD }));
    helper.getNode('r').receive({ payload: refundFailed() });
    await until('the config error', () => bad.caught.length === 1);
    seen.push(bad.caught, statusesOf('r'), helper.log().args, (helper.getNode(ACCOUNT) as any).easycard);
    const everything = JSON.stringify(seen);
    assert.ok(everything.includes('RF778899'), 'the collected data is not what the test thinks');
    for (const s of secrets) assert.ok(!everything.includes(s), `a secret leaked: ${s.slice(0, 6)}…`);
  });

  it('on close, waits end at once with nothing sent, no message, a warning, and no timer left', async function () {
    const { out1, out2 } = await load([account(), retry('r', { cardWait: '3600' }), retry('s', { waitForSignal: true, cardWait: '3600' })]);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    helper.getNode('r').receive({ payload: seedFailed('PO-A') });
    helper.getNode('s').receive({ payload: seedFailed('PO-B') });
    await until('both waits', () => statusesOf('r').some((s) => s.text === 'place card (1/3)') && statusesOf('s').some((s) => s.text === 'place card (1/3)'));
    assert.equal(timers(), before + 2, 'each wait holds one timer');
    const warnR = warningsOf('r');
    const warnS = warningsOf('s');
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started < 2000, 'close waited for the card');
    await until("the card waits' timers gone", () => timers() <= before, { within: 2_000, detail: () => `timers left: ${timers()} > ${before}` });
    assert.equal(server.hits, 0);
    assert.equal(out1.length + out2.length, 0);
    assert.ok(warnR.some((w) => w.includes('PO-A') && w.includes('cancelled')), JSON.stringify(warnR));
    assert.ok(warnS.some((w) => w.includes('PO-B') && w.includes('cancelled')), JSON.stringify(warnS));
  });

  it('on close, a retry already sent is let finish', async function () {
    await load([account(), retry()]);
    const warnings = warningsOf('r');
    server.script({ response: SEED_RETRY2_SUCCESS, delayMs: 300 });
    helper.getNode('r').receive({ payload: clone(SEED_FAILED) });
    await until('the request', () => server.hits === 1);
    const started = Date.now();
    await helper.unload();
    assert.ok(Date.now() - started >= 200, 'close did not wait for the reply');
    assert.equal(server.hits, 1);
    // Whatever happens to the message in a stopping flow, the outcome is on record.
    assert.ok(warnings.some((w) => w.includes('PO123456') && w.includes('completed')), JSON.stringify(warnings));
  });

  it('the example flow runs: inject → easycard-retry → debug, with the credentials filled in', async function () {
    const root = [path.join(__dirname, '..', '..'), process.cwd()].find((d) => fs.existsSync(path.join(d, 'examples', 'easycard-retry.json')));
    assert.ok(root, 'examples/easycard-retry.json not found');
    const text = fs.readFileSync(path.join(root, 'examples', 'easycard-retry.json'), 'utf8');
    const flow = JSON.parse(text) as Array<Record<string, any>>;
    assert.ok(flow.every((n) => n.credentials === undefined), 'the example carries credentials');
    assert.ok(!/BEGIN PUBLIC KEY|8651731586517315/.test(text), 'the example carries a key or an IV');
    const acct = flow.find((n) => n.type === 'easycard-account')!;
    for (const k of ['password', 'refundKey', 'rsaPublicKey', 'aesIv']) assert.equal(acct[k], undefined, k);
    assert.equal(acct.endpoint, 'https://s.intella.co/allpaypass/api/general');
    const tab = flow.find((n) => n.type === 'tab')!;
    assert.match(tab.info, /credentials/i);
    const retryId = flow.find((n) => n.type === 'easycard-retry')!.id as string;
    assert.equal(flow.find((n) => n.type === 'easycard-retry')!.wires.length, 2);
    const injects = flow.filter((n) => n.type === 'inject');
    const failedInject = injects.find((n) => n.topic !== 'card-back')!;
    assert.deepEqual(JSON.parse(failedInject.payload), SEED_FAILED);
    // Debug nodes become helpers so the test can see what reaches them.
    const debugIds = flow.filter((n) => n.type === 'debug').map((n) => n.id as string);
    assert.equal(debugIds.length, 2);
    const runnable = flow.map((n) => (n.type === 'debug' ? { id: n.id, type: 'helper', z: n.z } : n.type === 'easycard-account' ? { ...n, endpoint: server.url } : n));
    await helper.load([...nodeModules, injectNode, commentNode], runnable, {
      [acct.id]: { password: PASSWORD, rsaPublicKey: server.publicKeyPem, aesIv: IV },
    });
    const retryNodeDef = flow.find((n) => n.type === 'easycard-retry')!;
    const completedDebug = retryNodeDef.wires[0][0] as string;
    server.script({ response: SEED_RETRY1_FAILED }, { response: SEED_RETRY2_SUCCESS });
    const done = nextAt(completedDebug, 15_000);
    helper.getNode(failedInject.id).receive({});
    // The example waits for the card: press the card-back inject for each retry.
    const cardBack = injects.find((n) => n.topic === 'card-back')!;
    for (const n of [1, 2]) {
      await until(`place card (${n}/3)`, () => statusesOf(retryId).some((s) => s.text === `place card (${n}/3)`));
      helper.getNode(cardBack.id).receive({});
    }
    const msg = await done;
    assert.equal(msg.easycard.attempts, 2);
    assert.equal(msg.payload.Data.TXNResult, 'Success');
  });

  it('the locales: zh-TW and zh-CN have the same keys as en-US, and help for both nodes', function () {
    const keys = (o: any, prefix = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`])).sort();
    for (const ns of ['easycard-account', 'easycard-retry']) {
      const en = keys(catalog('en-US', ns));
      assert.ok(en.length > 10);
      for (const lang of ['zh-TW', 'zh-CN']) {
        assert.deepEqual(keys(catalog(lang, ns)), en, `${lang}/${ns}.json`);
        const all = JSON.stringify(catalog(lang, ns));
        for (const placeholder of ['__retry__', '__max__', '__storeOrderNo__', '__detail__']) {
          if (JSON.stringify(catalog('en-US', ns)).includes(placeholder)) assert.ok(all.includes(placeholder), `${lang}/${ns}: ${placeholder}`);
        }
      }
      for (const lang of ['en-US', 'zh-TW', 'zh-CN']) {
        const html = fs.readFileSync(path.join(localesDir, lang, `${ns}.html`), 'utf8');
        assert.match(html, new RegExp(`data-help-name="${ns}"`));
        assert.match(html, /^\s*<script[^>]*>\s*<p>[^<]+/);
      }
    }
    assert.match(JSON.stringify(catalog('zh-TW', 'easycard-retry')), /悠遊卡/);
    assert.match(JSON.stringify(catalog('zh-CN', 'easycard-retry')), /悠游卡/);
    assert.match(JSON.stringify(catalog('zh-TW', 'easycard-retry')), /重試/);
    assert.match(JSON.stringify(catalog('zh-CN', 'easycard-retry')), /重试/);
    for (const lang of ['en-US', 'zh-TW', 'zh-CN']) {
      const texts = (o: unknown): string[] => (typeof o === 'string' ? [o] : Object.values(o as Record<string, unknown>).flatMap(texts));
      for (const text of texts(catalog(lang, 'easycard-retry').status)) assert.ok(text.length < 20 && !/__/.test(text), `${lang} status "${text}"`);
    }
  });
});
