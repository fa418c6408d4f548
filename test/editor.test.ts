import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { editNode, launchChromium } from './helpers/browser';
import { nodeRedVersion } from './helpers/node-red-install';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';

const root = path.resolve(__dirname, '..', '..');

describe('editor in a real browser (Debian chromium)', function () {
  this.timeout(90_000);
  let red: NodeRedProcess;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const flows = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as unknown[];
    red = await startNodeRed({ flows });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
    await page.goto(red.url, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.red-ui-palette-node', { timeout: 45_000 });
  });

  after(async () => {
    await browser?.close();
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  it('the editor is the Node-RED under test (each npm test leg picks one)', async () => {
    const version = await page.evaluate(() => (globalThis as unknown as { RED: { settings: { version: string } } }).RED.settings.version);
    // Node-RED adds '-git' to its version when a .git sits beside its node_modules (this repository's own install).
    assert.equal(version.replace(/-git$/, ''), nodeRedVersion());
  });

  it('the palette shows every Wonder node and the EasyCard retry node in the payments category', async () => {
    for (const type of ['wonder-sale', 'wonder-refund', 'wonder-void', 'wonder-status', 'wonder-abort', 'wonder-device-info', 'wonder-pair', 'easycard-retry']) {
      const entry = page.locator(`#red-ui-palette-payments .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await entry.count(), 1, `${type} in the palette`);
    }
    const label = await page.locator('.red-ui-palette-node[data-palette-type="wonder-sale"] .red-ui-palette-label').innerText();
    assert.equal(label.trim(), 'sale');
  });

  it('the flow is drawn and the screenshot is taken for the README', async () => {
    await page.waitForSelector('.red-ui-flow-node-group', { timeout: 20_000 });
    const shot = path.join(os.tmpdir(), 'wonder-editor.png');
    await page.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 10_000);
    if (process.env.WONDER_SCREENSHOT) fs.copyFileSync(shot, process.env.WONDER_SCREENSHOT);
  });

  it('the terminal dialog opens from the sale node, and Pair against the simulator shows the device SN', async () => {
    await editNode(page, 'wonder_checkout_sale');
    await page.waitForSelector('#node-input-terminal', { state: 'attached' });
    await page.click('#node-input-btn-terminal-edit');
    await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
    assert.equal(await page.inputValue('#node-config-input-transport'), 'simulator');
    await page.fill('#node-config-input-pairingCode', '260880');
    await page.click('#wonder-pair-button');
    await page.waitForFunction(() => /SIM-WONDER-0001/.test(document.querySelector('#wonder-pair-result')?.textContent ?? ''), undefined, { timeout: 20_000 });
    const text = await page.innerText('#wonder-pair-result');
    assert.match(text, /SIM-WONDER-0001/);
    assert.match(text, /1\.0\.0\(sim\)/);
  });

  it('a wrong pairing code gives a clear message, not a spinner', async () => {
    await page.fill('#node-config-input-pairingCode', '111111');
    await page.click('#wonder-pair-button');
    await page.waitForFunction(() => document.querySelector('#wonder-pair-result')?.classList.contains('wonder-error') === true, undefined, { timeout: 20_000 });
    const text = await page.innerText('#wonder-pair-result');
    assert.match(text, /pairing code/i);
    assert.doesNotMatch(text, /111111/);
  });

  it('credentials stay out of the exported flow and of flows.json', async () => {
    // Deploy the terminal with a pairing code through the editor's own API.
    const flows = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as Array<Record<string, unknown>>;
    const terminal = flows.find((n) => n.type === 'wonder-terminal')!;
    terminal.credentials = { pairingCode: '260880' };
    const deploy = await fetch(`${red.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows),
    });
    assert.equal(deploy.status, 204);
    const exported = await (await fetch(`${red.url}/flows`)).text();
    assert.ok(exported.includes('wonder-terminal'));
    assert.ok(!exported.includes('260880'), 'pairing code in the exported flow');
    const onDisk = fs.readFileSync(path.join(red.userDir, 'flows.json'), 'utf8');
    assert.ok(!onDisk.includes('260880'), 'pairing code in flows.json');
    const creds = fs.readFileSync(path.join(red.userDir, 'flows_cred.json'), 'utf8');
    assert.ok(!creds.includes('260880'), 'pairing code stored unencrypted');
    assert.ok(!red.output().includes('260880'), 'pairing code in the log');
  });

  it('a pairing code of the wrong length is flagged in the dialog', async () => {
    await page.fill('#node-config-input-pairingCode', '12');
    await page.locator('#node-config-input-pairingCode').blur();
    await page.waitForFunction(() => document.querySelector('#node-config-input-pairingCode')?.classList.contains('input-error') === true, undefined, { timeout: 5_000 });
  });

  it('a new terminal has no transport until one is chosen (flagged, with a hint); a LAN one over plain HTTP is warned about in its dialog', async () => {
    // A fresh editor: the dialogs the tests above left open are gone.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.red-ui-palette-node', { timeout: 45_000 });
    await editNode(page, 'wonder_checkout_sale');
    // "Add new wonder-terminal config node", as a person does: the + beside the terminal list.
    await page.click('#node-input-btn-terminal-add');
    await page.waitForSelector('#node-config-input-transport', { state: 'visible' });
    const visible = (id: string) => page.isVisible(id);
    assert.equal(await page.inputValue('#node-config-input-transport'), '', 'a new terminal defaults to no transport');
    assert.equal(await visible('#wonder-transport-hint'), true);
    assert.match(await page.innerText('#wonder-transport-hint'), /choose/i);
    assert.equal(await visible('#wonder-simulator-hint'), false);
    // Flagged until one is chosen; Done would save an invalid node (Node-RED marks it), never a simulator.
    await page.locator('#node-config-input-transport').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelector('#node-config-input-transport')?.classList.contains('input-error') === true, undefined, { timeout: 5_000 });

    // LAN without HTTPS, a CA file or a pin: warned; each of those takes the warning away.
    await page.selectOption('#node-config-input-transport', 'lan');
    await page.waitForFunction(() => document.querySelector('#node-config-input-transport')?.classList.contains('input-error') === false, undefined, { timeout: 5_000 });
    assert.equal(await visible('#wonder-transport-hint'), false);
    assert.equal(await visible('#wonder-lan-plain-hint'), true);
    assert.match(await page.innerText('#wonder-lan-plain-hint'), /plain HTTP/i);
    await page.check('#node-config-input-https');
    assert.equal(await visible('#wonder-lan-plain-hint'), false, 'HTTPS ticked');
    await page.uncheck('#node-config-input-https');
    assert.equal(await visible('#wonder-lan-plain-hint'), true);
    await page.fill('#node-config-input-tlsFingerprint', '3F:A2:'.repeat(1) + 'AB:'.repeat(29) + '9C');
    assert.equal(await visible('#wonder-lan-plain-hint'), false, 'a certificate pin given');
    await page.fill('#node-config-input-tlsFingerprint', '');
    await page.fill('#node-config-input-caFile', '/etc/terminal-ca.pem');
    assert.equal(await visible('#wonder-lan-plain-hint'), false, 'a CA file given');
    // The simulator, chosen: said to take no real payment; no LAN warning.
    await page.selectOption('#node-config-input-transport', 'simulator');
    assert.equal(await visible('#wonder-lan-plain-hint'), false);
    assert.equal(await visible('#wonder-simulator-hint'), true);
    assert.match(await page.innerText('#wonder-simulator-hint'), /no real payment/i);
    await page.click('#node-config-dialog-cancel');
    await page.click('#node-dialog-cancel');
  });
});
