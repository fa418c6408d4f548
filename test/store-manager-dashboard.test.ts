import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { DASHBOARD_EXAMPLE, userDirWithDashboard } from './helpers/dashboard';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { serveLan, SimulatedTerminal, type LanServer } from '../lib/simulator';
import { until } from './helpers/wait';

// The store manager page is a page of the kiosk's dashboard (one ui-base per Node-RED), watching its terminal.
const example = DASHBOARD_EXAMPLE;

type Node = Record<string, unknown> & { id: string; type: string };
type Totals = { terminalName?: string; terminal: string; currency: string; sales: { count: number; amount: string }; refunds: { count: number; amount: string }; voids: { count: number; amount: string }; declined: { count: number }; unknown: { count: number }; net: string };

/**
 * The example as a user deploys it, its terminal on a LAN simulator in this process, plus a second
 * terminal ("Counter B", its own transaction status node in the page's status scope) and a test tab
 * that takes payments over HTTP (POST /test/pay {terminal, action, ...}), as a till's flow would.
 */
function flows(portA: number, portB: number): Node[] {
  const base = JSON.parse(fs.readFileSync(example, 'utf8')) as Node[];
  const A = base.find((n) => n.id === 'wonder_dash_terminal')!;
  // The health check on (5 s, the shortest): an idle LAN terminal taken away is noticed without a payment.
  Object.assign(A, { transport: 'lan', host: '127.0.0.1', port: portA, healthCheck: '5', credentials: { pairingCode: '260880' } });
  const B: Node = { ...A, id: 'store_test_b', name: 'Counter B', port: portB, timeout: 2, resolveTimeout: 1, pollInterval: 0.2, credentials: { pairingCode: '260880' } };
  const status = base.find((n) => n.id === 'wonder_store_status')!;
  (status.scope as string[]).push('store_test_health_b');
  const t = 'store_test_tab';
  const action = (id: string, type: string, terminal: string): Node => ({ id, type, z: t, terminal, name: `till ${type}`, wires: [['store_test_answer']] });
  return [
    ...base,
    B,
    { id: 'store_test_health_b', type: 'wonder-status', z: 'wonder_store_tab', name: 'Counter B', terminal: 'store_test_b', wires: [[]] },
    { id: t, type: 'tab', label: 'till (test)' },
    { id: 'store_test_in', type: 'http in', z: t, url: '/test/pay', method: 'post', upload: false, wires: [['store_test_route']] },
    {
      id: 'store_test_route',
      type: 'function',
      z: t,
      outputs: 6,
      func: "const i = ['A', 'B'].indexOf(msg.payload.terminal) * 3 + ['Sale', 'Refund', 'Void'].indexOf(msg.payload.action); const out = [null, null, null, null, null, null]; const { terminal, action, ...p } = msg.payload; msg.payload = p; out[i] = msg; return out;",
      wires: [['sA'], ['rA'], ['vA'], ['sB'], ['rB'], ['vB']],
    },
    action('sA', 'wonder-sale', 'wonder_dash_terminal'),
    action('rA', 'wonder-refund', 'wonder_dash_terminal'),
    action('vA', 'wonder-void', 'wonder_dash_terminal'),
    action('sB', 'wonder-sale', 'store_test_b'),
    action('rB', 'wonder-refund', 'store_test_b'),
    action('vB', 'wonder-void', 'store_test_b'),
    { id: 'store_test_catch', type: 'catch', z: t, scope: ['sA', 'rA', 'vA', 'sB', 'rB', 'vB'], uncaught: false, wires: [['store_test_answer']] },
    { id: 'store_test_answer', type: 'function', z: t, outputs: 1, func: 'msg.payload = { wonder: msg.wonder }; return msg;', wires: [['store_test_out']] },
    { id: 'store_test_out', type: 'http response', z: t, statusCode: '', headers: {}, wires: [] },
  ];
}

