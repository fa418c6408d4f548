import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { minorToAmount } from '../lib/ledger';
import { startNodeRed, type NodeRedProcess } from './helpers/node-red-process';
import { bulkLedger, type BulkExpected } from './helpers/ledger-fixture';
import { accessToken, adminAuthSettings } from './helpers/admin-auth';

const DAY = 86_400_000;
const PAYMENTS = 100_000;
const READERS = 80;
/** Issue 22: whatever read-only users ask, Node-RED's memory grows by at most 50 MB. */
const MAX_GROWTH_MB = 50;

/** The resident memory of a process (MB), from /proc. */
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

describe('the admin API under 80 read-only users at once (real Node-RED, 512 MB heap, 100,000 payments)', function () {
  this.timeout(300_000);
  let dir: string;
  let red: NodeRedProcess | undefined;

  after(async () => {
    await red?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('80 parallel totals of distinct periods: each exact, Node-RED grows by at most 50 MB; one user\'s second heavy read meanwhile is answered 429 with Retry-After', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-admin-memory-'));
    const userDir = path.join(dir, 'user');
    const start = Date.UTC(2026, 9, 1);
    const terminals = Array.from({ length: 20 }, (_, i) => ({ name: `lan-10.0.1.${i}-8443` }));
    const { expected } = bulkLedger(path.join(userDir, 'wonder-ecr', 'ledger.db'), { payments: PAYMENTS, terminals, start, spanMs: 60 * DAY });
    const password = crypto.randomBytes(12).toString('hex');
    red = await startNodeRed({
      flows: [{ id: 't', type: 'wonder-terminal', name: 'sim', transport: 'simulator', timeout: '30' }],
      userDir,
      settings: adminAuthSettings(dir, password, {}, READERS),
      env: { NODE_OPTIONS: '--max-old-space-size=512' },
    });
    const url = red.url;
    const tokens: string[] = [];
    for (let i = 1; i <= READERS; i++) tokens.push(await accessToken(url, `reader${i}`, password));
    const get = (i: number, route: string) => fetch(`${url}${route}`, { headers: { authorization: `Bearer ${tokens[i]}` } });
    const pid = red.child.pid!;
    const before = rssMb(pid);

    // 80 users, each the totals of its own period (from a day to the 60 days, each a distinct `from`), all at once.
    const periods = tokens.map((_, i) => ({ from: start + (i % 40) * DAY + i * 60_000, to: start + 60 * DAY }));
    let peak = before;
    let sampling = true;
    // A sampler of the process's memory every 20 ms while the reads run (a measurement, not a wait).
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, rssMb(pid));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const answers = await Promise.all(
      periods.map(async (p, i) => {
        const res = await get(i, `/wonder-ecr/totals?from=${new Date(p.from).toISOString()}&to=${new Date(p.to).toISOString()}`);
        return { status: res.status, body: (await res.json()) as { totals: Array<Record<string, any>> } };
      }),
    );
    sampling = false;
    await sampler;
    const growth = peak - before;
    console.log(`      RSS ${before.toFixed(0)} MB before, ${peak.toFixed(0)} MB at most during 80 parallel totals (+${growth.toFixed(1)} MB)`);
    for (const [i, a] of answers.entries()) {
      assert.equal(a.status, 200);
      const want: Map<string, BulkExpected> = expected(periods[i]!.from, periods[i]!.to);
      assert.equal(a.body.totals.length, want.size);
      for (const row of a.body.totals) {
        const x = want.get(row.terminal)!;
        assert.deepEqual([row.sales.count, row.sales.amount, row.voids.amount, row.net], [x.sales.count, minorToAmount(x.sales.minor), minorToAmount(x.voids.minor), minorToAmount(x.net)], `${row.terminal} from ${periods[i]!.from}`);
      }
    }
    assert.ok(growth <= MAX_GROWTH_MB, `Node-RED grew by ${growth.toFixed(1)} MB (at most ${MAX_GROWTH_MB})`);

    // One user, two heavy reads at once: while the CSV of all 100,000 streams (its headers come first), the second is refused at once, with when to ask again.
    const streaming = await get(0, '/wonder-ecr/journal?format=csv');
    assert.equal(streaming.status, 200);
    const refused = await get(0, '/wonder-ecr/totals');
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(((await refused.json()) as { code: string }).code, 'E_BUSY');
    const csv = await streaming.text();
    const db = new DatabaseSync(path.join(userDir, 'wonder-ecr', 'ledger.db'), { readOnly: true });
    const rows = (db.prepare('SELECT count(*) AS n FROM payments').get() as { n: number }).n;
    db.close();
    assert.ok(rows > PAYMENTS);
    assert.equal(csv.split('\r\n').length, rows + 2, 'a header, every payment (voids too), a last line end');
    // Another user meanwhile is not refused; the same user after is not either.
    assert.equal((await get(1, '/wonder-ecr/totals')).status, 200);
    assert.equal((await get(0, '/wonder-ecr/totals')).status, 200);
  });
});
