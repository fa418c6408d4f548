import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { SIMULATOR_AMOUNTS } from '../lib/simulator';
import { nodeRedVersion } from './helpers/node-red-install';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { adminAuthSettings } from './helpers/admin-auth';

const root = path.resolve(__dirname, '..', '..');
const TERMINAL = 'wonder_example_terminal';
/** The sidebar's refresh interval in these tests (settings.js wonderEcr.sidebarRefreshSeconds; 5 s by default). */
const REFRESH_SECONDS = 1;
/** A terminal name with HTML in it: the sidebar must show it as text, never run it. */
const NAME = 'Kiosk <img src=x onerror="window.__wonderXss=1"> & "front"';
const catalog = (lang: string) => JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, 'wonder-ecr-admin.json'), 'utf8'));
type Win = { RED: any; __wonderXss?: number };

describe(`the Wonder sidebar in Debian chromium (Node-RED ${nodeRedVersion()}, adminAuth)`, function () {
  this.timeout(180_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let dir: string;
  const password = crypto.randomBytes(12).toString('hex');
  /** The payment the first test leaves open; the second settles it with "check now". */
  let pendingRef = '';

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-editor-sidebar-'));
    const flows = (JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as Array<Record<string, unknown>>).map((n) =>
      n.id === TERMINAL ? { ...n, name: NAME, resolveTimeout: 1, pollInterval: 0.2 } : n,
    );
    red = await startNodeRed({ flows, settings: adminAuthSettings(dir, password, { wonderEcr: { sidebarRefreshSeconds: REFRESH_SECONDS } }) });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Takes a payment through the flow (the HTTP checkout example's endpoint), as the kiosk would. */
  async function checkout(amount: string): Promise<{ result: string; referenceID: string; code?: string }> {
    const res = await fetch(`${red.url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount, currency: 'HKD' }) });
    return (await res.json()) as { result: string; referenceID: string; code?: string };
  }

  /**
   * Opens the Wonder tab as a user does. Node-RED 5: its button in the sidebar's tab bar.
   * Node-RED 4.1: its icon in the tab strip when there is room, else the strip's ▾ menu.
   */
  async function openTabByHand(page: Page): Promise<void> {
    const button = page.locator('button[data-tab-id="wonder-ecr"]');
    if ((await button.count()) > 0) return button.click();
    const icon = page.locator('#red-ui-tab-wonder-ecr-link-button');
    if (await icon.isVisible()) return icon.click();
    const strip = page.locator('#red-ui-tab-wonder-ecr a');
    if (await strip.isVisible()) return strip.click();
    await page.locator('#red-ui-sidebar .red-ui-tab-link-button-menu').click();
    await page.locator('#red-ui-tabs-menu-option-wonder-ecr').click();
  }

  /** A fresh browser context in `locale`, logged in through the editor's login dialog, with the Wonder tab opened by its tab button. */
  async function wonderTab(username: string, locale: string): Promise<Page> {
    const context = await browser.newContext({ locale, viewport: { width: 1500, height: 1000 }, acceptDownloads: true });
    const page = await context.newPage();
    page.on('pageerror', (err) => assert.fail(`error in the editor: ${err.message}`));
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('#node-dialog-login-username', { timeout: 45_000 });
    await page.fill('#node-dialog-login-username', username);
    await page.fill('#node-dialog-login-password', password);
    await page.click('#node-dialog-login-submit');
    await page.waitForSelector('.red-ui-palette-node', { timeout: 45_000 });
    // The editor may reopen the tab the user had last (saved in the user's settings): a click on
    // the button of a tab already shown closes it in Node-RED 5, so click only while it is hidden.
    const shown = page.locator('.wonder-ecr-sidebar .wonder-ecr-terminal').first();
    await page.waitForSelector('button[data-tab-id="wonder-ecr"], #red-ui-tab-wonder-ecr', { state: 'attached', timeout: 20_000 });
    for (let attempt = 0; !(await shown.isVisible()); attempt++) {
      assert.ok(attempt < 3, 'the Wonder tab does not show');
      await openTabByHand(page);
      await shown.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => undefined);
    }
    return page;
  }

  it('a read-only user in Traditional Chinese sees the terminal, its open payment and no "check now"', async () => {
    const pending = await checkout(SIMULATOR_AMOUNTS.pendingThenApprove);
    assert.equal(pending.code, 'E_PENDING');
    const zh = catalog('zh-TW');
    const page = await wonderTab('reader', 'zh-TW');
    try {
      const texts = await page.locator('.wonder-ecr-sidebar h3').allInnerTexts();
      assert.deepEqual(texts.map((t) => t.trim()), [zh.terminals.title, zh.open.title, zh.recent.title, zh.totals.title, zh.export.title]);
      await page.waitForSelector(`.wonder-ecr-open-table tr[data-reference="${pending.referenceID}"]`, { timeout: 20_000 });
      assert.equal(await page.locator('.wonder-ecr-check').count(), 0, 'a read-only user is offered "check now"');
      assert.equal((await page.locator('.wonder-ecr-open-count').innerText()).trim(), '1');
      assert.equal((await page.locator('.wonder-ecr-simulated-badge').innerText()).trim(), zh.terminal.simulatedBadge);
    } finally {
      await page.context().close();
    }
    pendingRef = pending.referenceID;
  });

  it('an administrator sees the terminal (escaped), checks the open payment, takes a sale, sees it in recent payments and today\'s totals, downloads the CSV and the support bundle', async () => {
    const en = catalog('en-US');
    const page = await wonderTab('admin', 'en-US');
    try {
      // The terminal: its name as text (the HTML in it never runs), transport, link, counters.
      const card = page.locator(`.wonder-ecr-terminal[data-terminal="${TERMINAL}"]`);
      assert.equal((await card.locator('.wonder-ecr-name').innerText()).trim(), NAME);
      assert.equal(await page.locator('.wonder-ecr-sidebar img').count(), 0);
      assert.equal(await page.evaluate(() => (globalThis as unknown as Win).__wonderXss), undefined);
      assert.match(await card.innerText(), /simulator/);
      assert.equal((await card.locator('.wonder-ecr-state').innerText()).trim(), 'ready');
      // A simulator: said beside its name and in its own row (no real payment is taken there).
      assert.equal((await card.locator('.wonder-ecr-simulated-badge').innerText()).trim(), en.terminal.simulatedBadge);
      assert.equal((await card.locator('dd.wonder-ecr-simulated').innerText()).trim(), en.terminal.simulatedText);
      assert.match(await card.locator('.wonder-ecr-counters').innerText(), new RegExp(`${en.counters.crcErrors} 0`));

      // "Check now" on the open payment (before any new sale, which would settle it first): asked until the simulated terminal has settled it.
      const pending = pendingRef;
      assert.notEqual(pending, '', 'the first test left a payment open');
      const openRow = page.locator(`.wonder-ecr-open-table tr.wonder-ecr-main[data-reference="${pending}"]`);
      await openRow.waitFor({ timeout: 20_000 });
      const deadline = Date.now() + 30_000;
      while ((await page.locator('.wonder-ecr-open .wonder-ecr-message').count()) === 0) {
        assert.ok(Date.now() < deadline, `still open: ${await page.innerText('.wonder-ecr-check-status')}`);
        const button = openRow.locator('.wonder-ecr-check');
        if ((await button.count()) === 1 && (await button.isEnabled())) {
          await button.click();
          // Until the answer is shown (the status no longer says it is asking).
          await page.waitForFunction((asking) => !(document.querySelector('.wonder-ecr-check-status')?.textContent ?? '').startsWith(asking), en.open.checking.split('__')[0], { timeout: 30_000 });
        }
        await page.waitForFunction(() => document.querySelector('.wonder-ecr-check:not([disabled])') !== null || document.querySelector('.wonder-ecr-open .wonder-ecr-message') !== null, undefined, { timeout: 20_000 });
      }
      assert.equal((await page.innerText('.wonder-ecr-open .wonder-ecr-message')).trim(), en.open.none);
      assert.match(await page.innerText('.wonder-ecr-check-status'), new RegExp(`${pending} settled: Success`));
      await page.waitForFunction(() => document.querySelector('.wonder-ecr-open-count')?.textContent === '0', undefined, { timeout: 20_000 });

      // A sale through the flow appears in recent payments and in today's totals (with the one settled above) at the next refresh.
      const sale = await checkout('10.20');
      assert.equal(sale.result, 'Success');
      const row = page.locator(`.wonder-ecr-recent-table tr.wonder-ecr-main[data-reference="${sale.referenceID}"]`);
      await row.waitFor({ timeout: 20_000 });
      // A refresh made while the sale was in flight shows it open; the next one after its outcome shows it approved.
      await page.waitForFunction(
        ([ref, approved]) => Array.from(document.querySelectorAll(`.wonder-ecr-recent-table tr.wonder-ecr-main[data-reference="${ref}"] td`)).some((td) => td.textContent?.trim() === approved),
        [sale.referenceID, en.result.approved] as const,
        { timeout: 20_000 },
      );
      assert.deepEqual((await row.locator('td').allInnerTexts()).slice(1).map((t) => t.trim()), [en.action.Sale, '10.20', 'HKD', en.result.approved]);
      const total = page.locator('.wonder-ecr-total[data-currency="HKD"]');
      await page
        .waitForFunction(() => document.querySelector('.wonder-ecr-total[data-currency="HKD"] .wonder-ecr-total-sales-amount')?.textContent === '910.22', undefined, { timeout: 20_000 })
        .catch(async (err: Error) => assert.fail(`${err.message}; totals shown: ${await page.innerText('.wonder-ecr-totals')}`));
      assert.equal((await total.locator('.wonder-ecr-total-sales-count').innerText()).trim(), '2');
      assert.equal((await total.locator('.wonder-ecr-total-unknown-count').innerText()).trim(), '0');
      assert.equal((await total.locator('.wonder-ecr-total-net-amount').innerText()).trim(), '910.22');

      // Filter: declined only hides the sale.
      await page.selectOption('.wonder-ecr-filter-result', 'declined');
      await page.waitForSelector(`.wonder-ecr-recent-table tr[data-reference="${sale.referenceID}"]`, { state: 'detached', timeout: 20_000 });
      await page.selectOption('.wonder-ecr-filter-result', '');
      await row.waitFor({ timeout: 20_000 });

      // The CSV of today, downloaded as the user would.
      const [csv] = await Promise.all([page.waitForEvent('download'), page.click('.wonder-ecr-export')]);
      // Today only (the export's default period): one date in the name.
      assert.match(csv.suggestedFilename(), /^wonder-ecr-\d{4}-\d{2}-\d{2}\.csv$/);
      const text = fs.readFileSync((await csv.path())!, 'utf8');
      assert.match(text.split(/\r?\n/)[0]!, /referenceID/);
      assert.ok(text.includes(sale.referenceID) && text.includes(pending), text);

      // The support bundle of the terminal.
      const [bundle] = await Promise.all([page.waitForEvent('download'), card.locator('.wonder-ecr-bundle').click()]);
      assert.match(bundle.suggestedFilename(), /^wonder-ecr-support-wonder_example_terminal-.*\.json$/);
      const json = JSON.parse(fs.readFileSync((await bundle.path())!, 'utf8'));
      assert.equal(json.terminal.id, TERMINAL);
      assert.doesNotMatch(JSON.stringify(json), /260880/);
    } finally {
      await page.context().close();
    }
  });

  it('refreshes only while the tab is shown', async () => {
    const page = await wonderTab('admin', 'en-US');
    try {
      const asked: number[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/wonder-ecr/terminals')) asked.push(Date.now());
      });
      // Shown: two refreshes come by themselves.
      const deadline = Date.now() + 20_000;
      while (asked.length < 2) {
        assert.ok(Date.now() < deadline, 'no refresh while shown');
        await page.waitForRequest((r) => r.url().includes('/wonder-ecr/terminals'), { timeout: 20_000 });
      }
      // Hidden (another tab shown): nothing asked for two refresh intervals (no event marks an absence: the time is the test).
      await page.evaluate(() => (globalThis as unknown as Win).RED.sidebar.show('info'));
      await page.waitForSelector('.wonder-ecr-sidebar', { state: 'hidden' });
      const hiddenAt = Date.now();
      await page.waitForTimeout(2.5 * REFRESH_SECONDS * 1000);
      assert.deepEqual(asked.filter((t) => t > hiddenAt + 200), [], 'asked while hidden');
      // Shown again: asked at once.
      const again = page.waitForRequest((r) => r.url().includes('/wonder-ecr/terminals'), { timeout: 5_000 });
      await page.evaluate(() => (globalThis as unknown as Win).RED.sidebar.show('wonder-ecr'));
      await again;
    } finally {
      await page.context().close();
    }
  });
});
