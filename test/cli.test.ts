import { strict as assert } from 'node:assert';
import { committed } from './helpers/ledger-files';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimulatedTerminal } from '../lib/simulator/terminal';
import { serveLan, type LanServer } from '../lib/simulator/servers';
import { SIMULATED_NOTICE } from '../lib/cli/main';
import { startPtyPair, type PtyPair } from './helpers/pty';
import { until } from './helpers/wait';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'wonder-ecr.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI's state directory (journals, pairings) for this test file: never the real home's. */
const STATE = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-cli-state-'));
after(() => fs.rmSync(STATE, { recursive: true, force: true }));

/** Runs the CLI with stdin not a terminal; the pairing code comes from WONDER_PIN (the seeds' code unless `env` says otherwise). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, WONDER_PIN: '260880', XDG_STATE_HOME: STATE, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `wonder-ecr simulate …` until stopped; resolves once it says where it listens. */
function simulate(args: string[]): Promise<{ child: ChildProcess; line: string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'simulate', ...args]);
    let err = '';
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${err}`)), 10_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/simulated terminal/.test(err)) {
        clearTimeout(timer);
        resolve({
          child,
          line: err,
          stop: () =>
            new Promise((done) => {
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}

function json(run: Run): any {
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line expected, got: ${run.stdout}`);
  return JSON.parse(lines[0]!);
}

