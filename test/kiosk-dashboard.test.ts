import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { serveLan, SimulatedTerminal, type LanServer } from '../lib/simulator';

const root = path.resolve(__dirname, '..', '..');
const example = path.join(root, 'examples', 'kiosk-dashboard.json');

/**
 * A user directory whose node_modules holds this repository's own
 * @flowfuse/node-red-dashboard (a devDependency), so the Node-RED under test
 * (4.1 here, or 5 through WONDER_NODE_RED_DIR) loads it as a user would have
 * installed it.
 */
function userDirWithDashboard(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-kiosk-'));
  fs.mkdirSync(path.join(dir, 'node_modules', '@flowfuse'), { recursive: true });
  fs.symlinkSync(path.dirname(require.resolve('@flowfuse/node-red-dashboard/package.json')), path.join(dir, 'node_modules', '@flowfuse', 'node-red-dashboard'), 'dir');
  return dir;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe('kiosk example on FlowFuse Dashboard 2.0 in a real browser (Debian chromium)', function () {
  this.timeout(120_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;
  let lan: LanServer | undefined;

  const progress = () => '.kiosk-progress';
  const result = () => '.kiosk-result';
  /** Waits until the widget with that class shows the text. */
  const waitForText = (sel: string, text: string | RegExp, timeout = 20_000) =>
    page.waitForFunction(
      ({ sel, src, flags }) => new RegExp(src, flags).test(document.querySelector(sel)?.textContent ?? ''),
      { sel, src: typeof text === 'string' ? escape(text) : text.source, flags: typeof text === 'string' ? '' : text.flags },
      { timeout },
    );
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const press = async (name: RegExp) => {
    await page.getByRole('button', { name }).click();
  };

  before(async () => {
    const flows = JSON.parse(fs.readFileSync(example, 'utf8')) as unknown[];
    red = await startNodeRed({ flows, userDir: userDirWithDashboard() });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    await lan?.close();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  it('Node-RED loads the dashboard and the example without missing types', () => {
    assert.match(red.output(), /Dashboard 2\.0 \(v[0-9.]+\) started at \/dashboard/);
    assert.doesNotMatch(red.output(), /Waiting for missing types/);
  });

  it('pays by clicking: progress shown large, then approved', async () => {
    await page.goto(`${red.url}/dashboard/kiosk`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('button', { name: /Coffee/ }).waitFor({ timeout: 45_000 });
    await press(/Coffee/);
    await waitForText('.kiosk-chosen', 'Coffee');
    const seen = page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const texts: string[] = [];
          const target = document.querySelector('.kiosk-progress')!;
          new MutationObserver(() => {
            const text = target.textContent?.trim() ?? '';
            if (text !== '' && texts.at(-1) !== text) texts.push(text);
            if (/approved/i.test(text)) resolve(texts);
          }).observe(target, { subtree: true, childList: true, characterData: true });
        }),
    );
    await press(/^Pay$/);
    const texts = await seen;
    assert.ok(texts.includes('Tap, insert or swipe your card'), `steps shown: ${texts.join(' | ')}`);
    assert.equal(texts.at(-1), 'Payment approved. Thank you!');
    await waitForText(result(), /Approved · HKD 25\.00/);
    const fontSize = await page.locator(progress()).evaluate((el) => Math.max(...[el, ...Array.from(el.querySelectorAll("*"))].map((e) => parseFloat(getComputedStyle(e).fontSize))));
    assert.ok(fontSize >= 36, `progress font ${fontSize}px`);
    const shot = path.join(os.tmpdir(), 'wonder-kiosk-dashboard.png');
    await page.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 10_000);
    if (process.env.WONDER_SCREENSHOT_KIOSK) fs.copyFileSync(shot, process.env.WONDER_SCREENSHOT_KIOSK);
  });

  it('cancels a payment while the card is awaited (Cancel sends Abort)', async () => {
    await press(/Slow cardholder/);
    await waitForText('.kiosk-chosen', 'Slow cardholder');
    await press(/^Pay$/);
    await waitForText(progress(), 'Tap, insert or swipe your card');
    await press(/^Cancel$/);
    await waitForText(progress(), 'Payment cancelled', 6_000);
    await waitForText(result(), /Not paid \(declined\)/);
  });

  it('sees a decline', async () => {
    await press(/Declined card/);
    await waitForText('.kiosk-chosen', 'Declined card');
    await press(/^Pay$/);
    await waitForText(progress(), 'Payment declined');
    await waitForText(result(), /Not paid \(declined\)/);
  });

  it('the editor: the sale node\'s Progress box sets its outputs (2 ticked, 1 unticked) and the receipt width is offered', async () => {
    const editor = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    try {
      await editor.goto(red.url, { waitUntil: 'domcontentloaded' });
      await editor.waitForSelector('.red-ui-palette-node', { timeout: 45_000 });
      type R = { editor: { edit(n: unknown): void }; nodes: { node(id: string): { outputs: number; progress: boolean; receiptWidth: string } } };
      const node = () => editor.evaluate(() => {
        const n = (globalThis as unknown as { RED: R }).RED.nodes.node('wonder_dash_sale');
        return { outputs: n.outputs, progress: n.progress, receiptWidth: n.receiptWidth };
      });
      assert.deepEqual(await node(), { outputs: 2, progress: true, receiptWidth: '32' });
      await editor.evaluate(() => {
        const RED = (globalThis as unknown as { RED: R }).RED;
        RED.editor.edit(RED.nodes.node('wonder_dash_sale'));
      });
      await editor.waitForSelector('#node-input-progress', { state: 'visible' });
      assert.equal(await editor.isChecked('#node-input-progress'), true);
      assert.deepEqual(await editor.locator('#node-input-receiptWidth option').evaluateAll((o) => o.map((e) => (e as HTMLOptionElement).value)), ['32', '48']);
      await editor.uncheck('#node-input-progress');
      await editor.selectOption('#node-input-receiptWidth', '48');
      await editor.click('#node-dialog-ok');
      await editor.waitForFunction(() => (globalThis as unknown as { RED: R }).RED.nodes.node('wonder_dash_sale').outputs === 1, undefined, { timeout: 5_000 });
      assert.deepEqual(await node(), { outputs: 1, progress: false, receiptWidth: '48' });
    } finally {
      await editor.close();
    }
  });

  it('shows "approved" after each of 10 answers of the terminal, and reports how long each took (LAN simulator in this process)', async () => {
    // The same example, its terminal moved to a LAN simulator here, to time the answer as it leaves the terminal.
    const terminal = new SimulatedTerminal({ cardDelayMs: 200 });
    const answeredAt: number[] = [];
    const handle = terminal.handle.bind(terminal);
    terminal.handle = async (raw) => {
      const answer = await handle(raw);
      if (answer !== null && /"action":\s*"Sale"/.test(String(raw))) answeredAt.push(Date.now());
      return answer;
    };
    lan = await serveLan(terminal);
    const flows = JSON.parse(fs.readFileSync(example, 'utf8')) as Array<Record<string, unknown>>;
    const t = flows.find((n) => n.type === 'wonder-terminal')!;
    Object.assign(t, { transport: 'lan', host: '127.0.0.1', port: lan.port, credentials: { pairingCode: '260880' } });
    const deploy = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.equal(deploy.status, 204);
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.getByRole('button', { name: /Tea/ }).waitFor({ timeout: 45_000 });
    await press(/Tea/);
    await waitForText('.kiosk-chosen', 'Tea');
    const delays: number[] = [];
    for (let i = 0; i < 10; i++) {
      const shown = page.evaluate(
        () =>
          new Promise<number>((resolve) => {
            const target = document.querySelector('.kiosk-progress')!;
            // The last sale's "approved" is still shown: wait for this one's steps first.
            let started = false;
            const obs = new MutationObserver(() => {
              const approved = /approved/i.test(target.textContent ?? '');
              if (!approved) started = true;
              else if (started) {
                obs.disconnect();
                resolve(Date.now());
              }
            });
            obs.observe(target, { subtree: true, childList: true, characterData: true });
          }),
      );
      await press(/^Pay$/);
      const at = await shown;
      assert.equal(answeredAt.length, i + 1);
      delays.push(at - answeredAt[i]!);
      // The screen is free again once the result line is shown; choosing again clears it.
      await waitForText(result(), /Approved · HKD 18\.00/);
      await press(/Tea/);
      await page.waitForFunction(() => !/Approved/.test(document.querySelector('.kiosk-result')?.textContent ?? ''));
    }
    const report = `terminal answer → "approved" on the page, ms: median ${median(delays)}, max ${Math.max(...delays)} (${delays.join(', ')})`;
    console.log(`      ${report}`);
    if (process.env.WONDER_KIOSK_REPORT) fs.writeFileSync(process.env.WONDER_KIOSK_REPORT, JSON.stringify({ delays, median: median(delays), max: Math.max(...delays) }));
    // Speed is a benchmark's business, not a test's (a loaded CI machine is no stopwatch): here every answer
    // reached the page, in order, after the terminal gave it; the figure is printed and written for the README.
    assert.equal(delays.length, 10);
    for (const d of delays) assert.ok(d >= 0, report);
  });
});
