import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { serveLan, SIMULATOR_AMOUNTS, SimulatedTerminal, type LanServer } from '../lib/simulator';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { accessToken, adminAuthSettings, type UserName } from './helpers/admin-auth';
import { until } from './helpers/wait';

const root = path.resolve(__dirname, '..', '..');
const TERMINAL = 'wonder_example_terminal';

/** The HTTP checkout example, its terminal asking about an unknown outcome for 1 s only (then E_PENDING, left open). */
function checkoutFlows(): unknown[] {
  const flows = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as Array<Record<string, unknown>>;
  return flows.map((n) => (n.id === TERMINAL ? { ...n, resolveTimeout: 1, pollInterval: 0.2 } : n));
}

/** Each look is a request to Node-RED (a check asks the terminal): ten a second at most. */
const LOOK = { within: 20_000, every: 100 };

describe('admin API of the Wonder sidebar (real Node-RED, adminAuth)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let dir: string;
  const password = crypto.randomBytes(12).toString('hex');
  const tokens = new Map<UserName, string>();

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-admin-api-'));
    red = await startNodeRed({ flows: checkoutFlows(), settings: adminAuthSettings(dir, password) });
    for (const user of ['admin', 'reader', 'operator'] as const) tokens.set(user, await accessToken(red.url, user, password));
  });

  after(async () => {
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function call(user: UserName | undefined, method: string, route: string, body?: unknown, contentType = 'application/json') {
    const headers: Record<string, string> = {};
    if (user !== undefined) headers.authorization = `Bearer ${tokens.get(user)}`;
    if (body !== undefined) headers['content-type'] = contentType;
    const res = await fetch(`${red.url}${route}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  }

  const checkout = async (amount: string) => {
    const res = await fetch(`${red.url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount, currency: 'HKD' }) });
    return (await res.json()) as { result: string; referenceID: string; code?: string };
  };

  it('needs a login to read and the write permission to act: a read-only user gets 403 on check', async () => {
    assert.equal((await call(undefined, 'GET', '/wonder-ecr/terminals')).status, 401);
    const asReader = await call('reader', 'GET', '/wonder-ecr/terminals');
    assert.equal(asReader.status, 200);
    const t = asReader.json.terminals.find((x: { id: string }) => x.id === TERMINAL);
    assert.equal(t.name, 'Simulated terminal');
    assert.equal(t.transport, 'simulator');
    assert.deepEqual(Object.keys(t.counters).sort(), ['crcErrors', 'framesReceived', 'noiseBytes', 'timeouts', 'undecryptable']);
    assert.equal(typeof t.openPayments, 'number');
    assert.ok('diagnosis' in t && 'device' in t && 'lastExchangeAt' in t && 'state' in t);
    const refused = await call('reader', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, {});
    assert.equal(refused.status, 403);
    assert.equal(refused.json.code, 'E_PERMISSION');
    // A fleet tool's account with only the Wonder permissions: it may check, but not read the flows.
    assert.equal((await call('operator', 'GET', '/flows')).status, 401);
    assert.equal((await call('operator', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, {})).status, 200);
  });

  it('refuses bad parameters with 400 naming the parameter, and reads nothing', async () => {
    const cases: Array<[string, string]> = [
      ['/wonder-ecr/journal?from=yesterday', 'from'],
      ['/wonder-ecr/journal?to=2026-13-45', 'to'],
      ['/wonder-ecr/journal?from=2026-11-29&to=2026-11-28', 'to'],
      ['/wonder-ecr/journal?state=closed', 'state'],
      ['/wonder-ecr/journal?result=maybe', 'result'],
      ['/wonder-ecr/journal?limit=0', 'limit'],
      ['/wonder-ecr/journal?limit=ten', 'limit'],
      ['/wonder-ecr/journal?terminal=a&terminal=b', 'terminal'],
      ['/wonder-ecr/totals?format=xml', 'format'],
      ['/wonder-ecr/totals?from=1e9', 'from'],
      [`/wonder-ecr/terminals/${TERMINAL}/trace?bundle=yes`, 'bundle'],
    ];
    for (const [route, parameter] of cases) {
      const res = await call('reader', 'GET', route);
      assert.equal(res.status, 400, route);
      assert.equal(res.json.parameter, parameter, route);
      assert.equal(res.json.code, 'E_PARAMETER');
      assert.match(res.json.message, new RegExp(`^${parameter}: `), route);
    }
    const unknown = await call('reader', 'GET', '/wonder-ecr/terminals/nope/trace');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.parameter, 'id');
    // check: JSON only, a known terminal, a reference that is a string and in its journal.
    assert.equal((await call('admin', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, 'referenceID=x', 'application/x-www-form-urlencoded')).status, 415);
    assert.equal((await call('admin', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, 'x', 'text/plain')).status, 415);
    assert.equal((await call('admin', 'POST', '/wonder-ecr/terminals/nope/check', {})).status, 404);
    const badRef = await call('admin', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, { referenceID: 42 });
    assert.equal(badRef.status, 400);
    assert.equal(badRef.json.parameter, 'referenceID');
    const notFound = await call('admin', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, { referenceID: 'NO-SUCH-PAYMENT' });
    assert.equal(notFound.status, 404);
    assert.equal(notFound.json.code, 'E_NOT_FOUND');
  });

  it('lists a sale taken through a flow, totals it exactly and exports it as CSV; never card data', async () => {
    const sale = await checkout('10.20');
    assert.equal(sale.result, 'Success');
    const declined = await checkout(SIMULATOR_AMOUNTS.decline);
    assert.equal(declined.result, 'Failed', JSON.stringify(declined));
    // Today as a date alone: the host's local midnight.
    const now = new Date();
    const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    const journal = await call('reader', 'GET', `/wonder-ecr/journal?terminal=${TERMINAL}&from=${day}`);
    assert.equal(journal.status, 200);
    const row = journal.json.entries.find((e: { referenceID: string }) => e.referenceID === sale.referenceID);
    assert.deepEqual(
      { action: row.action, amount: row.amount, currency: row.currency, result: row.result, terminalId: row.terminalId, terminalName: row.terminalName },
      { action: 'Sale', amount: '10.20', currency: 'HKD', result: 'approved', terminalId: TERMINAL, terminalName: 'Simulated terminal' },
    );
    const allowed = new Set(['referenceID', 'action', 'amount', 'currency', 'orgReferenceID', 'result', 'state', 'reason', 'openedAt', 'closedAt', 'terminal', 'terminalId', 'terminalName', 'rrn']);
    for (const e of journal.json.entries) assert.deepEqual(Object.keys(e).filter((k) => !allowed.has(k)), [], 'a field beyond the documented ones');
    assert.doesNotMatch(journal.text, /card|token|hash|260880/i);
    // Filter by result.
    const approved = await call('reader', 'GET', `/wonder-ecr/journal?result=approved&from=${day}`);
    assert.ok(approved.json.entries.length >= 1 && approved.json.entries.every((e: { result: string }) => e.result === 'approved'));
    const onlyDeclined = await call('reader', 'GET', `/wonder-ecr/journal?result=declined&from=${day}`);
    assert.ok(onlyDeclined.json.entries.every((e: { result: string }) => e.result === 'declined'));
    assert.equal(onlyDeclined.json.entries.length, 1);
    // Limit: the newest first.
    const one = await call('reader', 'GET', `/wonder-ecr/journal?limit=1&from=${day}`);
    assert.equal(one.json.entries.length, 1);
    assert.equal(one.json.truncated, true);
    assert.equal(one.json.entries[0].referenceID, declined.referenceID);

    const totals = await call('reader', 'GET', `/wonder-ecr/totals?from=${day}`);
    const mine = totals.json.totals.find((r: { terminalId: string; currency: string }) => r.terminalId === TERMINAL && r.currency === 'HKD');
    assert.equal(mine.sales.amount, '10.20');
    assert.equal(mine.sales.count, 1);
    assert.equal(mine.declined.count, 1);
    assert.equal(mine.net, '10.20');

    const csv = await call('reader', 'GET', `/wonder-ecr/totals?format=csv&from=${day}`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type')!, /^text\/csv/);
    assert.match(csv.headers.get('content-disposition')!, new RegExp(`^attachment; filename="wonder-ecr-${day}-all\\.csv"$`));
    const lines = csv.text.trim().split(/\r?\n/);
    assert.match(lines[0]!, /referenceID/);
    assert.ok(lines.some((l) => l.includes(sale.referenceID) && l.includes('10.20')), csv.text);
  });

  it('"check now" settles a payment left open (outcome unknown) by TransactionStatus, one reference or the whole terminal', async () => {
    // Pending for 3 s at the simulator, asked about for 1 s: the checkout answers E_PENDING and the payment stays open.
    const pending = await checkout(SIMULATOR_AMOUNTS.pendingThenApprove);
    assert.equal(pending.code, 'E_PENDING');
    const open = await call('reader', 'GET', '/wonder-ecr/journal?state=open');
    assert.deepEqual(open.json.entries.map((e: { referenceID: string; result: string }) => [e.referenceID, e.result]), [[pending.referenceID, 'open']]);
    const before = await call('reader', 'GET', '/wonder-ecr/terminals');
    assert.equal(before.json.terminals.find((x: { id: string }) => x.id === TERMINAL).openPayments, 1);

    // Asked until the terminal has an answer: each check says what it learnt, nothing is guessed.
    const answers: unknown[] = [];
    const settled = await until('the payment settled by check now', async () => {
      const res = await call('admin', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, { referenceID: pending.referenceID });
      assert.equal(res.status, 200, res.text);
      const c = res.json.checked[0];
      answers.push(c);
      assert.equal(c.referenceID, pending.referenceID);
      if (!c.settled) {
        assert.equal(c.state, 'open');
        return undefined;
      }
      return res.json;
    }, LOOK);
    assert.equal(settled.checked[0].state, 'Success', JSON.stringify(answers));
    assert.equal(settled.openPayments, 0);
    const after = await call('reader', 'GET', `/wonder-ecr/journal?result=approved`);
    assert.ok(after.json.entries.some((e: { referenceID: string }) => e.referenceID === pending.referenceID));
    // Already settled: answered from the journal, not asked again.
    const again = await call('admin', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, { referenceID: pending.referenceID });
    assert.deepEqual(again.json.checked[0], { referenceID: pending.referenceID, action: 'Sale', state: 'Success', settled: false });

    // The whole terminal: every open payment asked about.
    const second = await checkout(SIMULATOR_AMOUNTS.pendingThenApprove);
    assert.equal(second.code, 'E_PENDING');
    const all = await until('the terminal check to settle it', async () => {
      const res = await call('operator', 'POST', `/wonder-ecr/terminals/${TERMINAL}/check`, {});
      assert.equal(res.status, 200, res.text);
      return res.json.openPayments === 0 ? res.json : undefined;
    }, LOOK);
    assert.deepEqual(all.checked.map((c: { referenceID: string; state: string }) => [c.referenceID, c.state]), [[second.referenceID, 'Success']]);
  });

  it('serves the redacted trace and a support bundle as a download, with no secret', async () => {
    const trace = await call('reader', 'GET', `/wonder-ecr/terminals/${TERMINAL}/trace`);
    assert.equal(trace.status, 200);
    assert.equal(trace.json.terminal, TERMINAL);
    assert.ok(Array.isArray(trace.json.records));
    const bundle = await call('reader', 'GET', `/wonder-ecr/terminals/${TERMINAL}/trace?bundle=1`);
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-disposition')!, /^attachment; filename="wonder-ecr-support-wonder_example_terminal-[\dTZ-]+\.json"$/);
    assert.equal(bundle.json.terminal.id, TERMINAL);
    // The whole bundle: versions, settings without credentials, state, counters, device, open payments, trace.
    assert.equal(typeof bundle.json.versions.nodeRed, 'string');
    assert.equal(bundle.json.terminal.config.transport, 'simulator');
    for (const key of ['state', 'counters', 'device', 'openPayments', 'trace']) assert.ok(key in bundle.json, key);
    assert.doesNotMatch(bundle.text, /260880|pairingCode|pinCode/);
  });
});

