import { strict as assert } from 'node:assert';
import * as crypto from 'node:crypto';
import * as net from 'node:net';
import * as util from 'node:util';
import { BusyError, ValidationError } from '../lib/protocol/errors';
import {
  EasyCardError,
  EasyCardRetry,
  SCAN2PAY_PRODUCTION_ENDPOINT,
  SCAN2PAY_STAGE_ENDPOINT,
  Scan2PayClient,
  buildRetryRequest,
  classifyFailure,
  decryptResponseField,
  encryptRequest,
  formatCreateTime,
  normalizeResponseBase64,
  parseAesIv,
  parseRsaPublicKey,
  runRetry,
  type RetryAttemptEvent,
  type RetryFailure,
  type RetryResult,
  type Scan2PayClientOptions,
  type Scan2PayResponse,
} from '../lib/easycard';
import { Scan2PayTestServer, unpadPkcs1v15 } from './helpers/scan2pay-server';
import { selfSignedCertificate } from './helpers/tls';

const IV = '8651731586517315';
const PASSWORD = 'Tr4de-P@ss-Secret-71';
const REFUND_PASSWORD = 'R3fund-Secret-9913';
const sha256 = (s: string): string => crypto.createHash('sha256').update(s, 'utf8').digest('hex');
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

// The seed's own example (004, "Payment Retry (EasyCard)"), verbatim, typos included.
const SEED_FAILED: Scan2PayResponse = {
  Header: {
    StatusCode: '0000',
    StatusDesc: 'STATUS_SUCCESS',
    Method: '31800',
    ServiceType: 'Payment',
    MchId: 'Account0001',
    ResponseTime: '20180920152235',
  },
  Data: {
    request: {
      Amount: '1',
      Retry: '0',
      BatchNumber: '18092000',
      SameCard: '0',
      ServiceType: 'Payment',
      TerminalID: '08300000',
      DeviceID: '01301234',
      TerminalTXNNumber: '152226',
      HostSerialNumber: '152226',
      Time: '152226',
      Date: '20180920',
      AESKey: 'ae83eef21d....f18a2644',
    },
    TXNResult: 'Fail',
    Retry: '1',
    ErrorCode: '000125',
    OrderId: 'PO123456',
    NewAESKey: '',
  },
};

const SEED_RETRY1_FAILED: Scan2PayResponse = {
  Header: {
    StatusCode: '0000',
    StatusDesc: 'STATUS_SUCCESS',
    Method: '31800',
    ServiceType: 'Payment',
    MchId: 'Acoount0001',
    ResponseTime: '20180920152538',
  },
  Data: {
    request: {
      Amount: '1',
      Retry: '1',
      BatchNumber: '18092000',
      SameCard: '1',
      ServiceType: 'Payment',
      TerminalID: '08300000',
      DeviceID: '01301234',
      TerminalTXNNumber: '152226',
      HostSerialNumber: '152226',
      Time: '152531',
      Date: '20180920',
      AESKey: 'ae83eef21d482......18a2644',
    },
    TXNResult: 'Fail',
    Retry: '2',
    ErrorCode: '000125',
    OrderId: 'PO123456',
    NewAESKey: '',
  },
};

const SEED_RETRY2_SUCCESS: Scan2PayResponse = {
  Header: {
    StatusCode: '0000',
    StatusDesc: 'STATUS_SUCCESS',
    Method: '31800',
    ServiceType: 'Payment',
    MchId: 'Account0001',
    ResponseTime: '20180920152640',
  },
  Data: {
    EZCardID: '949104293',
    EZCardType: '00',
    PersonalProfile: '00',
    CardNumberForPrint: '949104293',
    Amount: '1',
    Balance: '1917',
    BeforeTXNBalance: '1918',
    TerminalTXNNumber: '152226',
    HostSerialNumber: '152226',
    Time: '152226',
    Date: '20180920',
    ExpiryDate: '20191230',
    CPUPurseVersion: '00',
    BankCode: '00',
    AreaCode: '01',
    AutoTopUpAmount: '0',
    request: {
      Amount: '1',
      Retry: '2',
      BatchNumber: '18092000',
      SameCard: '1',
      ServiceType: 'Payment',
      TerminalID: '08300000',
      DeviceID: '01301234',
      TerminalTXNNumber: '152226',
      HostSerialNumber: '152226',
      Time: '152637',
      Date: '20180920',
      AESKey: 'ae83eef....bf18a2644',
    },
    TXNResult: 'Success',
    Retry: '0',
    ErrorCode: '000000',
    OrderId: 'PO123456',
    DongleDeviceID: '0C100DE0A57E',
    RRNumber: '18092015222676',
    TXNType: 'Payment',
    NewAESKey: 'b9007bf485....9523d9783',
    DeviceNumber: '0830000001301234',
  },
};

const SEED_DATA_FIELDS = {
  DeviceId: '01301234',
  Amount: '1',
  StoreOrderNo: 'PO123456',
  TerminalTXNNumber: '152226',
  HostSerialNumber: '152226',
};

/** A failed reply to a retry: the seed's failure with another Retry / ErrorCode / StatusCode. */
function failedReply(retry: string, errorCode = '000125', statusCode = '0000', txnResult = 'Fail', base: Scan2PayResponse = SEED_RETRY1_FAILED): Scan2PayResponse {
  const r = clone(base);
  r.Header.StatusCode = statusCode;
  const data = r.Data as Record<string, unknown>;
  data.Retry = retry;
  data.ErrorCode = errorCode;
  data.TXNResult = txnResult;
  return r;
}

