import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canonicalHost, PAIR_ENTRY_TTL_MS, PAIR_MAX_CONCURRENT, PAIR_MAX_ENTRIES, PAIR_MAX_LOCK_MS, PAIR_USER_FREE_FAILURES, PairLimiter, pairTargetKey } from '../nodes/common/pair-guard';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveLan, type LanServer } from '../lib/simulator/servers';

const root = path.resolve(__dirname, '..', '..');

describe("the Pair endpoint's wrong-code lock", function () {
  this.timeout(60_000);

  describe('keyed on the terminal as the transport reaches it (canonical spelling, literal only)', () => {
    it('one host, many spellings: case, brackets, trailing dot, IPv6 forms, IPv4 shorthand and hex', () => {
      for (const h of ['Terminal.Shop.Example', 'terminal.shop.example.', ' TERMINAL.shop.example ']) assert.equal(canonicalHost(h), 'terminal.shop.example');
      for (const h of ['::1', '[::1]', '0:0:0:0:0:0:0:1', '0000::0001']) assert.equal(canonicalHost(h), '::1');
      for (const h of ['2001:DB8::1', '2001:0db8:0:0:0:0:0:1', '[2001:db8::1]']) assert.equal(canonicalHost(h), '2001:db8::1');
      for (const h of ['127.0.0.1', '127.1', '0x7f.0.0.1', '2130706433', '::ffff:127.0.0.1', '[::FFFF:7f00:1]']) assert.equal(canonicalHost(h), '127.0.0.1', h);
      // A zone is kept (another interface, another terminal); nothing throws on odd input.
      assert.equal(canonicalHost('FE80:0::1%eth0'), 'fe80::1%eth0');
      assert.equal(canonicalHost('[fe80::1%25eth0]'), 'fe80::1%eth0');
      for (const odd of ['', 'a b', '1.2.3.4.5', '[::1', '%']) assert.equal(typeof canonicalHost(odd), 'string');
      // Literal only: nothing is resolved.
      assert.equal(canonicalHost('LocalHost'), 'localhost');
      assert.notEqual(canonicalHost('localhost'), canonicalHost('127.0.0.1'));
    });

    it('LAN: canonical host and numeric port (8443 when none); serial: the port path; cloud: the business', () => {
      const lan = (host: string, port?: string | number) => pairTargetKey({ transport: 'lan', host, ...(port === undefined ? {} : { port }) });
      assert.equal(lan('10.0.0.5', '8443'), lan('10.0.0.5'));
      assert.equal(lan('10.0.0.5', '08443'), lan('10.0.0.5', 8443));
      assert.equal(lan('10.0.0.5', ' 8443 '), lan('010.0.0.5'.replace(/^0/, ''), 8443));
      assert.notEqual(lan('10.0.0.5', 8444), lan('10.0.0.5', 8443));
      assert.equal(lan('[::1]', 9000), lan('0:0::1', '9000'));
      assert.equal(pairTargetKey({ transport: 'serial', serialPort: '/dev//ttyUSB0/' }), pairTargetKey({ transport: 'serial', serialPort: '/dev/./ttyUSB0' }));
      assert.equal(pairTargetKey({ transport: 'cloud', businessId: 'Shop-1', deviceSn: 'SN01 ' }), pairTargetKey({ transport: 'cloud', businessId: 'shop-1', deviceSn: 'sn01' }));
      // With and without the device SN (the dialog learns it on pairing), with another SN: one account, one count.
      const cloud = pairTargetKey({ transport: 'cloud', businessId: 'b1' });
      assert.equal(pairTargetKey({ transport: 'cloud', businessId: 'B1 ', deviceSn: 'sn1' }), cloud);
      assert.equal(pairTargetKey({ transport: 'cloud', businessId: 'b1', deviceSn: 'SN02' }), cloud);
      assert.notEqual(pairTargetKey({ transport: 'cloud', businessId: 'b2', deviceSn: 'sn1' }), cloud);
    });

    it('serial: a symlink (/dev/serial/by-id/…) and the device it points to are one port (real folders and links)', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-pairserial-'));
      try {
        const device = path.join(dir, 'ttyUSB0');
        fs.writeFileSync(device, '');
        fs.mkdirSync(path.join(dir, 'by-id'));
        const byId = path.join(dir, 'by-id', 'usb-Wonder_Terminal_0001-if00-port0');
        fs.symlinkSync('../ttyUSB0', byId);
        const serial = (serialPort: string) => pairTargetKey({ transport: 'serial', serialPort });
        assert.equal(serial(byId), serial(device));
        assert.equal(serial(`${path.join(dir, 'by-id')}//./${path.basename(byId)}/`), serial(device));
        assert.equal(serial(device), `serial ${fs.realpathSync(device)}`);
        // A path that does not exist (a port unplugged): keyed as given, normalised.
        assert.equal(serial(`${dir}/gone//ttyUSB9/`), `serial ${dir}/gone/ttyUSB9`);
        assert.notEqual(serial(path.join(dir, 'ttyUSB9')), serial(device));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('the limiter (an injected clock)', () => {
    let now = 0;
    const clock = () => now;
    const fail = (l: PairLimiter, key: string) => {
      assert.equal(l.begin(key), undefined);
      l.end(key, true);
    };

    it('three wrong codes are free, then each further attempt waits 1 s, 2 s, 4 s … up to 5 minutes; a success clears it', () => {
      now = 0;
      const l = new PairLimiter(clock);
      const k = PairLimiter.key('anonymous', 'lan 10.0.0.5 8443');
      for (let i = 0; i < 3; i++) fail(l, k);
      assert.equal(l.begin(k), 1000);
      now += 1000;
      fail(l, k);
      assert.equal(l.begin(k), 2000);
      for (let i = 0; i < 20; i++) {
        now += 10 * 60_000;
        fail(l, k);
      }
      assert.equal(l.begin(k), 5 * 60_000);
      now += 5 * 60_000;
      assert.equal(l.begin(k), undefined);
      l.end(k, false);
      assert.equal(l.size, 0);
    });

    it('one attempt at a time per key, and at most PAIR_MAX_CONCURRENT at once in all', () => {
      now = 0;
      const l = new PairLimiter(clock);
      const keys = Array.from({ length: PAIR_MAX_CONCURRENT + 1 }, (_, i) => PairLimiter.key('anonymous', `lan 10.0.0.${i} 8443`));
      assert.equal(l.begin(keys[0]!), undefined);
      assert.equal(l.begin(keys[0]!), 0, 'a second attempt at the same terminal while one runs');
      for (const k of keys.slice(1, PAIR_MAX_CONCURRENT)) assert.equal(l.begin(k), undefined);
      assert.equal(l.begin(keys[PAIR_MAX_CONCURRENT]!), 1000, 'one more than the cap started');
      l.end(keys[0]!, true);
      assert.equal(l.begin(keys[PAIR_MAX_CONCURRENT]!), undefined);
    });

    it('entries idle for an hour are dropped; a lock in force is never dropped to make room', () => {
      now = 0;
      const l = new PairLimiter(clock);
      const locked = PairLimiter.key('anonymous', 'lan 10.0.0.5 8443');
      for (let i = 0; i < 3; i++) fail(l, locked);
      fail(l, PairLimiter.key('anonymous', 'lan 10.0.0.6 8443'));
      assert.equal(l.size, 2);
      now += PAIR_ENTRY_TTL_MS;
      assert.equal(l.begin(PairLimiter.key('anonymous', 'lan 10.0.0.7 8443')), undefined);
      assert.equal(l.size, 1, 'the idle entries were kept');
      // Filled with locks in force: a new key is refused, the locks stay.
      const full = new PairLimiter(clock);
      // One user per terminal here: one user's 30,000 failures would lock that user everywhere (next test).
      const key = (i: number | string) => PairLimiter.key(`user ${i}`, `t${i}`);
      for (let i = 0; i < PAIR_MAX_ENTRIES; i++) {
        const k = key(i);
        for (let j = 0; j < 3; j++) fail(full, k);
      }
      assert.equal(full.size, PAIR_MAX_ENTRIES);
      assert.equal(full.begin(key('new')), 1000);
      assert.equal(full.begin(key(0)), 1000, 'the first lock was pushed out');
      assert.equal(full.begin(key(PAIR_MAX_ENTRIES - 1)), 1000, 'the last lock was pushed out');
      // Once they lapse, the oldest idle ones make room; a key in use keeps its count.
      now += 60_000;
      const kept = key(5);
      assert.equal(full.begin(kept), undefined);
      full.end(kept, true);
      assert.equal(full.begin(key('new')), undefined);
      assert.equal(full.begin(kept), 2000, 'the key in use lost its count to make room');
      assert.ok(full.size <= PAIR_MAX_ENTRIES);
    });
  });

  describe("one user's failures across all terminals (DNS aliases of one terminal gain nothing)", () => {
    let now = 0;
    const clock = () => now;
    const attempt = (l: PairLimiter, key: string, failed: boolean) => {
      assert.equal(l.begin(key), undefined);
      l.end(key, failed);
    };
    /** nip.io-style names: each resolves to the one terminal, each a target of its own. */
    const alias = (i: number) => pairTargetKey({ transport: 'lan', host: `10-0-0-5-${i}.nip.io` });

    it('10 wrong codes at 10 aliases lock that user at every terminal, 1 s, 2 s, 4 s … up to 5 minutes; another user goes on', () => {
      now = 0;
      const l = new PairLimiter(clock);
      assert.notEqual(alias(1), alias(2), 'aliases are separate targets (nothing is resolved)');
      for (let i = 0; i < PAIR_USER_FREE_FAILURES; i++) attempt(l, PairLimiter.key('user alice', alias(i)), true);
      // Each alias saw one failure only (free), yet a fresh alias and a real other terminal wait.
      assert.equal(l.begin(PairLimiter.key('user alice', alias(99))), 1000);
      assert.equal(l.begin(PairLimiter.key('user alice', pairTargetKey({ transport: 'cloud', businessId: 'b1' }))), 1000);
      assert.equal(l.begin(PairLimiter.key('user bob', alias(99))), undefined, 'bob is held up by alice');
      l.end(PairLimiter.key('user bob', alias(99)), false);
      now += 1000;
      attempt(l, PairLimiter.key('user alice', alias(100)), true);
      assert.equal(l.begin(PairLimiter.key('user alice', alias(101))), 2000);
      for (let i = 0; i < 20; i++) {
        now += 10 * 60_000;
        attempt(l, PairLimiter.key('user alice', alias(200 + i)), true);
      }
      assert.equal(l.begin(PairLimiter.key('user alice', alias(300))), PAIR_MAX_LOCK_MS);
    });

    it("a success at one terminal does not clear the user's count; an hour with no failure does", () => {
      now = 0;
      const l = new PairLimiter(clock);
      for (let i = 0; i < PAIR_USER_FREE_FAILURES - 1; i++) attempt(l, PairLimiter.key('anonymous', alias(i)), true);
      attempt(l, PairLimiter.key('anonymous', 'lan own-terminal 8443'), false);
      attempt(l, PairLimiter.key('anonymous', alias(50)), true);
      assert.equal(l.begin(PairLimiter.key('anonymous', alias(51))), 1000);
      now += PAIR_ENTRY_TTL_MS;
      attempt(l, PairLimiter.key('anonymous', alias(52)), true);
      // Counted afresh: one failure, nowhere near the lock.
      assert.equal(l.begin(PairLimiter.key('anonymous', alias(53))), undefined);
    });
  });

  describe('through the endpoint of a real Node-RED with two editor users (adminAuth) and a LAN terminal', () => {
    let red: NodeRedProcess;
    let lan: LanServer;
    let dir: string;
    const tokens = new Map<string, string>();
    const PASSWORD = 'pair-lock-test';

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-pairlock-'));
      lan = await serveLan(new SimulatedTerminal({ cardDelayMs: 0 }));
      const settings = path.join(dir, 'settings.js');
      fs.writeFileSync(
        settings,
        `const base = require(${JSON.stringify(path.join(root, 'demo', 'settings.js'))});
const user = (username) => (['alice', 'bob'].includes(username) ? { username, permissions: '*' } : null);
module.exports = { ...base, adminAuth: { type: 'credentials', users: async (u) => user(u), authenticate: async (u, p) => (p === ${JSON.stringify(PASSWORD)} ? user(u) : null) } };
`,
      );
      fs.mkdirSync(path.join(dir, 'user'), { mode: 0o700 });
      red = await startNodeRed({ flows: [], settings, userDir: path.join(dir, 'user') });
      for (const username of ['alice', 'bob']) {
        const res = await fetch(`${red.url}/auth/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope: '*', username, password: PASSWORD }).toString(),
        });
        assert.equal(res.status, 200);
        tokens.set(username, ((await res.json()) as { access_token: string }).access_token);
      }
    });
    after(async () => {
      await red?.stop();
      await lan?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const pair = async (user: string, id: string, host: string, port: string | number, code: string) => {
      const res = await fetch(`${red.url}/wonder-ecr/pair`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.get(user)}` },
        body: JSON.stringify({ id, config: { transport: 'lan', host, port }, pairingCode: code }),
      });
      return { status: res.status, body: (await res.json()) as { code?: string; ok?: boolean } };
    };

    it('a fresh id and another spelling of the host per guess are still locked; the other user is not; another terminal is not', async () => {
      const spellings = ['127.0.0.1', '127.1', '127.0.1'];
      for (let i = 0; i < 3; i++) {
        const r = await pair('alice', `fresh-${i}`, spellings[i]!, lan.port, '654321');
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.code, 'E_SECURITY');
      }
      const locked = await pair('alice', 'fresh-3', '0x7f.0.0.1', String(lan.port), '260880');
      assert.equal(locked.status, 429, JSON.stringify(locked.body));
      assert.equal(locked.body.code, 'E_RATE_LIMITED');
      // Bob, at the same terminal: his own count (alice's guesses do not lock him out).
      const bob = await pair('bob', 'fresh-4', '127.0.0.1', lan.port, '260880');
      assert.equal(bob.status, 200, JSON.stringify(bob.body));
      // Alice at another terminal (another port: nothing listens there) is not held up by the lock.
      const other = await pair('alice', 'fresh-5', '127.0.0.1', 1, '260880');
      assert.notEqual(other.status, 429, JSON.stringify(other.body));
    });
  });
});