describe('card data never reaches the sidebar, its downloads, the journal or the log; a simulated terminal is marked (real Node-RED, LAN simulator in this process)', function () {
  this.timeout(120_000);
  /** Values no other field carries: the card's prefix, hash and token, looked for in every output. */
  const CARD = { panPrefix6Digits: '424242', panLast4Digits: '4711', panHash: 'Hh7Kp2QxZ9mWcard', panToken: 'tok_Lw3Vn8Rb2Ycard' };
  const SECRET = [CARD.panPrefix6Digits, CARD.panHash, CARD.panToken];
  const T = 'card_terminal';
  let terminal: SimulatedTerminal;
  let lan: LanServer;
  let red: NodeRedProcess;

  before(async () => {
    terminal = new SimulatedTerminal({ cardDelayMs: 10, card: CARD });
    lan = await serveLan(terminal);
    red = await startNodeRed({ flows: [] });
    const z = 'card_tab';
    const echo = 'msg.payload = { payload: msg.payload, wonder: msg.wonder }; return msg;';
    const flows = [
      { id: z, type: 'tab', label: 'cards' },
      { id: T, type: 'wonder-terminal', name: 'LAN simulator', transport: 'lan', host: '127.0.0.1', port: String(lan.port), timeout: '30', credentials: { pairingCode: '260880' } },
      { id: 'in_min', type: 'http in', z, url: '/card/sale', method: 'post', wires: [['sale_min']] },
      { id: 'sale_min', type: 'wonder-sale', z, terminal: T, wires: [['card_echo']] },
      { id: 'in_raw', type: 'http in', z, url: '/card/sale-raw', method: 'post', wires: [['sale_raw']] },
      { id: 'sale_raw', type: 'wonder-sale', z, terminal: T, rawCard: true, wires: [['card_echo']] },
      { id: 'in_status', type: 'http in', z, url: '/card/status', method: 'post', wires: [['card_status']] },
      { id: 'card_status', type: 'wonder-status', z, terminal: T, wires: [['card_echo']] },
      { id: 'card_echo', type: 'function', z, func: echo, outputs: 1, wires: [['card_out']] },
      { id: 'card_catch', type: 'catch', z, scope: null, uncaught: false, wires: [['card_err']] },
      { id: 'card_err', type: 'function', z, func: 'msg.statusCode = 500; msg.payload = { error: msg.error && msg.error.message, wonder: msg.wonder }; return msg;', outputs: 1, wires: [['card_out']] },
      { id: 'card_out', type: 'http response', z, wires: [] },
    ];
    const deploy = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.equal(deploy.status, 204, await deploy.text());
    // The deploy is answered before the new flows have started (their HTTP endpoints are 404 until then): the log says when.
    await until('the flow started', async () => (/Started flows/.test(red.output().split('Updated flows')[1] ?? '') ? true : undefined), LOOK);
  });

  after(async () => {
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
    terminal?.stop();
    await lan?.close();
  });

  async function post(route: string, body: unknown): Promise<any> {
    const res = await fetch(`${red.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    assert.equal(res.status, 200, `${route}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  }

  it('a flow gets the card\'s last four digits (all of it only where "raw card data" is ticked); no other output holds its prefix, hash or token', async () => {
    const sale = await post('/card/sale', { amount: '5.00', currency: 'HKD', referenceID: 'card-sale-1' });
    assert.equal(sale.wonder.result, 'Success');
    assert.deepEqual(sale.payload.creditCard, { panLast4Digits: '4711' });
    assert.equal(sale.payload.paymentMethod, 'visa');
    // The simulated terminal marked its answers: a LAN line to a simulator is no real terminal.
    assert.equal(sale.wonder.simulated, true);
    // Ticked: the card as the terminal sent it (the payments did carry it).
    const raw = await post('/card/sale-raw', { amount: '6.00', currency: 'HKD', referenceID: 'card-sale-2' });
    assert.deepEqual(raw.payload.creditCard, CARD);
    const lookup = await post('/card/status', { targetReferenceID: 'card-sale-2' });
    assert.deepEqual(lookup.payload.creditCard, { panLast4Digits: '4711' });
    assert.equal(lookup.wonder.simulated, true);
    const declined = await post('/card/sale', { amount: SIMULATOR_AMOUNTS.decline, currency: 'HKD', referenceID: 'card-sale-3' });
    assert.equal(declined.wonder.result, 'Failed');

    // Every output of the sidebar's API, its downloads, the journal on disk and the log.
    const get = async (route: string) => {
      const res = await fetch(`${red.url}${route}`);
      assert.equal(res.status, 200, route);
      return res.text();
    };
    const terminals = await get('/wonder-ecr/terminals');
    const view = (JSON.parse(terminals) as { terminals: Array<{ id: string; simulated: boolean }> }).terminals.find((x) => x.id === T)!;
    assert.equal(view.simulated, true);
    const now = new Date();
    const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}-${String(now.getDate()).padStart(2, '0')}`;
    const journalDir = path.join(red.userDir, 'wonder-ecr');
    const outputs: Record<string, string> = {
      terminals,
      journal: await get(`/wonder-ecr/journal?from=${day}`),
      journalCsv: await get(`/wonder-ecr/journal?from=${day}&format=csv`),
      totals: await get(`/wonder-ecr/totals?from=${day}`),
      totalsCsv: await get(`/wonder-ecr/totals?from=${day}&format=csv`),
      trace: await get(`/wonder-ecr/terminals/${T}/trace`),
      bundle: await get(`/wonder-ecr/terminals/${T}/trace?bundle=1`),
      // The ledger on disk, its WAL too, as bytes (SQLite keeps text as it is).
      journalFiles: fs.readdirSync(journalDir).filter((f) => f.startsWith('ledger.db')).map((f) => fs.readFileSync(path.join(journalDir, f), 'latin1')).join('\n'),
      log: red.output(),
    };
    assert.ok(outputs.journal.includes('card-sale-2') && outputs.journalFiles.includes('card-sale-2') && outputs.trace.includes('Sale'), 'the outputs hold the payments');
    for (const [where, text] of Object.entries(outputs)) {
      for (const value of [...SECRET, 'panPrefix6Digits', 'panHash', 'panToken']) assert.ok(!text.includes(value), `${value} in the ${where}`);
    }
  });
});