function refundFailure(actionType?: string): Scan2PayResponse {
  const r = failedReply('1', '046203', '0000', 'Fail', SEED_FAILED);
  r.Header.ServiceType = 'Refund';
  const data = r.Data as Record<string, unknown>;
  (data.request as Record<string, unknown>).ServiceType = 'Refund';
  if (actionType !== undefined) data.ActionType = actionType;
  return r;
}

/** The rejection of a promise (asserts that it rejects). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  let settled = 'resolved';
  let caught: unknown;
  await p.then(
    () => undefined,
    (err: unknown) => {
      settled = 'rejected';
      caught = err;
    },
  );
  assert.equal(settled, 'rejected', 'expected the promise to reject');
  assert.ok(caught instanceof Error, 'expected an Error');
  return caught;
}

function thrown(fn: () => unknown): Error {
  let caught: unknown;
  let threw = false;
  try {
    fn();
  } catch (err) {
    threw = true;
    caught = err;
  }
  assert.equal(threw, true, 'expected a throw');
  assert.ok(caught instanceof Error);
  return caught;
}

function assertFailure(result: RetryResult): asserts result is RetryFailure {
  assert.equal(result.ok, false, `expected a failure, got ${JSON.stringify(result)}`);
}

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('EasyCard (intella Scan2Pay) retry', function () {
  let server: Scan2PayTestServer;
  /** Every error seen in these tests, checked for secrets at the end. */
  const errorsSeen: Error[] = [];

  const options = (extra: Partial<Scan2PayClientOptions> = {}): Scan2PayClientOptions => ({
    endpoint: server.url,
    mchId: 'Account0001',
    tradePassword: PASSWORD,
    rsaPublicKey: server.publicKeyPem,
    aesIv: IV,
    timeoutMs: 5000,
    ...extra,
  });
  const client = (extra: Partial<Scan2PayClientOptions> = {}): Scan2PayClient => new Scan2PayClient(options(extra));

  before(async function () {
    server = await new Scan2PayTestServer({ iv: IV }).start();
  });
  after(async function () {
    await server.close();
  });
  beforeEach(function () {
    server.reset();
  });
  afterEach(function () {
    assert.deepEqual(server.failures, [], 'the Scan2Pay server could not decrypt a request');
  });

  describe('crypto', function () {
    it('encrypts with a fresh AES-128 key per request, the IV as ASCII bytes, and RSA over the key\'s base64 text', function () {
      const pub = parseRsaPublicKey(server.publicKeyPem);
      const iv = parseAesIv(IV);
      assert.deepEqual([...iv], [...Buffer.from(IV, 'ascii')]);
      const a = encryptRequest('{"hello":"world"}', pub, iv);
      const b = encryptRequest('{"hello":"world"}', pub, iv);
      assert.equal(a.key.length, 16);
      assert.notDeepEqual(a.key, b.key);
      assert.notEqual(a.body.Request, b.body.Request);
      assert.deepEqual(Object.keys(a.body).sort(), ['ApiKey', 'Request']);

      const em = crypto.privateDecrypt({ key: server.privateKey, padding: crypto.constants.RSA_NO_PADDING }, Buffer.from(a.body.ApiKey, 'base64'));
      const apiKeyText = unpadPkcs1v15(em).toString('ascii'); // PKCS#1 v1.5 type 2, not OAEP
      assert.equal(apiKeyText, a.key.toString('base64'));
      assert.equal(apiKeyText.length, 24);

      const decipher = crypto.createDecipheriv('aes-128-cbc', a.key, Buffer.from(IV, 'ascii'));
      const plain = Buffer.concat([decipher.update(Buffer.from(a.body.Request, 'base64')), decipher.final()]).toString('utf8');
      assert.equal(plain, '{"hello":"world"}');
      // 17 bytes of plaintext → 2 blocks with PKCS#7 padding.
      assert.equal(Buffer.from(a.body.Request, 'base64').length, 32);
    });

    it('matches a known-answer vector (computed with the openssl CLI) for intella\'s sample key and IV', function () {
      // printf '{"Header":{"Method":"31800"}}' | openssl enc -aes-128-cbc -K 637509d78ec72886114fc3afaec8a4d0 -iv <hex of 8651731586517315> -base64 -A
      const key = Buffer.from('Y3UJ147HKIYRT8Ovrsik0A==', 'base64');
      assert.equal(key.toString('hex'), '637509d78ec72886114fc3afaec8a4d0');
      const out = encryptRequest('{"Header":{"Method":"31800"}}', parseRsaPublicKey(server.publicKeyPem), parseAesIv(IV), key);
      assert.equal(out.body.Request, 'WggdrgVOwBDKeDomxfG6swTWIWBnTTp6+CwgO3Wt4M4=');
      const em = crypto.privateDecrypt({ key: server.privateKey, padding: crypto.constants.RSA_NO_PADDING }, Buffer.from(out.body.ApiKey, 'base64'));
      assert.equal(unpadPkcs1v15(em).toString('ascii'), 'Y3UJ147HKIYRT8Ovrsik0A==');
    });

    it('rejects a bad IV naming aesIv', function () {
      for (const bad of ['865173158651731', '86517315865173151', '', undefined, 1234567890123456, '865173158651731é']) {
        const err = thrown(() => parseAesIv(bad));
        assert.ok(err instanceof ValidationError);
        assert.equal(err.field, 'aesIv');
        assert.match(err.message, /^aesIv: /);
      }
      const err = thrown(() => new Scan2PayClient(options({ aesIv: 'short' })));
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'aesIv');
      assert.match(err.message, /16/);
    });

    it('rejects a bad RSA public key naming rsaPublicKey, and accepts pasted forms of a good one', function () {
      const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const bads: unknown[] = [
        '',
        undefined,
        'not a key',
        '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
        server.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        ec.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      ];
      for (const bad of bads) {
        const err = thrown(() => parseRsaPublicKey(bad));
        assert.ok(err instanceof ValidationError, String(err));
        assert.equal(err.field, 'rsaPublicKey');
      }
      assert.ok(!thrown(() => parseRsaPublicKey(bads[4])).message.includes('PRIVATE KEY-----\nMII'));
      const escaped = server.publicKeyPem.trim().replace(/\n/g, '\\n');
      assert.equal(parseRsaPublicKey(escaped).asymmetricKeyType, 'rsa');
      const bare = server.publicKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
      assert.equal(parseRsaPublicKey(bare).asymmetricKeyDetails?.modulusLength, 2048);
      const err = thrown(() => new Scan2PayClient(options({ rsaPublicKey: 'garbage' })));
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'rsaPublicKey');
    });

    it('normalises the reply: removes \\n and turns \\u003d into = before decoding', function () {
      assert.equal(normalizeResponseBase64('QUJD\nREVG\\u003d\\u003D'), 'QUJDREVG==');
      assert.equal(normalizeResponseBase64('QUJD\\nREVG\r\n=='), 'QUJDREVG==');
      const key = crypto.randomBytes(16);
      const cipher = crypto.createCipheriv('aes-128-cbc', key, Buffer.from(IV, 'ascii'));
      const b64 = Buffer.concat([cipher.update('{"a":"bc"}'), cipher.final()]).toString('base64');
      assert.ok(b64.endsWith('='), 'test data must end with padding');
      const mangled = `${b64.slice(0, 10)}\n${b64.slice(10).replace(/=/g, '\\u003d')}`;
      assert.equal(decryptResponseField(mangled, key, parseAesIv(IV)), '{"a":"bc"}');
      const err = thrown(() => decryptResponseField(b64, crypto.randomBytes(16), parseAesIv(IV)));
      assert.ok(err instanceof EasyCardError);
      assert.ok(['E_EASYCARD_DECRYPT'].includes(err.code));
      // A wrong key under which the padding happens to be valid (about one in 256): refused all the same, never garbage.
      let lucky: Buffer | undefined;
      for (let i = 0; lucky === undefined && i < 100_000; i++) {
        const k = crypto.randomBytes(16);
        const d = crypto.createDecipheriv('aes-128-cbc', k, Buffer.from(IV, 'ascii')).setAutoPadding(false);
        const plain = Buffer.concat([d.update(Buffer.from(b64, 'base64')), d.final()]);
        const pad = plain[plain.length - 1]!;
        if (pad >= 1 && pad <= 16 && plain.subarray(plain.length - pad).every((b) => b === pad)) lucky = k;
      }
      assert.ok(lucky !== undefined, 'no key with valid padding found');
      const luckyErr = thrown(() => decryptResponseField(b64, lucky!, parseAesIv(IV)));
      assert.ok(luckyErr instanceof EasyCardError && luckyErr.code === 'E_EASYCARD_DECRYPT', String(luckyErr));
    });
  });

  describe('Scan2PayClient', function () {
    it('exports the stage and production endpoints', function () {
      assert.equal(SCAN2PAY_STAGE_ENDPOINT, 'https://s.intella.co/allpaypass/api/general');
      assert.equal(SCAN2PAY_PRODUCTION_ENDPOINT, 'https://a.intella.co/allpaypass/api/general');
    });

    it('POSTs the encrypted envelope with TradeKey = sha256 hex of the password and CreateTime, and returns the decrypted reply', async function () {
      const c = client({ clock: () => new Date(2018, 8, 20, 15, 25, 31) });
      server.script({ response: SEED_RETRY2_SUCCESS });
      const reply = await c.send({ Header: { Method: '31800', ServiceType: 'Payment' }, Data: { DeviceId: '01301234', Retry: '0' } });
      assert.deepEqual(reply, SEED_RETRY2_SUCCESS);
      assert.equal(server.requests.length, 1);
      const req = server.requests[0]!;
      assert.equal(req.method, 'POST');
      assert.match(req.contentType ?? '', /^application\/json/);
      assert.deepEqual(req.header, {
        Method: '31800',
        ServiceType: 'Payment',
        MchId: 'Account0001',
        TradeKey: sha256(PASSWORD),
        CreateTime: '20180920152531',
      });
      assert.match(String(req.header.TradeKey), /^[0-9a-f]{64}$/);
      assert.equal(req.dataWasString, true);
      assert.deepEqual(req.data, { DeviceId: '01301234', Retry: '0' });
      for (const where of [req.rawBody, req.plaintext]) assert.ok(!where.includes(PASSWORD));
    });

    it('formats CreateTime as yyyyMMddHHmmss in the merchant\'s local time', async function () {
      assert.equal(formatCreateTime(new Date(2018, 0, 1, 9, 5, 7)), '20180101090507');
      assert.equal(formatCreateTime(new Date(Date.UTC(2018, 8, 20, 7, 22, 26)), 'Asia/Taipei'), '20180920152226');
      assert.equal(formatCreateTime(new Date(Date.UTC(2018, 11, 31, 16, 0, 0)), 'Asia/Taipei'), '20190101000000');
      const zoned = client({ timeZone: 'Asia/Taipei', clock: () => new Date(Date.UTC(2020, 1, 29, 23, 59, 59)) });
      assert.equal(zoned.createTime(), '20200301075959');
      const before = Date.now();
      const now = client().createTime();
      assert.match(now, /^\d{14}$/);
      const parsed = new Date(+now.slice(0, 4), +now.slice(4, 6) - 1, +now.slice(6, 8), +now.slice(8, 10), +now.slice(10, 12), +now.slice(12, 14));
      assert.ok(Math.abs(parsed.getTime() - before) < 5000, `CreateTime ${now} is not now`);
      server.script({ response: SEED_RETRY2_SUCCESS });
      await client({ clock: () => new Date(2019, 11, 31, 23, 59, 58) }).send({ Header: { Method: '31800', ServiceType: 'Payment' }, Data: {} });
      assert.equal(server.requests[0]!.header.CreateTime, '20191231235958');
      const err = thrown(() => new Scan2PayClient(options({ timeZone: 'Mars/Olympus' })));
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'timeZone');
    });

    it('decodes a reply whose base64 carries \\n and \\u003d (JSON escape and literal six characters)', async function () {
      const c = client();
      server.script(
        {
          response: SEED_RETRY2_SUCCESS,
          // JSON escapes: \n is a newline after parsing, \u003d an "=".
          body: (b64) => `{"Response":"${b64.slice(0, 20)}\\n${b64.slice(20, 40)}\\n${b64.slice(40).replace(/=/g, '\\u003d')}"}`,
        },
        {
          response: SEED_RETRY2_SUCCESS,
          // Literal backslash-u-0-0-3-d, as a double-escaping server sends it.
          body: (b64) => `{"Response":"${b64.slice(0, 30)}\\\\n${b64.slice(30).replace(/=/g, '\\\\u003d')}"}`,
        },
      );
      const draft = { Header: { Method: '31800', ServiceType: 'Payment' }, Data: {} };
      assert.deepEqual(await c.send(draft), SEED_RETRY2_SUCCESS);
      assert.deepEqual(await c.send(draft), SEED_RETRY2_SUCCESS);
      assert.equal(server.requests.length, 2);
    });

    it('trusts a custom CA over HTTPS (options.ca); without it the certificate is refused and nothing is sent', async function () {
      const cert = selfSignedCertificate();
      const secure = await new Scan2PayTestServer({ iv: IV, tls: cert }).start();
      try {
        const draft = { Header: { Method: '31800', ServiceType: 'Payment' }, Data: {} };
        const base = { endpoint: secure.url, mchId: 'Account0001', tradePassword: PASSWORD, rsaPublicKey: secure.publicKeyPem, aesIv: IV, timeoutMs: 5000 };
        const refused = await rejection(new Scan2PayClient(base).send(draft));
        assert.ok(refused instanceof EasyCardError);
        assert.equal(refused.code, 'E_EASYCARD_NETWORK');
        assert.equal(refused.delivery, 'not-sent');
        assert.equal(refused.notSent, true);
        assert.equal(secure.requests.length, 0);

        secure.script({ response: SEED_RETRY2_SUCCESS });
        assert.deepEqual(await new Scan2PayClient({ ...base, ca: cert.cert }).send(draft), SEED_RETRY2_SUCCESS);
        assert.equal(secure.requests.length, 1);
        assert.deepEqual(secure.failures, []);
        errorsSeen.push(refused);
      } finally {
        await secure.close();
      }
    });

    it('names the step that failed: HTTP status, decryption, not JSON, network, timeout', async function () {
      const c = client({ timeoutMs: 300 });
      const draft = { Header: { Method: '31800', ServiceType: 'Payment' }, Data: {} };

      server.script({ status: 503, rawBody: 'busy' });
      const http = await rejection(c.send(draft));
      assert.ok(http instanceof EasyCardError);
      assert.equal(http.code, 'E_EASYCARD_HTTP');
      assert.equal(http.status, 503);
      assert.equal(http.delivery, 'received');
      assert.match(http.message, /HTTP 503/);

      server.script({ response: SEED_RETRY2_SUCCESS, wrongKey: true });
      const dec = await rejection(c.send(draft));
      assert.ok(dec instanceof EasyCardError);
      assert.equal(dec.code, 'E_EASYCARD_DECRYPT');
      assert.match(dec.message, /decrypt/);

      server.script({ rawBody: '<html>oops</html>' });
      const notJson = await rejection(c.send(draft));
      assert.ok(notJson instanceof EasyCardError);
      assert.equal(notJson.code, 'E_EASYCARD_RESPONSE');
      assert.match(notJson.message, /not JSON/);

      server.script({ rawBody: JSON.stringify({ Header: { StatusCode: '8003', StatusDesc: 'Decryption failed' } }) });
      const plain = await rejection(c.send(draft));
      assert.ok(plain instanceof EasyCardError);
      assert.equal(plain.code, 'E_EASYCARD_RESPONSE');
      assert.match(plain.message, /8003/);

      server.script({ response: 'just a string' });
      const notObject = await rejection(c.send(draft));
      assert.ok(notObject instanceof EasyCardError);
      assert.equal(notObject.code, 'E_EASYCARD_RESPONSE');

      server.script({ response: SEED_RETRY2_SUCCESS, delayMs: 1500 });
      const slow = await rejection(c.send(draft));
      assert.ok(slow instanceof EasyCardError);
      assert.equal(slow.code, 'E_EASYCARD_TIMEOUT');
      assert.equal(slow.delivery, 'unknown');

      server.script({ destroySocket: true });
      const dropped = await rejection(c.send(draft));
      assert.ok(dropped instanceof EasyCardError);
      assert.equal(dropped.code, 'E_EASYCARD_NETWORK');
      assert.equal(dropped.delivery, 'unknown');

      const refused = await rejection(client({ endpoint: `http://127.0.0.1:${await closedPort()}/api` }).send(draft));
      assert.ok(refused instanceof EasyCardError);
      assert.equal(refused.code, 'E_EASYCARD_NETWORK');
      assert.equal(refused.delivery, 'not-sent');
      assert.match(refused.message, /ECONNREFUSED/);

      assert.equal(server.requests.length, 7);
      errorsSeen.push(http, dec, notJson, plain, notObject, slow, dropped, refused);
    });

    it('never shows the trade password or the refund password (nor their hashes) in toJSON, util.inspect or validation errors', function () {
      const c = client({ refundKey: REFUND_PASSWORD });
      const views = [
        JSON.stringify(c),
        util.inspect(c),
        util.inspect(c, { showHidden: true, depth: 10 }),
        String(c),
        JSON.stringify(Object.entries(c)),
      ];
      for (const view of views) {
        for (const secret of [PASSWORD, REFUND_PASSWORD, sha256(PASSWORD), sha256(REFUND_PASSWORD)]) {
          assert.ok(!view.includes(secret), `a secret shows in ${view}`);
        }
      }
      assert.deepEqual(JSON.parse(JSON.stringify(c)), { endpoint: server.url, mchId: 'Account0001', timeoutMs: 5000, hasRefundKey: true });
      assert.match(util.inspect(c), /Scan2PayClient/);

      const bad = [
        thrown(() => new Scan2PayClient(options({ aesIv: PASSWORD }))),
        thrown(() => new Scan2PayClient(options({ rsaPublicKey: PASSWORD }))),
        thrown(() => new Scan2PayClient(options({ endpoint: `https://user:${PASSWORD}@example.com/` }))),
        thrown(() => new Scan2PayClient({ ...options(), tradePassword: '' })),
        thrown(() => new Scan2PayClient({ ...options(), tradePassword: 42 as unknown as string })),
      ];
      for (const err of bad) assert.ok(err instanceof ValidationError, String(err));
      assert.equal((bad[3] as ValidationError).field, 'tradePassword');
      errorsSeen.push(...bad);
    });
  });

  describe('classifyFailure', function () {
    it('retries on Data.Retry 1..3 with ErrorCode 000125 or 0462xx', function () {
      assert.deepEqual(
        { retryable: classifyFailure(SEED_FAILED).retryable, retry: classifyFailure(SEED_FAILED).retry, outcome: classifyFailure(SEED_FAILED).outcome },
        { retryable: true, retry: 1, outcome: 'retryable' },
      );
      assert.equal(classifyFailure(failedReply('3', '046201')).retryable, true);
      assert.equal(classifyFailure(failedReply('2', '046299')).retryable, true);
      assert.equal(classifyFailure(failedReply('0', '000125')).retryable, false);
      assert.equal(classifyFailure(failedReply('4', '000125')).retryable, false);
      assert.equal(classifyFailure(failedReply('1', '000126')).retryable, false);
      assert.equal(classifyFailure(failedReply('1', '04620')).retryable, false);
      assert.equal(classifyFailure(failedReply('1', '0462012')).retryable, false);
      // Data.Retry counts, not Data.request.Retry.
      const r = failedReply('0', '000125');
      ((r.Data as Record<string, unknown>).request as Record<string, unknown>).Retry = '1';
      assert.equal(classifyFailure(r).retryable, false);
    });

    it('counts StatusCode 0000 with a failed TXNResult / ErrorCode as a failure', function () {
      const a = classifyFailure(failedReply('0', '000098', '0000', 'Fail'));
      assert.equal(a.success, false);
      assert.equal(a.outcome, 'failed');
      assert.equal(a.statusCode, '0000');
      const b = classifyFailure(failedReply('0', '000098', '0000', 'Success'));
      assert.equal(b.success, false, 'TXNResult Success with ErrorCode 000098 is not a success');
      const failWithZero = classifyFailure(failedReply('0', '000000', '0000', 'Fail'));
      assert.equal(failWithZero.success, false, 'TXNResult Fail is not a success even with ErrorCode 000000');
      assert.equal(failWithZero.outcome, 'failed');
      const c = classifyFailure(SEED_RETRY2_SUCCESS);
      assert.equal(c.success, true);
      assert.equal(c.outcome, 'success');
      const noCode = clone(SEED_RETRY2_SUCCESS);
      delete (noCode.Data as Record<string, unknown>).ErrorCode;
      assert.equal(classifyFailure(noCode).success, true);
    });

    it('knows 9997 (ongoing, a failure), 7000 (order exists) and 010128 (another card)', function () {
      const ongoing = classifyFailure(failedReply('0', '000000', '9997', 'Success'));
      assert.equal(ongoing.success, false);
      assert.equal(ongoing.outcome, 'ongoing');
      assert.equal(classifyFailure({ Header: { StatusCode: '9997', StatusDesc: 'Transaction is ongoing' } }).outcome, 'ongoing');
      assert.equal(classifyFailure({ Header: { StatusCode: '7000', StatusDesc: 'StoreOrderNo already existed' } }).outcome, 'order-exists');
      const other = classifyFailure(failedReply('2', '010128'));
      assert.equal(other.outcome, 'card-mismatch');
      assert.equal(other.retryable, false);
      assert.equal(classifyFailure(undefined).success, false);
    });
  });

  describe('buildRetryRequest', function () {
    it('copies the seed\'s fields from the failed response, Retry from Data.Retry', function () {
      const draft = buildRetryRequest(SEED_FAILED);
      assert.deepEqual(draft, {
        Header: { Method: '31800', ServiceType: 'Payment', MchId: 'Account0001' },
        Data: { ...SEED_DATA_FIELDS, Retry: '1' },
      });
      assert.deepEqual(buildRetryRequest(SEED_RETRY1_FAILED).Data, { ...SEED_DATA_FIELDS, Retry: '2' });
      assert.equal(buildRetryRequest(SEED_RETRY1_FAILED).Header.MchId, 'Acoount0001');
    });

    it('reads Data.request given as a JSON string, and falls back to the configured MchId', function () {
      const r = clone(SEED_FAILED) as Scan2PayResponse & { Data: Record<string, unknown> };
      r.Data.request = JSON.stringify(r.Data.request);
      delete r.Header.MchId;
      const draft = buildRetryRequest(r, { mchIdFallback: 'Fallback01' });
      assert.equal(draft.Header.MchId, 'Fallback01');
      assert.deepEqual(draft.Data, { ...SEED_DATA_FIELDS, Retry: '1' });
      const err = thrown(() => buildRetryRequest(r));
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'Header.MchId');
    });

    it('names the missing path', function () {
      const cases: [string, (d: Record<string, unknown>, req: Record<string, unknown>) => void][] = [
        ['Data.request.TerminalTXNNumber', (_d, req) => delete req.TerminalTXNNumber],
        ['Data.request.HostSerialNumber', (_d, req) => delete req.HostSerialNumber],
        ['Data.request.DeviceID', (_d, req) => delete req.DeviceID],
        ['Data.request.Amount', (_d, req) => (req.Amount = '')],
        ['Data.OrderId', (d) => delete d.OrderId],
        ['Data.Retry', (d) => delete d.Retry],
        ['Data.Retry', (d) => (d.Retry = '0')],
        ['Data.request', (d) => delete d.request],
      ];
      for (const [path, mutate] of cases) {
        const r = clone(SEED_FAILED);
        const d = r.Data as Record<string, unknown>;
        mutate(d, (d.request ?? {}) as Record<string, unknown>);
        const err = thrown(() => buildRetryRequest(r));
        assert.ok(err instanceof ValidationError, path);
        assert.equal(err.field, path);
        assert.ok(err.message.startsWith(`${path}: `), err.message);
      }
    });

    it('adds RefundKey and ActionType for Refund / Cancel / EZCRefund, and requires the refund key', function () {
      const refund = refundFailure('01');
      const err = thrown(() => buildRetryRequest(refund));
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'refundKey');
      const draft = buildRetryRequest(refund, { refundKey: sha256(REFUND_PASSWORD) });
      assert.deepEqual(draft.Data, { ...SEED_DATA_FIELDS, Retry: '1', RefundKey: sha256(REFUND_PASSWORD), ActionType: '01' });
      for (const serviceType of ['Cancel', 'EZCRefund']) {
        const r = refundFailure();
        r.Header.ServiceType = serviceType;
        assert.equal((thrown(() => buildRetryRequest(r)) as ValidationError).field, 'refundKey');
        assert.deepEqual(buildRetryRequest(r, { refundKey: 'k' }).Data, { ...SEED_DATA_FIELDS, Retry: '1', RefundKey: 'k', ActionType: '' });
      }
      assert.equal('RefundKey' in buildRetryRequest(SEED_FAILED, { refundKey: 'k' }).Data, false);
    });
  });

  describe('runRetry against a Scan2Pay server', function () {
    it('follows the seed: failure Retry 1 → retry fails with Retry 2 → retry succeeds', async function () {
      const c = client({ clock: () => new Date(2018, 8, 20, 15, 25, 31) });
      server.script({ response: SEED_RETRY1_FAILED }, { response: SEED_RETRY2_SUCCESS });
      const waits: [number, number, number, number][] = [];
      const events: RetryAttemptEvent[] = [];
      const result = await runRetry(c, SEED_FAILED, {
        waitForCard: async (attempt, max, info) => {
          waits.push([attempt, max, info.retry, server.requests.length]);
        },
        onAttempt: (e) => events.push(e),
      });
      assert.equal(result.ok, true);
      assert.equal(result.attempts, 2);
      assert.deepEqual(result.response, SEED_RETRY2_SUCCESS);
      assert.equal(result.storeOrderNo, 'PO123456');
      // The card is asked for before each retry is sent.
      assert.deepEqual(waits, [
        [1, 3, 1, 0],
        [2, 3, 2, 1],
      ]);
      assert.deepEqual(
        events.map((e) => [e.attempt, e.retry, e.classification.outcome]),
        [
          [1, 1, 'retryable'],
          [2, 2, 'success'],
        ],
      );
      assert.equal(server.requests.length, 2);
      const [first, second] = server.requests;
      for (const req of [first!, second!]) {
        assert.equal(req.dataWasString, true, 'Data must be a JSON string');
        assert.equal(req.header.Method, '31800');
        assert.equal(req.header.ServiceType, 'Payment');
        assert.equal(req.header.TradeKey, sha256(PASSWORD));
        assert.equal(req.header.CreateTime, '20180920152531');
        assert.ok(!req.rawBody.includes(PASSWORD) && !req.plaintext.includes(PASSWORD));
      }
      assert.deepEqual(first!.data, { ...SEED_DATA_FIELDS, Retry: '1' });
      assert.deepEqual(second!.data, { ...SEED_DATA_FIELDS, Retry: '2' });
      // MchId of the erroneous transaction's Header (the seed's second reply spells it "Acoount0001").
      assert.equal(first!.header.MchId, 'Account0001');
      assert.equal(second!.header.MchId, 'Acoount0001');
      // Never a fresh payment: no Body, no Retry 0, the same StoreOrderNo.
      assert.ok(server.requests.every((r) => r.data.StoreOrderNo === 'PO123456' && r.data.Retry !== '0' && !('Body' in r.data)));
    });

    it('stops after the third retry fails: retries-exhausted, reportToEasyCard, exactly 3 requests', async function () {
      // The third reply still says "retry" (Retry 3, 000125): Retry 3 was the last one, so it must stop anyway.
      server.script({ response: failedReply('2') }, { response: failedReply('3', '046201') }, { response: failedReply('3') }, { response: SEED_RETRY2_SUCCESS });
      let waits = 0;
      const result = await runRetry(client(), SEED_FAILED, { waitForCard: async () => void (waits += 1) });
      assertFailure(result);
      assert.equal(result.reason, 'retries-exhausted');
      assert.equal(result.reportToEasyCard, true);
      assert.equal(result.resumable, false);
      assert.equal(result.attempts, 3);
      assert.equal(waits, 3);
      assert.equal(server.requests.length, 3);
      assert.deepEqual(
        server.requests.map((r) => r.data.Retry),
        ['1', '2', '3'],
      );
      assert.deepEqual(result.response, failedReply('3'));
    });

    it('sends nothing for a code that does not ask for a retry', async function () {
      for (const failed of [failedReply('1', '000051', '0000', 'Fail', SEED_FAILED), failedReply('0', '000125', '0000', 'Fail', SEED_FAILED)]) {
        let waits = 0;
        const result = await runRetry(client(), failed, { waitForCard: async () => void (waits += 1) });
        assertFailure(result);
        assert.deepEqual(
          { reason: result.reason, attempts: result.attempts, reportToEasyCard: result.reportToEasyCard, response: result.response },
          { reason: 'not-retryable', attempts: 0, reportToEasyCard: false, response: failed },
        );
        assert.equal(waits, 0);
      }
      assert.equal(server.hits, 0);
    });

    it('returns ok without sending anything for a response that is already a success', async function () {
      const result = await runRetry(client(), SEED_RETRY2_SUCCESS, { waitForCard: async () => assert.fail('no card needed') });
      assert.equal(result.ok, true);
      assert.equal(result.attempts, 0);
      assert.equal(server.hits, 0);
    });

    it('stops on 010128 (not the original card): card-mismatch', async function () {
      server.script({ response: failedReply('2', '010128') }, { response: SEED_RETRY2_SUCCESS });
      const result = await runRetry(client(), SEED_FAILED, { waitForCard: async () => undefined });
      assertFailure(result);
      assert.equal(result.reason, 'card-mismatch');
      assert.equal(result.attempts, 1);
      assert.equal(result.reportToEasyCard, true);
      assert.equal(server.requests.length, 1);
      assert.equal((result.response.Data as Record<string, unknown>).ErrorCode, '010128');
    });

    it('counts StatusCode 0000 with a failed ErrorCode as a failure (and keeps retrying when asked)', async function () {
      server.script({ response: failedReply('2', '046203', '0000', 'Fail') }, { response: SEED_RETRY2_SUCCESS });
      const ok = await runRetry(client(), SEED_FAILED, { waitForCard: async () => undefined });
      assert.equal(ok.ok, true);
      assert.equal(ok.attempts, 2);
      assert.deepEqual(
        server.requests.map((r) => r.data.Retry),
        ['1', '2'],
      );

      server.reset();
      server.script({ response: failedReply('0', '000098', '0000', 'Success') }, { response: SEED_RETRY2_SUCCESS });
      const bad = await runRetry(client(), SEED_FAILED, { waitForCard: async () => undefined });
      assertFailure(bad);
      assert.equal(bad.reason, 'not-retryable');
      assert.equal(bad.attempts, 1);
      assert.equal(bad.reportToEasyCard, true);
      assert.equal(server.requests.length, 1);
    });

    it('treats a 9997 (transaction ongoing) reply as a failure', async function () {
      server.script({ response: { Header: { StatusCode: '9997', StatusDesc: 'Transaction is ongoing', Method: '31800', ServiceType: 'Payment', MchId: 'Account0001' } } });
      const result = await runRetry(client(), SEED_FAILED, { waitForCard: async () => undefined });
      assertFailure(result);
      assert.equal(result.reason, 'not-retryable');
      assert.equal(result.classification.outcome, 'ongoing');
      assert.equal(result.reportToEasyCard, true);
      assert.equal(server.requests.length, 1);
    });

    it('refuses a Refund retry without a refund key (ValidationError, nothing sent) and sends RefundKey = sha256 when configured', async function () {
      let waits = 0;
      const err = await rejection(runRetry(client(), refundFailure('01'), { waitForCard: async () => void (waits += 1) }));
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, 'refundKey');
      assert.equal(waits, 0);
      assert.equal(server.hits, 0);
      errorsSeen.push(err);

      const success = clone(SEED_RETRY2_SUCCESS);
      success.Header.ServiceType = 'Refund';
      server.script({ response: success });
      const c = client({ refundKey: REFUND_PASSWORD });
      const result = await runRetry(c, refundFailure('01'), { waitForCard: async () => void (waits += 1) });
      assert.equal(result.ok, true);
      assert.equal(server.requests.length, 1);
      const req = server.requests[0]!;
      assert.equal(req.header.ServiceType, 'Refund');
      assert.deepEqual(req.data, { ...SEED_DATA_FIELDS, Retry: '1', RefundKey: sha256(REFUND_PASSWORD), ActionType: '01' });
      for (const where of [req.rawBody, req.plaintext]) {
        assert.ok(!where.includes(REFUND_PASSWORD));
        assert.ok(!where.includes(PASSWORD));
      }
    });

    it('does not resend when the outcome of a retry is unknown (HTTP error, undecryptable reply, timeout, dropped connection)', async function () {
      const replies = [{ status: 502, rawBody: 'bad gateway' }, { response: SEED_RETRY2_SUCCESS, wrongKey: true }, { response: SEED_RETRY2_SUCCESS, delayMs: 1500 }, { destroySocket: true }];
      const codes = ['E_EASYCARD_HTTP', 'E_EASYCARD_DECRYPT', 'E_EASYCARD_TIMEOUT', 'E_EASYCARD_NETWORK'];
      for (const [i, reply] of replies.entries()) {
        server.reset();
        server.script(reply, { response: SEED_RETRY2_SUCCESS }, { response: SEED_RETRY2_SUCCESS });
        const result = await runRetry(client({ timeoutMs: 300 }), SEED_FAILED, { waitForCard: async () => undefined });
        assertFailure(result);
        assert.equal(result.reason, 'unknown-outcome', codes[i]);
        assert.equal(result.attempts, 1);
        assert.equal(result.reportToEasyCard, true);
        assert.equal(result.resumable, false);
        assert.deepEqual(result.response, SEED_FAILED);
        assert.ok(result.error instanceof EasyCardError);
        assert.equal(result.error.code, codes[i]);
        assert.equal(server.requests.length, 1, 'exactly one request: no blind resend');
        errorsSeen.push(result.error);
      }
    });

    it('ends with not-sent when Scan2Pay cannot be reached, and the retry can be resumed from result.response', async function () {
      const down = client({ endpoint: `http://127.0.0.1:${await closedPort()}/allpaypass/api/general` });
      const result = await runRetry(down, SEED_FAILED, { waitForCard: async () => undefined });
      assertFailure(result);
      assert.equal(result.reason, 'not-sent');
      assert.equal(result.attempts, 0);
      assert.equal(result.reportToEasyCard, false);
      assert.equal(result.resumable, true);
      assert.ok(result.error instanceof EasyCardError);
      assert.equal(result.error.delivery, 'not-sent');
      errorsSeen.push(result.error);

      server.script({ response: SEED_RETRY2_SUCCESS });
      const resumed = await runRetry(client(), result.response, { waitForCard: async () => undefined });
      assert.equal(resumed.ok, true);
      assert.deepEqual(server.requests[0]!.data, { ...SEED_DATA_FIELDS, Retry: '1' });
    });

    it('is cancelled by the signal or a rejecting waitForCard before anything is sent', async function () {
      const ac = new AbortController();
      const aborted = await runRetry(client(), SEED_FAILED, {
        signal: ac.signal,
        waitForCard: async () => ac.abort(new Error('operator cancelled')),
      });
      assertFailure(aborted);
      assert.equal(aborted.reason, 'aborted');
      assert.equal(aborted.attempts, 0);
      assert.equal(aborted.resumable, true);
      assert.equal(aborted.error?.message, 'operator cancelled');

      const rejected = await runRetry(client(), SEED_FAILED, {
        waitForCard: async () => {
          throw new Error('no card');
        },
      });
      assertFailure(rejected);
      assert.equal(rejected.reason, 'aborted');
      assert.equal(server.hits, 0);
    });

    it('stops when a reply names another StoreOrderNo (never a new order)', async function () {
      const other = failedReply('2');
      (other.Data as Record<string, unknown>).OrderId = 'PO999999';
      server.script({ response: other }, { response: SEED_RETRY2_SUCCESS });
      const result = await runRetry(client(), SEED_FAILED, { waitForCard: async () => undefined });
      assertFailure(result);
      assert.equal(result.reason, 'invalid-response');
      assert.equal(result.reportToEasyCard, true);
      assert.equal(server.requests.length, 1);
    });

    it('EasyCardRetry refuses a second concurrent run for the same transaction', async function () {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      server.script({ response: SEED_RETRY2_SUCCESS });
      const retry = new EasyCardRetry(client(), { waitForCard: () => gate });
      const first = retry.run(SEED_FAILED);
      assert.deepEqual(retry.running, ['Account0001/PO123456']);
      const err = await rejection(retry.run(clone(SEED_FAILED)));
      assert.ok(err instanceof BusyError);
      release();
      const result = await first;
      assert.equal(result.ok, true);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(retry.running, []);
    });

    it('a redelivered failed response of a settled transaction is not retried again: its result comes back, nothing sent', async function () {
      server.script({ response: SEED_RETRY2_SUCCESS });
      const retry = new EasyCardRetry(client(), { waitForCard: async () => undefined });
      const first = await retry.run(SEED_FAILED);
      assert.equal(first.ok, true);
      assert.equal(server.requests.length, 1);
      const again = await retry.run(clone(SEED_FAILED));
      assert.equal(again.ok, true);
      assert.equal(again.duplicate, true);
      assert.equal(server.requests.length, 1);
    });

    it('no secret in any error seen in these tests', function () {
      assert.ok(errorsSeen.length >= 15, `only ${errorsSeen.length} errors collected`);
      for (const err of errorsSeen) {
        const texts = [err.message, err.stack ?? '', util.inspect(err, { depth: 5 }), String((err as { cause?: unknown }).cause ?? '')];
        for (const t of texts) {
          for (const secret of [PASSWORD, REFUND_PASSWORD, sha256(PASSWORD), sha256(REFUND_PASSWORD)]) {
            assert.ok(!t.includes(secret), `secret in ${err.name}: ${err.message}`);
          }
        }
      }
    });
  });
});
