import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { DASHBOARD_EXAMPLE, userDirWithDashboard } from './helpers/dashboard';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { serveLan, SimulatedTerminal, type LanServer } from '../lib/simulator';

const example = DASHBOARD_EXAMPLE;

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

  /** The simulated terminal, in this process behind a LAN server, so the test sees what reached it. */
  const terminal = new SimulatedTerminal({ cardDelayMs: 200 });
  const answeredAt: number[] = [];
  const handle = terminal.handle.bind(terminal);
  terminal.handle = async (raw) => {
    const answer = await handle(raw);
    if (answer !== null && /"action":\s*"Sale"/.test(String(raw))) answeredAt.push(Date.now());
    return answer;
  };

  before(async () => {
    const flows = JSON.parse(fs.readFileSync(example, 'utf8')) as Array<Record<string, unknown>>;
    red = await startNodeRed({ flows, userDir: userDirWithDashboard('wonder-kiosk-') });
    // The example as imported, its terminal moved to the LAN simulator here (with the pairing code, as a user would set it).
    lan = await serveLan(terminal);
    const t = flows.find((n) => n.type === 'wonder-terminal')!;
    Object.assign(t, { transport: 'lan', host: '127.0.0.1', port: lan.port, credentials: { pairingCode: '260880' } });
    const deploy = await fetch(`${red.url}/flows`, { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: JSON.stringify(flows) });
    assert.equal(deploy.status, 204);
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

  /** Whether the button of that name is off (disabled) on the page. */
  const isOff = (name: RegExp) => page.getByRole('button', { name }).isDisabled();
  const waitOff = (name: RegExp, off: boolean) =>
    page.getByRole('button', { name }).evaluate(
      (el, off) =>
        new Promise<void>((resolve) => {
          const button = el as HTMLButtonElement;
          const check = () => button.disabled === off && (resolve(), true);
          if (check()) return;
          const obs = new MutationObserver(() => check() && obs.disconnect());
          obs.observe(button, { attributes: true, attributeFilter: ['disabled', 'class'] });
        }),
      off,
    );
  /** The look (kiosk-look-*) and the colours a widget shows. */
  const lookOf = (sel: string) =>
    page.locator(sel).evaluate((el) => ({
      look: Array.from(el.classList).find((c) => c.startsWith('kiosk-look-')) ?? '',
      color: getComputedStyle(el).color,
      background: getComputedStyle(el).backgroundColor,
    }));
  const waitLook = (sel: string, look: string, timeout = 20_000) =>
    page.waitForFunction(({ sel, look }) => document.querySelector(sel)?.classList.contains(`kiosk-look-${look}`) === true, { sel, look }, { timeout }).catch(async (err: Error) => {
      throw new Error(`${err.message}; ${sel} is ${await page.locator(sel).evaluate((el) => el.outerHTML)}`);
    });
  const looks: Record<string, { look: string; color: string; background: string }> = {};

  it('Pay is off until a product is chosen', async () => {
    await page.goto(`${red.url}/dashboard/kiosk`, { waitUntil: 'domcontentloaded' });
    await page.getByRole('button', { name: /Coffee/ }).waitFor({ timeout: 45_000 });
    await waitOff(/^Pay$/, true);
    await waitOff(/^Cancel$/, true);
    await press(/Coffee/);
    await waitForText('.kiosk-chosen', 'Coffee');
    await waitOff(/^Pay$/, false);
  });

  it('pays by clicking: progress shown large, Pay off while it runs, then the approved look; Pay stays off until the next product', async () => {
    const seen = page.evaluate(
      () =>
        new Promise<{ texts: string[]; payOffWhileWaiting: boolean }>((resolve) => {
          const texts: string[] = [];
          let payOffWhileWaiting = false;
          const target = document.querySelector('.kiosk-progress')!;
          const pay = Array.from(document.querySelectorAll("button")).find((b) => /^\s*Pay\s*$/.test(b.textContent ?? ''))!;
          new MutationObserver(() => {
            const text = target.textContent?.trim() ?? '';
            if (text !== '' && texts.at(-1) !== text) texts.push(text);
            if (/Tap, insert/.test(text)) payOffWhileWaiting = pay.disabled;
            if (/approved/i.test(text)) resolve({ texts, payOffWhileWaiting });
          }).observe(target, { subtree: true, childList: true, characterData: true });
        }),
    );
    const before = terminal.count('Sale');
    await press(/^Pay$/);
    const { texts, payOffWhileWaiting } = await seen;
    assert.ok(texts.includes('Tap, insert or swipe your card'), `steps shown: ${texts.join(' | ')}`);
    assert.equal(texts.at(-1), 'Payment approved. Thank you!');
    assert.equal(payOffWhileWaiting, true, 'Pay is off while the card is awaited');
    await waitForText(result(), /Approved · HKD 25\.00/);
    await waitLook(result(), 'approved');
    await waitLook(progress(), 'approved');
    looks.approved = await lookOf(result());
    assert.equal(terminal.count('Sale'), before + 1);
    const fontSize = await page.locator(progress()).evaluate((el) => Math.max(...[el, ...Array.from(el.querySelectorAll("*"))].map((e) => parseFloat(getComputedStyle(e).fontSize))));
    assert.ok(fontSize >= 36, `progress font ${fontSize}px`);
    // After the payment, Pay stays off: pressing it again cannot take a second sale.
    assert.equal(await isOff(/^Pay$/), true);
    assert.equal(await isOff(/^Cancel$/), true);
    const shot = path.join(os.tmpdir(), 'wonder-kiosk-dashboard.png');
    await page.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 10_000);
    if (process.env.WONDER_SCREENSHOT_KIOSK) fs.copyFileSync(shot, process.env.WONDER_SCREENSHOT_KIOSK);
  });

  it('choosing another product resets the screen for the next customer and arms Pay', async () => {
    await press(/Tea/);
    await waitForText('.kiosk-chosen', 'Tea');
    await page.waitForFunction(() => (document.querySelector('.kiosk-result')?.textContent ?? '').trim() === 'Result' && (document.querySelector('.kiosk-progress')?.textContent ?? '').trim() === '');
    await waitLook(result(), 'none');
    await waitOff(/^Pay$/, false);
  });

  it('cancels its own payment while the card is awaited: the cancelled look, not declined, and the terminal charged nothing', async () => {
    await press(/Slow cardholder/);
    await waitForText('.kiosk-chosen', 'Slow cardholder');
    await press(/^Pay$/);
    await waitForText(progress(), 'Tap, insert or swipe your card');
    await waitOff(/^Cancel$/, false);
    const aborts = terminal.count('Abort');
    await press(/^Cancel$/);
    await waitForText(progress(), 'Payment cancelled', 6_000);
    await waitForText(result(), /Payment cancelled · not charged/);
    await waitLook(result(), 'cancelled');
    await waitLook(progress(), 'cancelled');
    looks.cancelled = await lookOf(result());
    assert.doesNotMatch((await page.locator(result()).textContent()) ?? '', /declined/);
    assert.equal(terminal.count('Abort'), aborts + 1);
    const sale = [...terminal.transactions.values()].find((t) => t.amount === '900.05')!;
    assert.equal(sale.state, 'Failed', 'the terminal took no money');
    assert.equal(sale.errorCode, 'ABORTED');
    assert.equal(await isOff(/^Pay$/), true);
    assert.equal(await isOff(/^Cancel$/), true);
  });

  it('sees a decline, in its own look', async () => {
    await press(/Declined card/);
    await waitForText('.kiosk-chosen', 'Declined card');
    await press(/^Pay$/);
    await waitForText(progress(), 'Payment declined');
    await waitForText(result(), /Not paid \(declined\)/);
    await waitLook(result(), 'declined');
    await waitLook(progress(), 'declined');
    looks.declined = await lookOf(result());
    // Approved, declined and cancelled each look their own (colour and background).
    const shown = Object.values(looks).map((l) => `${l.color} on ${l.background}`);
    assert.equal(new Set(shown).size, 3, shown.join(' | '));
  });

  it('the editor: the sale node\'s Progress box sets its outputs (2 ticked, 1 unticked) and the receipt width is offered', async () => {
    const editor = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    try {
      await editor.goto(red.url, { waitUntil: 'domcontentloaded' });
      await editor.waitForSelector('.red-ui-palette-node', { timeout: 45_000 });
      await editor.waitForFunction(() => (globalThis as unknown as { RED: { nodes: { node(id: string): unknown } } }).RED.nodes.node('wonder_dash_sale') != null, undefined, { timeout: 60_000 });
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
    // The example's terminal is the LAN simulator here: the answer is timed as it leaves the terminal.
    answeredAt.length = 0;
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
