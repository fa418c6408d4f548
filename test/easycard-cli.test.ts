import { strict as assert } from 'node:assert';
import { ledgerBytes } from './helpers/ledger-files';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Scan2PayTestServer } from './helpers/scan2pay-server';
import { selfSignedCertificate } from './helpers/tls';
import type { Scan2PayResponse } from '../lib/easycard';
import { SEED_FAILED, SEED_RETRY1_FAILED, SEED_RETRY2_SUCCESS } from './helpers/easycard-fixtures';
import { until } from './helpers/wait';

const IV = '8651731586517315';
const PASSWORD = 'Tr4de-P@ss-Cli-8831';
const REFUND_PASSWORD = 'R3fund-Cli-Secret-12';
const sha256 = (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/**
 * The compiled CLI under test. bin/wonder-ecr.js loads ../dist/lib/cli (its index.js), so
 * it is used when that is the tree under test (npm test); a compiled tree
 * elsewhere is started the same way through `node -e`.
 */
const compiledCli = path.join(__dirname, '..', 'lib', 'cli', 'index.js');
const repoBin = path.resolve(__dirname, '..', '..', 'bin', 'wonder-ecr.js');
const useBin = fs.existsSync(repoBin) && path.resolve(path.dirname(repoBin), '..', 'dist', 'lib', 'cli', 'index.js') === compiledCli;
const launcher = useBin
  ? [repoBin]
  : ['-e', `require(${JSON.stringify(compiledCli)}).main(process.argv.slice(1)).then((code) => { process.exitCode = code; })`, '--'];

function failedReply(retry: string, errorCode = '000125', base: Scan2PayResponse = SEED_RETRY1_FAILED): Scan2PayResponse {
  const r = clone(base);
  const data = r.Data as Record<string, any>;
  data.Retry = retry;
  data.ErrorCode = errorCode;
  data.TXNResult = 'Fail';
  return r;
}
function refundFailed(): Scan2PayResponse {
  const r = failedReply('1', '046203', SEED_FAILED);
  r.Header.ServiceType = 'Refund';
  const data = r.Data as Record<string, any>;
  data.request.ServiceType = 'Refund';
  data.OrderId = 'RF42';
  return r;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Started {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  /** Resolves once stderr matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  done: Promise<Run>;
}

function start(args: string[], env: Record<string, string | undefined> = {}): Started {
  // Each run its own state directory (its journal), unless the test gives one.
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'easycard-cli-state-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, XDG_STATE_HOME: state, EASYCARD_PASSWORD: undefined, EASYCARD_REFUND_KEY: undefined, EASYCARD_RSA_PUBLIC_KEY_FILE: undefined, EASYCARD_AES_IV: undefined, ...env };
  for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
  const child = spawn(process.execPath, [...launcher, 'easycard-retry', ...args], { env: childEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the CLI did not exit within 20 s; stderr: ${stderr}`));
    }, 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    stderr: () => stderr,
    done,
    waitFor: async (pattern, timeoutMs = 10_000) => {
      await until(`stderr to match ${pattern}`, () => pattern.test(stderr), { within: timeoutMs, detail: () => stderr });
    },
  };
}

function json(run: Run): any {
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `one JSON line expected, got: ${run.stdout} / ${run.stderr}`);
  return JSON.parse(lines[0]!);
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('wonder-ecr easycard-retry (command line) against a Scan2Pay server', function () {
  this.timeout(30_000);
  let server: Scan2PayTestServer;
  let dir: string;
  let keyFile: string;
  const responseFile = (name: string, response: unknown): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof response === 'string' ? response : JSON.stringify(response, null, 2));
    return file;
  };
  const base = (file: string, extra: string[] = []) => ['--endpoint', server.url, '--mch-id', 'Account0001', '--response', file, '--rsa-public-key', keyFile, '--aes-iv', IV, ...extra];
  const secretEnv = { EASYCARD_PASSWORD: PASSWORD };

  before(async function () {
    server = await new Scan2PayTestServer({ iv: IV }).start();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easycard-cli-'));
    keyFile = path.join(dir, 'intella.pem');
    fs.writeFileSync(keyFile, server.publicKeyPem);
  });
  after(async function () {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(function () {
    server.reset();
  });
  afterEach(function () {
    assert.deepEqual(server.failures, [], 'the Scan2Pay server could not decrypt a request');
  });

  it("the seed's sequence, waiting for Enter before each retry: exit 0, one JSON line, attempts 2", async function () {
    server.script({ response: SEED_RETRY1_FAILED }, { response: SEED_RETRY2_SUCCESS });
    const cli = start(base(responseFile('seed.json', SEED_FAILED)), secretEnv);
    for (const n of [1, 2]) {
      await cli.waitFor(new RegExp(`place the card on the reader again \\(${n}/3\\), then press Enter`));
      // Under test: nothing is sent while Enter is not pressed (time passing with
      // no request is the behaviour; no event marks it), so this wait stays.
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(server.hits, n - 1, `retry ${n} was sent before Enter`);
      cli.child.stdin.write('\n');
    }
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    const out = json(run);
    assert.deepEqual(out.Header, SEED_RETRY2_SUCCESS.Header);
    assert.deepEqual(out.Data, SEED_RETRY2_SUCCESS.Data);
    assert.equal(out.ok, true);
    assert.equal(out.attempts, 2);
    assert.equal(out.reason, null);
    assert.equal(out.reportToEasyCard, false);
    assert.equal(out.storeOrderNo, 'PO123456');
    assert.deepEqual(server.requests.map((r) => r.data.Retry), ['1', '2']);
    for (const r of server.requests) {
      assert.equal(r.header.Method, '31800');
      assert.equal(r.header.TradeKey, sha256(PASSWORD));
      assert.equal(r.data.StoreOrderNo, 'PO123456');
      assert.equal(r.data.DeviceId, '01301234');
    }
  });

  it('the ledger: a completed payment delivered again is answered from it, nothing sent (default state directory, and --ledger FILE or its old name --journal)', async function () {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'easycard-cli-journal-'));
    const file = responseFile('journal.json', SEED_FAILED);
    server.script({ response: SEED_RETRY2_SUCCESS });
    const first = await start(base(file, ['--card-wait', '0']), { ...secretEnv, XDG_STATE_HOME: state }).done;
    assert.equal(first.code, 0, first.stderr);
    const journal = path.join(state, 'wonder-ecr', 'ledger.db');
    assert.equal(fs.statSync(journal).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.dirname(journal)).mode & 0o777, 0o700);
    assert.ok(ledgerBytes(journal).includes('Account0001'), 'the run is in the ledger');
    assert.ok(!/949104293|AESKey|TradeKey/.test(ledgerBytes(journal)), 'card data or a secret in the ledger');
    const again = await start(base(file, ['--card-wait', '0']), { ...secretEnv, XDG_STATE_HOME: state }).done;
    assert.equal(again.code, 0, again.stderr);
    const out = json(again);
    assert.equal(out.ok, true);
    assert.equal(out.duplicate, true);
    assert.equal(out.attempts, 1);
    assert.match(again.stderr, /nothing was sent/);
    assert.equal(server.hits, 1);

    // --ledger FILE: the same, in the file named (and by its old name --journal).
    const named = path.join(dir, 'kiosk', 'ledger.db');
    server.script({ response: SEED_RETRY2_SUCCESS });
    assert.equal((await start(base(file, ['--card-wait', '0', '--ledger', named]), secretEnv).done).code, 0);
    assert.equal(fs.statSync(named).mode & 0o777, 0o600);
    assert.equal(json(await start(base(file, ['--card-wait', '0', '--journal', named]), secretEnv).done).duplicate, true);
    assert.equal(server.hits, 2);
    const both = await start(base(file, ['--ledger', named, '--no-ledger']), secretEnv).done;
    assert.equal(both.code, 2);
    assert.equal(server.hits, 2);
  });

  it('three failures with --card-wait 0: exit 1, retries-exhausted, reportToEasyCard', async function () {
    server.script({ response: failedReply('2') }, { response: failedReply('3') }, { response: failedReply('3') });
    const run = await start(base(responseFile('three.json', SEED_FAILED), ['--card-wait', '0']), secretEnv).done;
    assert.equal(run.code, 1, run.stderr);
    const out = json(run);
    assert.equal(out.ok, false);
    assert.equal(out.reason, 'retries-exhausted');
    assert.equal(out.reportToEasyCard, true);
    assert.equal(out.attempts, 3);
    assert.equal(out.Data.TXNResult, 'Fail');
    assert.deepEqual(server.requests.map((r) => r.data.Retry), ['1', '2', '3']);
    assert.match(run.stderr, /place the card on the reader again \(3\/3\); retrying in 0 s/);
  });

  it('--ca FILE trusts a private CA for an HTTPS endpoint; without it exit 3, nothing sent; a file that is not PEM exits 2 naming --ca', async function () {
    const cert = selfSignedCertificate();
    const secure = await new Scan2PayTestServer({ iv: IV, tls: cert }).start();
    try {
      const caFile = path.join(dir, 'private-ca.pem');
      fs.writeFileSync(caFile, cert.cert);
      const args = (extra: string[]) => ['--endpoint', secure.url, '--mch-id', 'Account0001', '--response', responseFile('ca.json', SEED_FAILED), '--rsa-public-key', responseFile('ca-key.pem', secure.publicKeyPem), '--aes-iv', IV, '--card-wait', '0', ...extra];
      const refused = await start(args([]), secretEnv).done;
      assert.equal(refused.code, 3, refused.stderr);
      assert.equal(secure.requests.length, 0);
      const bad = await start(args(['--ca', keyFile]), secretEnv).done;
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /--ca.*not a PEM certificate/);
      assert.equal(secure.requests.length, 0);
      secure.script({ response: SEED_RETRY2_SUCCESS });
      const run = await start(args(['--ca', caFile]), secretEnv).done;
      assert.equal(run.code, 0, run.stderr);
      assert.equal(json(run).ok, true);
      assert.equal(secure.requests.length, 1);
      assert.deepEqual(secure.failures, []);
    } finally {
      await secure.close();
    }
  });

  it('a code that does not ask for a retry: exit 1, not-retryable, nothing sent', async function () {
    const run = await start(base(responseFile('nr.json', failedReply('0', '010001', SEED_FAILED))), secretEnv).done;
    assert.equal(run.code, 1, run.stderr);
    const out = json(run);
    assert.equal(out.reason, 'not-retryable');
    assert.equal(out.attempts, 0);
    assert.equal(out.reportToEasyCard, false);
    assert.equal(server.hits, 0);
    assert.doesNotMatch(run.stderr, /press Enter/);
  });

  it('010128 on a retry: exit 1, card-mismatch, reported', async function () {
    server.script({ response: failedReply('2', '010128') });
    const run = await start(base(responseFile('mismatch.json', SEED_FAILED), ['--card-wait', '0.05']), secretEnv).done;
    assert.equal(run.code, 1, run.stderr);
    const out = json(run);
    assert.equal(out.reason, 'card-mismatch');
    assert.equal(out.reportToEasyCard, true);
    assert.equal(out.attempts, 1);
    assert.equal(server.requests.length, 1);
  });

  it('network: an unknown outcome and an unreachable Scan2Pay both exit 3, and the first is not resent', async function () {
    server.script({ destroySocket: true });
    const lost = await start(base(responseFile('lost.json', SEED_FAILED), ['--card-wait', '0']), secretEnv).done;
    assert.equal(lost.code, 3, lost.stderr);
    assert.equal(json(lost).reason, 'unknown-outcome');
    assert.equal(json(lost).reportToEasyCard, true);
    assert.equal(server.hits, 1);

    const port = await closedPort();
    const args = base(responseFile('down.json', SEED_FAILED), ['--card-wait', '0']);
    args[1] = `http://127.0.0.1:${port}/allpaypass/api/general`;
    const down = await start(args, secretEnv).done;
    assert.equal(down.code, 3, down.stderr);
    const out = json(down);
    assert.equal(out.reason, 'not-sent');
    assert.equal(out.resumable, true);
    assert.deepEqual(out.Data, SEED_FAILED.Data);
  });

  it('stdin closed while waiting for Enter: exit 1, aborted, nothing sent', async function () {
    const cli = start(base(responseFile('eof.json', SEED_FAILED)), secretEnv);
    await cli.waitFor(/then press Enter/);
    cli.child.stdin.end();
    const run = await cli.done;
    assert.equal(run.code, 1, run.stderr);
    const out = json(run);
    assert.equal(out.reason, 'aborted');
    assert.equal(out.resumable, true);
    assert.equal(server.hits, 0);
    assert.match(run.stderr, /--card-wait/);
  });

  it('bad input exits 2 with the problem named and nothing sent; a password flag is refused without echoing it', async function () {
    const seed = responseFile('ok.json', SEED_FAILED);
    const noRequest = clone(SEED_FAILED);
    delete (noRequest.Data as any).request.HostSerialNumber;
    const cases: Array<[string[], Record<string, string | undefined>, RegExp]> = [
      [base(seed), {}, /EASYCARD_PASSWORD/],
      [[...base(seed), '--password', 'hunter2-Secret'], secretEnv, /--password is not accepted.*EASYCARD_PASSWORD/],
      [[...base(seed), '--refund-key=hunter2-Secret'], secretEnv, /--refund-key is not accepted.*EASYCARD_REFUND_KEY/],
      [base(responseFile('refund.json', refundFailed())), secretEnv, /refundKey/],
      [base(seed).map((a) => (a === IV ? '865173158651731' : a)), secretEnv, /--aes-iv/],
      [base(path.join(dir, 'missing.json')), secretEnv, /--response.*ENOENT/],
      [base(responseFile('bad.json', '{ not json')), secretEnv, /--response.*not JSON/],
      [base(responseFile('enc.json', { Response: 'QUJD' })), secretEnv, /encrypted reply/],
      [base(responseFile('nofield.json', noRequest)), secretEnv, /Data\.request\.HostSerialNumber/],
      [base(seed).map((a) => (a === server.url ? 'http://scan2pay.example.com/api' : a)), secretEnv, /--endpoint/],
      [['--mch-id', 'Account0001', '--response', seed, '--rsa-public-key', keyFile, '--aes-iv', IV], secretEnv, /--endpoint/],
      [base(seed).filter((a, i, all) => a !== '--rsa-public-key' && all[i - 1] !== '--rsa-public-key'), secretEnv, /--rsa-public-key/],
      [[...base(seed), '--card-wait', '-1'], secretEnv, /--card-wait/],
      [[...base(seed), '--bogus'], secretEnv, /bogus/],
    ];
    for (const [args, env, pattern] of cases) {
      const run = await start(args, env).done;
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '');
      assert.ok(!run.stderr.includes('hunter2-Secret'), 'the password given on the command line is echoed');
    }
    assert.equal(server.hits, 0);
  });

  it('secrets from the environment: key file and IV variables, RefundKey = sha256; no secret printed', async function () {
    // Scan2Pay echoing the request's RefundKey and TradeKey in its reply must not print them.
    server.script((req) => {
      const ok = clone(SEED_RETRY2_SUCCESS);
      ok.Header.ServiceType = 'Refund';
      const data = ok.Data as Record<string, any>;
      data.OrderId = 'RF42';
      data.request = { ...data.request, RefundKey: req.data.RefundKey, TradeKey: req.header.TradeKey };
      return { response: ok };
    });
    const file = responseFile('refund-ok.json', refundFailed());
    const run = await start(['--endpoint', server.url, '--mch-id', 'Account0001', '--response', file, '--card-wait', '0'], {
      EASYCARD_PASSWORD: PASSWORD,
      EASYCARD_REFUND_KEY: REFUND_PASSWORD,
      EASYCARD_RSA_PUBLIC_KEY_FILE: keyFile,
      EASYCARD_AES_IV: IV,
    }).done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(server.requests[0]!.data.RefundKey, sha256(REFUND_PASSWORD));
    assert.equal(server.requests[0]!.header.ServiceType, 'Refund');
    const out = json(run);
    assert.equal(out.Data.request.RefundKey, '[redacted]');
    assert.equal(out.Data.request.TradeKey, '[redacted]');
    const printed = run.stdout + run.stderr;
    assert.match(printed, /RF42/);
    for (const s of [PASSWORD, REFUND_PASSWORD, sha256(PASSWORD), sha256(REFUND_PASSWORD)]) {
      assert.ok(!printed.includes(s), `a secret was printed: ${s.slice(0, 6)}…`);
    }
  });

  it('the stderr summaries go through the redactor: a TradeKey or password Scan2Pay echoes in its codes never reaches stderr', async function () {
    const tradeKey = sha256(PASSWORD);
    const echo = failedReply('2', tradeKey.toUpperCase());
    (echo.Data as Record<string, any>).StatusCode = PASSWORD;
    server.script({ response: echo }, { response: echo }, { response: echo });
    const run = await start(base(responseFile('echo.json', SEED_FAILED), ['--card-wait', '0']), secretEnv).done;
    assert.ok(server.hits >= 1, 'a retry was sent');
    assert.match(run.stderr, /retry 1\/3: .*\[redacted\]/, run.stderr);
    for (const secret of [PASSWORD, tradeKey, tradeKey.toUpperCase()]) {
      assert.ok(!run.stderr.includes(secret), `a secret on stderr: ${run.stderr}`);
      assert.ok(!run.stdout.includes(secret), `a secret on stdout: ${run.stdout}`);
    }
  });

  it('--help prints the easycard-retry usage; the main usage lists it', async function () {
    const help = await start(['--help']).done;
    assert.equal(help.code, 0);
    assert.match(help.stderr, /easycard-retry --endpoint/);
    assert.match(help.stderr, /EASYCARD_PASSWORD/);
    const main = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, [...launcher, '--help']);
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
    assert.equal(main.code, 0);
    assert.match(main.stderr, /wonder-ecr easycard-retry --endpoint/);
  });
});