describe('store manager page on FlowFuse Dashboard 2.0 in a real browser (Debian chromium)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  const simA = new SimulatedTerminal({ cardDelayMs: 20 });
  const simB = new SimulatedTerminal({ cardDelayMs: 20, serverDeviceSN: 'SIM-WONDER-0002' });
  let lanA: LanServer;
  let lanB: LanServer | undefined;

  const pay = async (body: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const res = await fetch(`${red.url}/test/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) }).catch((err: Error) => {
      throw new Error(`POST /test/pay ${JSON.stringify(body)}: ${err.message}\n${red.output().slice(-3000)}`);
    });
    assert.equal(res.status, 200);
    return ((await res.json()) as { wonder: Record<string, unknown> }).wonder;
  };
  const admin = async <T>(p: string): Promise<T> => {
    const res = await fetch(`${red.url}${p}`);
    assert.equal(res.status, 200, p);
    return (await res.json()) as T;
  };
  /** What the page's takings table shows, row by row. */
  const pageTakings = () =>
    page.locator('.store-takings .store-row').evaluateAll((rows) =>
      rows.map((r) => {
        const cell = (c: string) => r.querySelector(`.${c}`)!.textContent!.trim();
        return {
          terminal: (r as HTMLElement).dataset.terminal!,
          currency: (r as HTMLElement).dataset.currency!,
          sales: cell('sales'),
          salesAmount: cell('sales-amount'),
          refunds: cell('refunds'),
          refundsAmount: cell('refunds-amount'),
          voids: cell('voids'),
          voidsAmount: cell('voids-amount'),
          declined: cell('declined'),
          unknown: cell('unknown'),
          net: cell('net'),
        };
      }),
    );
  const journalTakings = async () =>
    (await admin<{ totals: Totals[] }>('/wonder-ecr/totals?day=today')).totals
      .map((r) => ({
        terminal: r.terminalName ?? r.terminal,
        currency: r.currency,
        sales: String(r.sales.count),
        salesAmount: r.sales.amount,
        refunds: String(r.refunds.count),
        refundsAmount: r.refunds.amount,
        voids: String(r.voids.count),
        voidsAmount: r.voids.amount,
        declined: String(r.declined.count),
        unknown: String(r.unknown.count),
        net: r.net,
      }))
      .sort((a, b) => a.terminal.localeCompare(b.terminal) || a.currency.localeCompare(b.currency));
  const health = (terminal: string) => page.locator(`.store-terminal[data-terminal="${terminal}"]`);

  before(async () => {
    lanA = await serveLan(simA);
    lanB = await serveLan(simB);
    red = await startNodeRed({ flows: [], userDir: userDirWithDashboard('wonder-store-') });
    // Deployed as from the editor, with the terminals' pairing codes (credentials go in through the admin API).
    const deploy = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows(lanA.port, lanB.port)) });
    assert.equal(deploy.status, 204);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    await lanA?.close();
    await lanB?.close();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  it('Node-RED loads the dashboard and the example without missing types', async () => {
    await until('Dashboard 2.0 started', () => /Dashboard 2\.0 \(v[0-9.]+\) started at \/dashboard/.test(red.output()), { within: 30_000, detail: red.output });
    assert.doesNotMatch(red.output(), /Waiting for missing types/);
  });

  it("after a few sales, refunds, a void, a decline and an unknown outcome, the page's takings equal the journal's totals", async () => {
    const s1 = await pay({ terminal: 'A', action: 'Sale', amount: '25.00', currency: 'HKD' });
    assert.equal(s1.outcome, 'approved');
    assert.equal((await pay({ terminal: 'A', action: 'Sale', amount: '18.50', currency: 'HKD' })).outcome, 'approved');
    assert.equal((await pay({ terminal: 'A', action: 'Sale', amount: '900.01', currency: 'HKD' })).outcome, 'declined');
    assert.equal((await pay({ terminal: 'A', action: 'Refund', amount: '5.00', currency: 'HKD', orgReferenceID: s1.referenceID })).outcome, 'approved');
    assert.equal((await pay({ terminal: 'B', action: 'Sale', amount: '12.00', currency: 'HKD' })).outcome, 'approved');
    const usd = await pay({ terminal: 'B', action: 'Sale', amount: '7.25', currency: 'USD' });
    assert.equal(usd.outcome, 'approved');
    assert.equal((await pay({ terminal: 'B', action: 'Sale', amount: '3.10', currency: 'USD' })).outcome, 'approved');
    assert.equal((await pay({ terminal: 'B', action: 'Void', orgReferenceID: usd.referenceID })).outcome, 'voided');
    // Counter B's answers stop: the sale's outcome stays unknown (E_PENDING), open in the journal.
    simB.silent = new Set(['Sale', 'TransactionStatus']);
    const lost = await pay({ terminal: 'B', action: 'Sale', amount: '9.90', currency: 'HKD' });
    assert.equal(lost.code, 'E_PENDING');

    await page.goto(`${red.url}/dashboard/store`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('button', { name: /Refresh/ }).waitFor({ timeout: 45_000 });
    await page.getByRole('button', { name: /Refresh/ }).click();
    const expected = await journalTakings();
    assert.equal(expected.length, 3, JSON.stringify(expected));
    await page.waitForFunction((n) => document.querySelectorAll('.store-takings .store-row').length === n, expected.length, { timeout: 20_000 });
    // The page refreshes every 10 s: wait until it shows the journal's numbers; the comparison below shows both when it does not.
    await page
      .waitForFunction(
        (exp) => {
          const rows = Array.from(document.querySelectorAll('.store-takings .store-row'));
          const cls: Record<string, string> = { sales: 'sales', salesAmount: 'sales-amount', refunds: 'refunds', refundsAmount: 'refunds-amount', voids: 'voids', voidsAmount: 'voids-amount', declined: 'declined', unknown: 'unknown', net: 'net' };
          return rows.length === exp.length && rows.every((r, i) => Object.keys(cls).every((k) => r.querySelector(`.${cls[k]}`)?.textContent?.trim() === (exp[i] as Record<string, string>)[k]));
        },
        expected,
        { timeout: 25_000 },
      )
      .catch(() => undefined);
    const shown = await pageTakings();
    assert.deepEqual(shown, expected);
    // The figures themselves: what was taken on each counter.
    const a = shown.find((r) => r.terminal === 'Simulated terminal (dashboard kiosk)' && r.currency === 'HKD')!;
    assert.deepEqual([a.sales, a.salesAmount, a.refunds, a.refundsAmount, a.declined, a.net], ['2', '43.50', '1', '5.00', '1', '38.50']);
    const bUsd = shown.find((r) => r.terminal === 'Counter B' && r.currency === 'USD')!;
    assert.deepEqual([bUsd.sales, bUsd.voids, bUsd.voidsAmount, bUsd.net], ['2', '1', '7.25', '3.10']);
    const bHkd = shown.find((r) => r.terminal === 'Counter B' && r.currency === 'HKD')!;
    assert.equal(bHkd.unknown, '1');
    // The day's total per currency, over both counters.
    const totals = await page.locator('.store-takings .store-total').evaluateAll((rows) => rows.map((r) => [(r as HTMLElement).dataset.currency, r.querySelector('.net')!.textContent!.trim()]));
    assert.deepEqual(totals, [['HKD', '50.50'], ['USD', '3.10']]);
  });

  it('payments per hour: the chart is drawn and the count equals the payments in the journal today', async () => {
    const listed = await admin<{ entries: Array<{ action: string; state: string }> }>('/wonder-ecr/journal?day=today&limit=100000');
    const payments = listed.entries.filter((e) => (e.action === 'Sale' || e.action === 'Refund') && e.state !== 'NotSent').length;
    assert.equal(payments, 8);
    await page.waitForFunction((n) => document.querySelector('.store-hours-total')?.textContent?.trim() === String(n), payments, { timeout: 20_000 });
    const perHour = await page.locator('.store-hour').evaluateAll((spans) => spans.map((s) => Number(s.textContent!.trim().split(/\s+/)[1])));
    assert.equal(perHour.reduce((a, b) => a + b, 0), payments);
    await page.locator('.store-hours-chart canvas, .store-hours-chart svg').first().waitFor({ timeout: 20_000 });
  });

  it('open payments: the unknown outcome is listed with its reference and terminal', async () => {
    const open = await admin<{ entries: Array<{ referenceID: string }> }>('/wonder-ecr/journal?state=open');
    assert.equal(open.entries.length, 1);
    const row = page.locator(`.store-open-row[data-reference="${open.entries[0]!.referenceID}"]`);
    await row.waitFor({ timeout: 20_000 });
    assert.match((await row.textContent()) ?? '', /Counter B[\s\S]*Sale[\s\S]*HKD 9\.90/);
  });

  it("each terminal's health; a terminal taken away (its LAN simulator stopped) shows as such, the other stays ready", async () => {
    await page.waitForFunction(() => document.querySelectorAll('.store-terminal.store-health-ok').length === 2, undefined, { timeout: 20_000 });
    assert.match((await health('Counter B').textContent()) ?? '', /Ready/);
    await lanB!.close();
    lanB = undefined;
    await page.waitForFunction(() => document.querySelector('.store-terminal[data-terminal="Counter B"]')?.classList.contains('store-health-ok') === false, undefined, { timeout: 30_000 });
    const text = (await health('Counter B').textContent()) ?? '';
    assert.doesNotMatch(text, /Ready/);
    assert.match(text, /Unreachable|Connecting|Not connected/);
    assert.match((await health('Counter B').getAttribute('class')) ?? '', /store-health-(down|warn)/);
    assert.match((await health('Simulated terminal (dashboard kiosk)').getAttribute('class')) ?? '', /store-health-ok/);
    // The admin API says the same of that terminal.
    const terminals = await admin<{ terminals: Array<{ name: string; state: string }> }>('/wonder-ecr/terminals');
    const b = terminals.terminals.find((t) => t.name === 'Counter B')!;
    assert.notEqual(b.state, 'connected', JSON.stringify(b));
    const shot = path.join(os.tmpdir(), 'wonder-store-manager.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (process.env.WONDER_SCREENSHOT_STORE) fs.copyFileSync(shot, process.env.WONDER_SCREENSHOT_STORE);
  });
});
