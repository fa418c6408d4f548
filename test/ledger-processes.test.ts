import { strict as assert } from 'node:assert';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { openLedger } from '../lib/ledger';
import { createTransport, terminalIdentity, TerminalSession } from '../lib/session';
import { serveLan, type LanServer } from '../lib/simulator/servers';
import { SIMULATOR_AMOUNTS, SimulatedTerminal } from '../lib/simulator/terminal';
import { until } from './helpers/wait';
import { committed, tempLedgerFile } from './helpers/ledger-files';

const CHILD = path.join(__dirname, 'helpers', 'ledger-child.js');

type Line = Record<string, any>;

/** The payment process (helpers/ledger-child): its answers as they come, and a way to wait for one. */
class Payer {
  readonly lines: Line[] = [];
  readonly child: ChildProcess;
  private readonly waiters: Array<() => void> = [];
  stderr = '';
  readonly exited: Promise<void>;

  constructor(file: string, ports: number[]) {
    this.child = spawn(process.execPath, [CHILD, file, ports.join(',')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    readline.createInterface({ input: this.child.stdout! }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Line);
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', () => resolve()));
  }

  send(command: string): void {
    this.child.stdin!.write(`${command}\n`);
  }

  /** Waits for an answer that `match` accepts (at most `ms`). */
  async next(what: string, match: (l: Line) => boolean, ms = 20_000): Promise<Line> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(this.lines.slice(-5))} ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Sets the child's file-size limit (RLIMIT_FSIZE) from outside: a full disk, and space back. */
function fileSizeLimit(pid: number, limit: string): void {
  // The soft limit alone (`soft:`): an unprivileged process may raise it again up to the hard one.
  execFileSync('prlimit', ['--pid', String(pid), `--fsize=${limit}:`]);
}


describe('the ledger in real processes (SIGKILL, a full disk, a swapped terminal)', function () {
  this.timeout(90_000);
  let terminals: SimulatedTerminal[] = [];
  let servers: LanServer[] = [];
  const payers: Payer[] = [];

  async function start(n: number, options: ConstructorParameters<typeof SimulatedTerminal>[0] = {}): Promise<number[]> {
    terminals = Array.from({ length: n }, () => new SimulatedTerminal({ cardDelayMs: 0, ...options }));
    servers = await Promise.all(terminals.map((t) => serveLan(t)));
    return servers.map((s) => s.port);
  }

  afterEach(async () => {
    for (const p of payers.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    for (const t of terminals) t.stop();
    await Promise.all(servers.map((s) => s.close()));
  });

  it('SIGKILL mid-commit, 8 terminals selling at once: every payment sent has its row, every acknowledged one its outcome; after a restart none is sent twice', async () => {
    const file = tempLedgerFile('wonder-kill-');
    const ports = await start(8);
    const first = new Payer(file, ports);
    payers.push(first);
    await first.next('ready', (l) => l.ready === true);
    first.send('burst');
    await until('80 payments acknowledged', () => first.lines.filter((l) => l.done !== undefined).length >= 80, 30_000);
    await first.kill();
    const done = first.lines.filter((l) => l.done !== undefined).map((l) => l.done as string);
    const rows = committed(file);
    const sent = terminals.flatMap((t) => t.received.filter((r) => r.action === 'Sale').map((r) => r.referenceID!));
    // Committed before it left: no payment reached a terminal without its row.
    assert.deepEqual(sent.filter((ref) => !rows.has(ref)), []);
    // Committed before it was acknowledged: every one the process reported has its outcome.
    assert.deepEqual(done.filter((ref) => rows.get(ref)?.state !== 'Success'), []);
    const open = [...rows.values()].filter((e) => e.state === 'open').map((e) => e.referenceID);

    // The next process: recovery asks about the open ones; every payment given again is answered, not sent again.
    const second = new Payer(file, ports);
    payers.push(second);
    await second.next('ready', (l) => l.ready === true);
    second.send('recover');
    const recovered = await second.next('recovery', (l) => l.recovered !== undefined);
    for (const ref of recovered.recovered as string[]) assert.ok(open.includes(ref), `${ref} recovered but was not open`);
    const again = [...new Set([...sent, ...done])];
    for (const ref of again) second.send(`sale ${Number(/^K(\d+)-/.exec(ref)![1])} ${ref} 1.00`);
    for (const ref of again) await second.next(`the answer for ${ref}`, (l) => l.ref === ref);
    for (const [i, t] of terminals.entries()) {
      for (const r of t.received.filter((x) => x.action === 'Sale')) assert.equal(t.count('Sale', r.referenceID), 1, `terminal ${i}: ${r.referenceID} sent twice`);
    }
    second.send('close');
    await second.next('closed', (l) => l.closed === true);
  });

  it('a full disk (RLIMIT_FSIZE): a new payment is not sent (E_JOURNAL, notSent); an outcome is delivered with E_JOURNAL beside it, kept, and committed once space is back; a restart does not emit it again', async () => {
    const file = tempLedgerFile('wonder-full-');
    const [port] = await start(1, { slowCardMs: 1_500 });
    const terminal = terminals[0]!;
    const payer = new Payer(file, [port!]);
    payers.push(payer);
    await payer.next('ready', (l) => l.ready === true);
    payer.send('sale 0 F1 1.00');
    assert.equal((await payer.next('F1', (l) => l.ref === 'F1')).result, 'Success');

    // A sale waits for the card; the disk fills meanwhile.
    payer.send(`sale 0 F3 ${SIMULATOR_AMOUNTS.slowCardholder}`);
    await until('F3 at the terminal', () => terminal.count('Sale', 'F3') === 1);
    fileSizeLimit(payer.child.pid!, '1');
    const f3 = await payer.next('F3', (l) => l.ref === 'F3');
    assert.deepEqual([f3.result, f3.journalBehind], ['Success', 'E_JOURNAL']);
    assert.equal(committed(file).get('F3')!.state, 'open', 'the outcome is in memory only');
    // Nothing new leaves while its row cannot be written.
    payer.send('sale 0 F4 1.00');
    const f4 = await payer.next('F4', (l) => l.ref === 'F4');
    assert.deepEqual([f4.code, f4.notSent], ['E_JOURNAL', true]);
    assert.equal(terminal.count('Sale', 'F4'), 0);

    // Space is back: the kept outcome is committed before anything else.
    fileSizeLimit(payer.child.pid!, 'unlimited');
    payer.send('sale 0 F5 1.00');
    assert.equal((await payer.next('F5', (l) => l.ref === 'F5')).result, 'Success');
    const rows = committed(file);
    assert.equal(rows.get('F3')!.state, 'Success');
    assert.notEqual(rows.get('F4')?.state, 'open');
    await payer.kill();

    // A restart finds nothing open: F3 is not emitted a second time.
    const next = new Payer(file, [port!]);
    payers.push(next);
    await next.next('ready', (l) => l.ready === true);
    next.send('recover');
    assert.deepEqual((await next.next('recovery', (l) => l.recovered !== undefined)).recovered, []);
    assert.equal(terminal.count('Sale', 'F3'), 1);
    next.send('close');
    await next.next('closed', (l) => l.closed === true);
  });

  it('a terminal swapped at the same address sees the old one\'s open payment: asked about, never sent again', async () => {
    const file = tempLedgerFile('wonder-swap-');
    const [port] = await start(1, { serverDeviceSN: 'NEW-SN' });
    const config = { transport: 'lan', host: '127.0.0.1', port: port! };
    const place = terminalIdentity(config, 'x');
    const ledger = openLedger(file);
    // The old terminal at this address took the order; its answer never came (its SN on the row).
    await ledger.begin({ referenceID: 'ORDER-9', action: 'Sale', amount: '5.00', currency: 'HKD', terminal: place, deviceSn: 'OLD-SN', requestID: 'r9' });
    const session = new TerminalSession({ transport: createTransport(config), pairingCode: '260880', journal: ledger, terminalId: place, identity: { deviceSn: 'NEW-SN' }, statusPollIntervalMs: 20, resolveTimeoutMs: 300 });
    try {
      await session.open();
      assert.deepEqual(session.openPayments().map((e) => e.referenceID), ['ORDER-9']);
      await session.recover();
      // The flow delivers the order again: the ledger holds it open, so it is asked about, never sent.
      await assert.rejects(session.request('Sale', { amount: '5.00', currency: 'HKD', referenceID: 'ORDER-9' }));
      const t = terminals[0]!;
      assert.equal(t.count('Sale', 'ORDER-9'), 0);
      assert.ok(t.received.some((r) => r.action === 'TransactionStatus' && r.referenceID === 'ORDER-9'));
      assert.equal(ledger.get('Sale', 'ORDER-9')!.state, 'open');
    } finally {
      await session.close();
      await ledger.close();
    }
  });
});