describe('wonder-ecr command line', function () {
  this.timeout(30_000);

  describe('against `wonder-ecr simulate` over a real pseudo-terminal', () => {
    let pty: PtyPair;
    let sim: Awaited<ReturnType<typeof simulate>>;
    before(async () => {
      pty = await startPtyPair();
      sim = await simulate(['--serial', pty.b, '--card-delay', '20']);
    });
    after(async () => {
      await sim?.stop();
      await pty?.stop();
    });

    it('pair sends Pair then Ack and prints the Ack response', async () => {
      const run = await cli(['pair', '--serial', pty.a]);
      assert.equal(run.code, 0, run.stderr);
      const out = json(run);
      assert.equal(out.header.serverDeviceSN, 'SIM-WONDER-0001');
      assert.equal(out.body.deviceStatus, 'Free');
      assert.equal(out.body.softwareVersion, '1.0.0(sim)');
    });

    it('sale, refund, void, status, info and abort end to end', async () => {
      const sale = await cli(['sale', '--serial', pty.a, '--amount', '10.20', '--currency', 'HKD', '--order', 'ORD-7']);
      assert.equal(sale.code, 0, sale.stderr);
      const s = json(sale);
      assert.equal(s.body.status, 'Success');
      assert.equal(s.body.customerOrderID, 'ORD-7');
      assert.match(s.referenceID, /^[0-9a-f-]{36}$/);
      assert.equal(s.header.responseID.length, 36);
      const refund = await cli(['refund', '--serial', pty.a, '--amount', '1.20', '--currency', 'HKD', '--org-reference', s.referenceID, '--reference', 'cli-refund-1']);
      assert.equal(refund.code, 0, refund.stderr);
      assert.equal(json(refund).referenceID, 'cli-refund-1');
      const sale2 = json(await cli(['sale', '--serial', pty.a, '--amount', '2.00', '--currency', 'HKD']));
      const voided = await cli(['void', '--serial', pty.a, '--org-reference', sale2.referenceID]);
      assert.equal(voided.code, 0, voided.stderr + voided.stdout);
      const status = await cli(['status', '--serial', pty.a, '--target-reference', sale2.referenceID]);
      assert.equal(status.code, 1); // a voided transaction: not a successful one
      assert.equal(json(status).result, 'Voided');
      assert.equal(json(status).body.transactionStatus, 'Voided');
      const info = await cli(['info', '--serial', pty.a]);
      assert.equal(json(info).body.deviceStatus, 'Free');
      const abort = await cli(['abort', '--serial', pty.a]);
      assert.equal(abort.code, 1); // nothing to abort: Failed
    });

    it('a declined sale exits 1', async () => {
      const run = await cli(['sale', '--serial', pty.a, '--amount', '900.01', '--currency', 'HKD']);
      assert.equal(run.code, 1);
      assert.equal(json(run).body.status, 'Failed');
    });
  });

  describe('against a LAN simulator', () => {
    let terminal: SimulatedTerminal;
    let server: LanServer;
    before(async () => {
      terminal = new SimulatedTerminal({ cardDelayMs: 20, pendingMs: 60_000 });
      server = await serveLan(terminal);
    });
    after(async () => {
      terminal.stop();
      await server.close();
    });
    const lan = () => `127.0.0.1:${server.port}`;

    it('takes a sale over LAN HTTP', async () => {
      const run = await cli(['sale', '--lan', lan(), '--amount', '3.30', '--currency', 'HKD', '--reference', 'lan-1']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(json(run).referenceID, 'lan-1');
      assert.equal(terminal.transactions.get('lan-1')!.state, 'Success');
    });

    it('a simulated terminal says so: "simulated": true in the output, a notice on stderr, "[simulated]" on an error', async () => {
      const run = await cli(['sale', '--lan', lan(), '--amount', '3.40', '--currency', 'HKD', '--reference', 'sim-mark-1']);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(json(run).simulated, true);
      assert.equal(run.stderr.split(SIMULATED_NOTICE).length - 1, 1, run.stderr);
      const info = await cli(['info', '--lan', lan()]);
      assert.equal(json(info).simulated, true);
      // An outcome left unknown: the error line says it came from a simulator.
      const stuck = await cli(['sale', '--lan', lan(), '--amount', '900.02', '--currency', 'HKD', '--reference', 'sim-mark-2', '--resolve-timeout', '1'], {
        XDG_STATE_HOME: fs.mkdtempSync(path.join(STATE, 'sim-mark-')),
      });
      assert.equal(stuck.code, 4, stuck.stderr);
      assert.match(stuck.stderr.trim().split('\n').at(-1)!, /sim-mark-2.*\[simulated\]$/);
    });

    it('prints the card\'s last four digits only; its prefix, hash and token with --raw-card', async () => {
      const card = { panPrefix6Digits: '424242', panLast4Digits: '4711', panHash: 'Hh7Kp2QxZ9mWcard', panToken: 'tok_Lw3Vn8Rb2Ycard' };
      terminal.card = { ...card };
      const run = await cli(['sale', '--lan', lan(), '--amount', '3.50', '--currency', 'HKD', '--reference', 'card-min-1']);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(json(run).body.creditCard, { panLast4Digits: '4711' });
      assert.equal(json(run).body.paymentMethod, 'visa');
      const status = await cli(['status', '--lan', lan(), '--target-reference', 'card-min-1']);
      assert.deepEqual(json(status).body.creditCard, { panLast4Digits: '4711' });
      for (const r of [run, status]) for (const value of [card.panPrefix6Digits, card.panHash, card.panToken]) assert.ok(!(r.stdout + r.stderr).includes(value), `${value} printed`);
      const raw = await cli(['sale', '--lan', lan(), '--amount', '3.60', '--currency', 'HKD', '--reference', 'card-raw-1', '--raw-card']);
      assert.equal(raw.code, 0, raw.stderr);
      assert.deepEqual(json(raw).body.creditCard, card);
      // The journal it keeps holds none of it.
      const journals = fs.readdirSync(STATE, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8')).join('\n');
      assert.ok(journals.includes('card-raw-1'), 'the journal was found');
      for (const value of [card.panPrefix6Digits, card.panHash, card.panToken]) assert.ok(!journals.includes(value), `${value} in the journal`);
    });

    it('a refund beyond its sale, or of a sale the journal does not know, exits 2 naming the field, unsent; --refund-unknown-sale lets the latter go out', async () => {
      const sale = await cli(['sale', '--lan', lan(), '--amount', '3.00', '--currency', 'HKD', '--reference', 'lan-bound-1']);
      assert.equal(sale.code, 0, sale.stderr);
      const refunds = () => terminal.count('Refund');
      const before = refunds();
      for (const [args, field] of [
        [['--amount', '3.01', '--org-reference', 'lan-bound-1'], 'amount'],
        [['--amount', '1.00', '--org-reference', 'lan-elsewhere'], 'orgReferenceID'],
      ] as const) {
        const run = await cli(['refund', '--lan', lan(), '--currency', 'HKD', ...args]);
        assert.equal(run.code, 2, run.stderr);
        assert.equal(run.stdout, '');
        assert.match(run.stderr, new RegExp(`wonder-ecr: ${field}: `));
      }
      assert.equal(refunds(), before);
      const run = await cli(['refund', '--lan', lan(), '--currency', 'HKD', '--amount', '1.00', '--org-reference', 'lan-elsewhere', '--refund-unknown-sale']);
      // The simulator does not know that sale either: it declines (exit 1), but the refund went out.
      assert.equal(run.code, 1, run.stderr);
      assert.equal(refunds(), before + 1);
    });

    it('bad input exits 2 with one line on stderr, and nothing is sent', async () => {
      const before = terminal.received.length;
      const cases: Array<[string[], Record<string, string>?]> = [
        [['sale', '--lan', lan(), '--amount', '10.205', '--currency', 'HKD']],
        [['sale', '--lan', lan(), '--amount', '10', '--currency', 'hkd']],
        [['refund', '--lan', lan(), '--amount', '1', '--currency', 'HKD']],
        [['status', '--lan', lan()]],
        [['sale', '--lan', lan(), '--amount', '1', '--currency', 'HKD'], { WONDER_PIN: '' }],
        [['sale', '--lan', lan(), '--amount', '1', '--currency', 'HKD'], { WONDER_PIN: '12345' }],
        [['sale', '--lan', 'not a host', '--amount', '1', '--currency', 'HKD']],
        [['sale', '--amount', '1', '--currency', 'HKD']],
        [['refill', '--lan', lan()]],
        [['sale', '--bogus']],
        [['sale', '--lan', lan(), '--fingerprint', 'AB:CD', '--amount', '1', '--currency', 'HKD']],
        [['sale', '--lan', lan(), '--pin-file', '/nonexistent/pin', '--amount', '1', '--currency', 'HKD']],
      ];
      for (const [args, env] of cases) {
        const run = await cli(args, env);
        assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
        assert.equal(run.stdout, '');
        assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
        assert.ok(!run.stderr.includes('12345'), 'the pin is echoed');
      }
      assert.equal(terminal.received.length, before);
    });

    it('a wrong pin exits 5 (security error), not 1 (declined)', async () => {
      // Its own journal: a sale that got only undecryptable answers stays open (unknown) and would hold the next ones back.
      const run = await cli(['sale', '--lan', lan(), '--amount', '1.00', '--currency', 'HKD'], { WONDER_PIN: '111111', XDG_STATE_HOME: fs.mkdtempSync(path.join(STATE, 'wrong-pin-')) });
      assert.equal(run.code, 5, run.stderr);
      assert.match(run.stderr, /decrypt/);
      assert.ok(!run.stderr.includes('111111'));
    });

    it('a Pending that stays unresolved exits 4 after asking TransactionStatus; one Sale sent', async () => {
      const run = await cli(['sale', '--lan', lan(), '--amount', '900.02', '--currency', 'HKD', '--reference', 'stuck-1', '--resolve-timeout', '1'], {
        // Its own journal: the unknown sale stays open and would hold the next sales of this file back.
        XDG_STATE_HOME: fs.mkdtempSync(path.join(STATE, 'stuck-')),
      });
      assert.equal(run.code, 4, run.stderr);
      assert.match(run.stderr, /stuck-1/);
      assert.equal(terminal.count('Sale', 'stuck-1'), 1);
      assert.ok(terminal.count('TransactionStatus', 'stuck-1') >= 1);
    });

    it('no terminal at the address exits 3', async () => {
      const run = await cli(['info', '--lan', '127.0.0.1:1', '--timeout', '2']);
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.stderr, /127\.0\.0\.1:1/);
    });

    it('refuses the pairing code as a flag (exit 2, says where to put it, never repeats it), sending nothing', async () => {
      const before = terminal.received.length;
      for (const args of [
        ['sale', '--lan', lan(), '--pin', '260880', '--amount', '1', '--currency', 'HKD'],
        ['sale', '--lan', lan(), '--pin=260880', '--amount', '1', '--currency', 'HKD'],
        ['info', '--lan', lan(), '--pairing-code', '260880'],
      ]) {
        const run = await cli(args);
        assert.equal(run.code, 2, run.stderr);
        assert.equal(run.stdout, '');
        assert.match(run.stderr, /WONDER_PIN/);
        assert.match(run.stderr, /--pin-file/);
        assert.doesNotMatch(run.stderr, /260880/);
      }
      const sim = await cli(['simulate', '--lan', '0', '--pin', '260880']);
      assert.equal(sim.code, 2, sim.stderr);
      assert.doesNotMatch(sim.stderr, /260880/);
      assert.equal(terminal.received.length, before);
    });

    it('reads the pairing code from --pin-file, and warns when others can read the file', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wonder-pin-'));
      try {
        const file = path.join(dir, 'pin');
        fs.writeFileSync(file, '260880\n', { mode: 0o600 });
        const run = await cli(['sale', '--lan', lan(), '--pin-file', file, '--amount', '1.10', '--currency', 'HKD', '--reference', 'pinfile-1'], { WONDER_PIN: '' });
        assert.equal(run.code, 0, run.stderr);
        // No warning about the file: the reference and the simulator's notice (the identity check's answer may come first), nothing else of its own.
        assert.deepEqual(run.stderr.split('\n').filter((l) => l.startsWith('wonder-ecr:')).sort(), [SIMULATED_NOTICE, 'wonder-ecr: Sale reference pinfile-1'].sort());
        assert.equal(terminal.transactions.get('pinfile-1')!.state, 'Success');
        fs.chmodSync(file, 0o644);
        const open = await cli(['info', '--lan', lan(), '--pin-file', file], { WONDER_PIN: '' });
        assert.equal(open.code, 0, open.stderr);
        assert.match(open.stderr, /can be read by other users/);
        fs.writeFileSync(file, '111111');
        const wrong = await cli(['info', '--lan', lan(), '--pin-file', file], { WONDER_PIN: '260880' });
        assert.equal(wrong.code, 5, 'the file comes before the environment');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('asks for the pairing code without echo when stdin is a terminal', async () => {
      // `script` runs the CLI on a real pty; what is typed goes in through it.
      const command = [process.execPath, BIN, 'sale', '--lan', lan(), '--amount', '1.20', '--currency', 'HKD', '--reference', 'prompt-1'].map((a) => `'${a}'`).join(' ');
      const child = spawn('/usr/bin/script', ['-qefc', command, '/dev/null'], { env: { ...process.env, WONDER_PIN: '', XDG_STATE_HOME: STATE }, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('pairing code') && !child.stdin.writableEnded) child.stdin.end('260880\r');
      });
      const [code] = (await once(child, 'close')) as [number];
      assert.equal(code, 0, out);
      assert.match(out, /pairing code \(not shown\)/);
      assert.doesNotMatch(out, /260880/, 'the typed code was echoed');
      assert.equal(terminal.transactions.get('prompt-1')!.state, 'Success');
    });

    it('without a terminal to ask on and no WONDER_PIN or --pin-file, exits 2 naming where the code goes', async () => {
      const run = await cli(['info', '--lan', lan()], { WONDER_PIN: '' });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /WONDER_PIN/);
      assert.match(run.stderr, /--pin-file/);
    });
  });

  describe('the same promises as the nodes (journal, reference first, interrupt, exit by outcome)', () => {
    let terminal: SimulatedTerminal;
    let server: LanServer;
    const pin = { WONDER_PIN: '260880' };
    before(async () => {
      terminal = new SimulatedTerminal({ cardDelayMs: 20 });
      server = await serveLan(terminal);
    });
    after(async () => {
      terminal.stop();
      await server.close();
    });
    const lan = () => `127.0.0.1:${server.port}`;

    it('prints the reference on stderr before the payment leaves; the same --reference again is never sent twice', async () => {
      const first = await cli(['sale', '--lan', lan(), '--amount', '4.40', '--currency', 'HKD', '--reference', 'once-1'], pin);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, /Sale reference once-1/);
      const again = await cli(['sale', '--lan', lan(), '--amount', '4.40', '--currency', 'HKD', '--reference', 'once-1'], pin);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(json(again).duplicate, true);
      assert.equal(terminal.count('Sale', 'once-1'), 1);
      // Another amount under the same reference: refused, nothing sent.
      const other = await cli(['sale', '--lan', lan(), '--amount', '5.00', '--currency', 'HKD', '--reference', 'once-1'], pin);
      assert.equal(other.code, 2, other.stderr);
      assert.equal(terminal.count('Sale', 'once-1'), 1);
    });

    it('asks the terminal who it is before a payment, as the nodes do, and records its serial number with the payment', async () => {
      const file = path.join(STATE, 'identity', 'ledger.db');
      const from = terminal.received.length;
      const run = await cli(['sale', '--lan', lan(), '--amount', '1.30', '--currency', 'HKD', '--reference', 'ident-1', '--ledger', file], pin);
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual(terminal.received.slice(from).map((r) => r.action), ['DeviceInfo', 'Sale']);
      assert.equal(committed(file).get('ident-1')?.deviceSn, terminal.serverDeviceSN);
    });

    it('--no-ledger keeps nothing; --ledger FILE (old name --journal) keeps it where told (mode 0600)', async () => {
      const file = path.join(STATE, 'chosen', 'ledger.db');
      const run = await cli(['sale', '--lan', lan(), '--amount', '1.10', '--currency', 'HKD', '--reference', 'chosen-1', '--ledger', file], pin);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(committed(file).get('chosen-1')?.state, 'Success');
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
      const old = path.join(STATE, 'old-name', 'ledger.db');
      const byOldName = await cli(['sale', '--lan', lan(), '--amount', '1.10', '--currency', 'HKD', '--reference', 'chosen-2', '--journal', old], pin);
      assert.equal(byOldName.code, 0, byOldName.stderr);
      assert.equal(committed(old).get('chosen-2')?.state, 'Success');
      const none = await cli(['sale', '--lan', lan(), '--amount', '1.10', '--currency', 'HKD', '--reference', 'unjournalled-1', '--no-ledger'], pin);
      assert.equal(none.code, 0, none.stderr);
      const own = path.join(STATE, 'wonder-ecr', 'ledger.db');
      assert.ok(fs.existsSync(own), 'the state directory\'s ledger (written by earlier tests)');
      assert.equal(committed(own).get('unjournalled-1'), undefined);
      const oldNone = await cli(['sale', '--lan', lan(), '--amount', '1.10', '--currency', 'HKD', '--reference', 'unjournalled-2', '--no-journal'], pin);
      assert.equal(oldNone.code, 0, oldNone.stderr);
      assert.equal(committed(own).get('unjournalled-2'), undefined);
      // Without a ledger no sale is known: a refund is sent only when the operator says it is of a sale taken elsewhere.
      const refund = ['refund', '--lan', lan(), '--amount', '1.10', '--currency', 'HKD', '--org-reference', 'unjournalled-1', '--no-ledger'];
      const refused = await cli([...refund, '--reference', 'unjournalled-r1'], pin);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /--refund-unknown-sale.*--no-ledger/);
      assert.equal(terminal.transactions.has('unjournalled-r1'), false, 'the refused refund reached the terminal');
      const allowed = await cli([...refund, '--reference', 'unjournalled-r2', '--refund-unknown-sale'], pin);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(terminal.transactions.get('unjournalled-r2')?.state, 'Success');
    });

    it('Ctrl-C during a payment sends Abort, waits for the outcome, prints it and exits by it', async () => {
      const child = spawn(process.execPath, [BIN, 'sale', '--lan', lan(), '--amount', '900.05', '--currency', 'HKD', '--reference', 'int-1'], {
        env: { ...process.env, ...pin, XDG_STATE_HOME: STATE },
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const code = new Promise<number | null>((resolve) => child.on('close', resolve));
      // The card is awaited once the terminal holds the sale (the reference was printed before it left).
      await new Promise<void>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/Sale reference int-1/.test(stderr)) resolve();
        });
      });
      await until('the sale int-1 at the terminal', () => terminal.transactions.has('int-1'));
      child.kill('SIGINT');
      assert.equal(await code, 1, stderr);
      assert.match(stderr, /SIGINT: sending Abort/);
      const line = JSON.parse(stdout.trim());
      assert.equal(line.result, 'Failed');
      assert.equal(line.referenceID, 'int-1');
      assert.equal(terminal.transactions.get('int-1')!.state, 'Failed');
      assert.equal(terminal.count('Abort'), 1);
      // Settled in the journal: asking again sends nothing.
      const again = await cli(['sale', '--lan', lan(), '--amount', '900.05', '--currency', 'HKD', '--reference', 'int-1'], pin);
      assert.equal(again.code, 1, again.stderr);
      assert.equal(terminal.count('Sale', 'int-1'), 1);
    });

    it("status exits by the looked-up transaction's state: 0 approved, 1 declined, 4 unknown", async () => {
      await cli(['sale', '--lan', lan(), '--amount', '2.00', '--currency', 'HKD', '--reference', 'st-ok'], pin);
      await cli(['sale', '--lan', lan(), '--amount', '900.01', '--currency', 'HKD', '--reference', 'st-no'], pin);
      const ok = await cli(['status', '--lan', lan(), '--target-reference', 'st-ok'], pin);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(json(ok).result, 'Success');
      const declined = await cli(['status', '--lan', lan(), '--target-reference', 'st-no'], pin);
      assert.equal(declined.code, 1, declined.stderr);
      const unknown = await cli(['status', '--lan', lan(), '--target-reference', 'never-seen'], pin);
      assert.equal(unknown.code, 4, unknown.stderr);
      assert.equal(json(unknown).result, 'Unknown');
    });

    it('no answer at all (a terminal that never replies) is exit 3 with its cause, never "pending"', async () => {
      const silent = http.createServer(() => undefined);
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      try {
        const port = (silent.address() as AddressInfo).port;
        const run = await cli(['sale', '--lan', `127.0.0.1:${port}`, '--amount', '1.00', '--currency', 'HKD', '--reference', 'mute-1', '--timeout', '1', '--resolve-timeout', '1'], pin);
        assert.equal(run.code, 3, run.stderr);
        assert.match(run.stderr, /no answer from the terminal/);
        assert.match(run.stderr, /mute-1/);
      } finally {
        silent.closeAllConnections();
        await new Promise((r) => silent.close(r));
      }
    });
  });
});
