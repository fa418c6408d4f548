import { strict as assert } from 'node:assert';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from './helpers/browser';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';

/**
 * The demo (`npm start`'s settings, no adminAuth) and a web page the user
 * opens while it runs, served on another port of the same machine (another
 * origin, the same site): in Debian's chromium, the page can neither deploy
 * a flow (run code on the machine) nor post a checkout, by script or by form.
 */
const root = path.resolve(__dirname, '..', '..');

interface Seen {
  url: string;
  method: string;
  status: number;
}

describe('a page on another origin against the demo (a real browser, Debian chromium)', function () {
  this.timeout(90_000);
  let red: NodeRedProcess;
  let attacker: http.Server;
  let evil: string;
  let browser: Browser;
  let page: Page;
  const seen: Seen[] = [];

  /** What the other page does: scripts (fetch, with and without CORS) and forms that submit themselves. */
  const pages = (target: string): Record<string, string> => {
    const planted = JSON.stringify([{ id: 'planted_tab', type: 'tab', label: 'PLANTED' }, { id: 'planted_inject', type: 'inject', z: 'planted_tab', name: 'PLANTED', wires: [] }]);
    const sale = JSON.stringify({ amount: '7.00', currency: 'HKD', referenceID: 'xorigin-1' });
    const form = (action: string, fields: Record<string, string>, enctype = 'application/x-www-form-urlencoded') =>
      `<!doctype html><form method="post" enctype="${enctype}" action="${target}${action}">${Object.entries(fields)
        .map(([k, v]) => `<input type="hidden" name="${k}" value='${v.replace(/'/g, '&#39;')}'>`)
        .join('')}</form><script>document.forms[0].submit()</script>`;
    return {
      '/scripts': `<!doctype html><script>
        const target = ${JSON.stringify(target)};
        const tryIt = (name, p) => p.then((r) => name + ': ' + r.type + ' ' + r.status, (e) => name + ': rejected ' + e.name);
        const openSocket = (url) => new Promise((resolve, reject) => {
          const ws = new WebSocket(url);
          ws.onopen = () => { ws.close(); resolve({ type: 'websocket', status: 'open' }); };
          ws.onerror = () => reject(new Error('refused'));
        });
        window.results = Promise.all([
          tryIt('deploy (cors)', fetch(target + '/flows', { method: 'POST', headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' }, body: ${JSON.stringify(planted)} })),
          tryIt('deploy (no-cors)', fetch(target + '/flows', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(planted)} })),
          tryIt('read flows (cors)', fetch(target + '/flows')),
          tryIt('checkout (cors)', fetch(target + '/wonder/checkout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(sale)} })),
          tryIt('checkout (no-cors)', fetch(target + '/wonder/checkout', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(sale)} })),
          tryIt('editor websocket', openSocket(target.replace(/^http/, 'ws') + '/comms')),
        ]);
      </script>`,
      '/form-checkout': form('/wonder/checkout', { amount: '7.00', currency: 'HKD', referenceID: 'xorigin-1' }),
      '/form-checkout-text': form('/wonder/checkout', { '{"amount":"7.00","currency":"HKD","referenceID":"xorigin-1","x":"': '"}' }, 'text/plain'),
      '/form-deploy': form('/flows', { flows: planted }),
      '/links': `<!doctype html><a id="flow" href="${target}/xorigin/hit">a flow's GET endpoint</a> <a id="editor" href="${target}/">the editor</a>`,
    };
  };

  before(async () => {
    const flows = JSON.parse(fs.readFileSync(path.join(root, 'examples', 'http-checkout.json'), 'utf8')) as unknown[];
    // A flow's GET endpoint that acts (counts its hits), and one that tells the count.
    flows.push(
      { id: 'xorigin_tab', type: 'tab', label: 'GET endpoints' },
      { id: 'xorigin_hit', type: 'http in', z: 'xorigin_tab', url: '/xorigin/hit', method: 'get', wires: [['xorigin_count']] },
      { id: 'xorigin_count', type: 'function', z: 'xorigin_tab', func: "global.set('hits', (global.get('hits') || 0) + 1); msg.payload = 'hit'; return msg;", outputs: 1, wires: [['xorigin_res']] },
      { id: 'xorigin_hits', type: 'http in', z: 'xorigin_tab', url: '/xorigin/hits', method: 'get', wires: [['xorigin_read']] },
      { id: 'xorigin_read', type: 'function', z: 'xorigin_tab', func: "msg.payload = { hits: global.get('hits') || 0 }; return msg;", outputs: 1, wires: [['xorigin_res']] },
      { id: 'xorigin_res', type: 'http response', z: 'xorigin_tab', wires: [] },
    );
    red = await startNodeRed({ flows });
    let served: Record<string, string> = {};
    attacker = http.createServer((req, res) => {
      const body = served[req.url ?? ''];
      if (body === undefined) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/html' }).end(body);
    });
    attacker.listen(0, '127.0.0.1');
    await once(attacker, 'listening');
    evil = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
    served = pages(red.url);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('response', (res) => {
      if (res.url().startsWith(red.url)) seen.push({ url: res.url().slice(red.url.length), method: res.request().method(), status: res.status() });
    });
  });

  after(async () => {
    await browser?.close();
    attacker?.close();
    const code = await red?.stop();
    assert.ok(code === 0 || code === null, `Node-RED exit ${code}`);
  });

  const flowsNow = async () => (await (await fetch(`${red.url}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { rev: string; flows: Array<{ id: string; name?: string; label?: string }> };

  it('its scripts cannot deploy, read the flows or post a checkout: every request that reaches the demo is refused (403)', async () => {
    const before = await flowsNow();
    seen.length = 0;
    await page.goto(`${evil}/scripts`);
    const results = await page.evaluate(() => (globalThis as unknown as { results: Promise<string[]> }).results);
    // CORS requests fail in the page (no Access-Control-Allow-Origin); no-cors ones give an opaque answer.
    assert.deepEqual(results, ['deploy (cors): rejected TypeError', 'deploy (no-cors): opaque 0', 'read flows (cors): rejected TypeError', 'checkout (cors): rejected TypeError', 'checkout (no-cors): opaque 0', 'editor websocket: rejected Error']);
    // What the demo answered them (seen by the browser's own network layer).
    const posts = seen.filter((s) => s.method === 'POST' || s.method === 'GET');
    assert.ok(posts.some((s) => s.url === '/flows' && s.method === 'POST'), JSON.stringify(seen));
    assert.ok(posts.some((s) => s.url === '/wonder/checkout'), JSON.stringify(seen));
    assert.deepEqual(posts.filter((s) => s.status !== 403), [], JSON.stringify(seen));
    const after = await flowsNow();
    assert.equal(after.rev, before.rev, 'the flows were deployed');
    assert.ok(!after.flows.some((n) => n.id.startsWith('planted')), 'a planted node is in the flows');
  });

  it('its forms (url-encoded, text/plain) cannot post a checkout nor deploy: 403, the flows unchanged, no sale taken', async () => {
    const before = await flowsNow();
    for (const form of ['/form-checkout', '/form-checkout-text', '/form-deploy']) {
      seen.length = 0;
      const answered = page.waitForResponse((res) => res.url().startsWith(red.url) && res.request().method() === 'POST');
      await page.goto(`${evil}${form}`);
      const res = await answered;
      assert.equal(res.status(), 403, `${form}: ${res.status()}`);
      assert.equal(((await res.json()) as { code: string }).code, 'E_CROSS_ORIGIN');
    }
    assert.equal((await flowsNow()).rev, before.rev, 'the flows were deployed');
    // No sale under that reference went out: it is free for a sale of another amount.
    const sale = await fetch(`${red.url}/wonder/checkout`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ amount: '8.00', currency: 'HKD', referenceID: 'xorigin-1' }) });
    assert.equal(sale.status, 200, await sale.text());
  });

  it("its links: one to a flow's GET endpoint is refused (403, the flow never runs); one to the editor opens it", async () => {
    const hits = async () => ((await (await fetch(`${red.url}/xorigin/hits`)).json()) as { hits: number }).hits;
    await page.goto(`${evil}/links`);
    const refused = page.waitForResponse((res) => res.url() === `${red.url}/xorigin/hit`);
    await page.click('#flow');
    const res = await refused;
    assert.equal(res.status(), 403);
    assert.equal(((await res.json()) as { code: string }).code, 'E_CROSS_ORIGIN');
    await page.waitForURL(`${red.url}/xorigin/hit`);
    assert.equal(await hits(), 0, 'the flow ran');
    // The same endpoint typed into the address bar (no other site) runs the flow.
    const typed = await page.goto(`${red.url}/xorigin/hit`);
    assert.equal(typed?.status(), 200);
    assert.equal(await hits(), 1);
    // The editor, in a page of its own (it is heavy to load; the next test's page goes elsewhere).
    const editorPage = await browser.newPage();
    try {
      await editorPage.goto(`${evil}/links`);
      const opened = editorPage.waitForResponse((res) => res.url() === `${red.url}/`);
      await editorPage.click('#editor', { noWaitAfter: true });
      assert.equal((await opened).status(), 200);
    } finally {
      await editorPage.close();
    }
  });

  it("the demo's own pages still deploy and open the editor's websocket (same origin)", async () => {
    // A light page of the demo's own origin (the admin API's JSON; the editor itself is heavy to load).
    await page.goto(`${red.url}/flows`);
    const socket = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => {
            ws.close();
            resolve('open');
          };
          ws.onerror = () => resolve('refused');
        }),
      `${red.url.replace(/^http/, 'ws')}/comms`,
    );
    assert.equal(socket, 'open');
    const status = await page.evaluate(async () => {
      const current = (await (await fetch('/flows', { headers: { 'Node-RED-API-Version': 'v2' } })).json()) as { rev: string; flows: unknown[] };
      const res = await fetch('/flows', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify({ rev: current.rev, flows: current.flows }),
      });
      return res.status;
    });
    assert.equal(status, 200);
  });
});

describe('the demo guard: which navigations go on (refusal(), no browser)', () => {
  const { refusal } = require(path.join(root, 'demo', 'same-origin.js')) as { refusal: (req: unknown, names: Set<string>, allowNavigation?: boolean) => string | undefined };
  const names = new Set(['localhost']);
  const navigation = (method: string, site: string) => ({ method, headers: { host: '127.0.0.1:1880', 'sec-fetch-mode': 'navigate', 'sec-fetch-site': site }, protocol: 'http' });

  it("a link from another site opens the editor (admin middleware), never a flow's endpoint (node middleware)", () => {
    for (const method of ['GET', 'HEAD']) {
      for (const site of ['cross-site', 'same-site']) {
        assert.equal(refusal(navigation(method, site), names, true), undefined);
        assert.match(refusal(navigation(method, site), names) ?? '', /another site/);
        assert.match(refusal(navigation(method, site), names, false) ?? '', /another site/);
      }
      assert.equal(refusal(navigation(method, 'none'), names), undefined);
      assert.equal(refusal(navigation(method, 'same-origin'), names), undefined);
    }
    // A form posted from elsewhere is a navigation too: refused either way.
    assert.match(refusal(navigation('POST', 'cross-site'), names, true) ?? '', /another site/);
  });
});
