import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { easycard } from '../lib';
import { LONG_REPLY_SHAPES } from './helpers/long-replies';
import { Scan2PayTestServer } from './helpers/scan2pay-server';

const { Scan2PayClient, makeRedactor, redactError, MAX_REPLY_BYTES } = easycard;
const IV = '8651731586517315';
const PASSWORD = 'trade-Pa55"w\\rd';
const REFUND = 'refund-K3y/+=';
const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** Every form a secret could be found in, to look for in the output. */
function leaks(text: string, secrets: string[]): string[] {
  const found: string[] = [];
  const views = [text, JSON.parse(JSON.stringify(text)) as string];
  for (const s of secrets) {
    for (const form of [s, s.toUpperCase(), JSON.stringify(s).slice(1, -1), encodeURIComponent(s), Buffer.from(s).toString('base64')]) {
      if (views.some((v) => v.toLowerCase().includes(form.toLowerCase()))) found.push(form);
    }
  }
  return found;
}

describe('EasyCard secrets redacted by value, at any depth and in any encoding (issue 13)', function () {
  this.timeout(20_000);
  const secrets = [PASSWORD, sha(PASSWORD), REFUND, sha(REFUND)];

  it('takes the secrets out of keys and values, JSON-encoded once and twice, URL-encoded, base64, upper-case hex', () => {
    const redact = makeRedactor(secrets);
    const echoed = { RefundKey: sha(REFUND), TradeKey: sha(PASSWORD), Note: 'x' };
    const value = {
      Header: { StatusCode: '0000', StatusDesc: `bad key ${sha(REFUND).toUpperCase()}` },
      Data: {
        request: JSON.stringify(JSON.stringify(echoed)),
        once: JSON.stringify({ Other: sha(PASSWORD) }),
        url: `a=1&k=${encodeURIComponent(REFUND)}&p=${encodeURIComponent(PASSWORD)}`,
        b64: Buffer.from(JSON.stringify({ k: sha(REFUND) })).toString('base64'),
        list: [[{ deep: [PASSWORD] }]],
        [sha(PASSWORD)]: 'as a key',
        kept: 'TXN 12345, amount 10.20',
      },
    };
    const out = redact(value);
    const text = JSON.stringify(out);
    assert.deepEqual(leaks(text, secrets), []);
    assert.ok(!Buffer.from((out.Data as Record<string, string>).b64, 'base64').toString().includes(sha(REFUND)));
    assert.equal((out.Data as Record<string, string>).kept, 'TXN 12345, amount 10.20');
    assert.match(text, /\[redacted\]/);
    // The input is not changed.
    assert.equal(value.Data.list[0]![0]!.deep[0], PASSWORD);
  });

  it("takes the secrets out of an error's message and stack and its causes, a cause that leads back to the error included", () => {
    const redact = makeRedactor([PASSWORD]);
    const inner = new Error(`socket said ${Buffer.from(PASSWORD).toString('base64')}`);
    const outer = new Error(`bad key ${PASSWORD}`, { cause: inner });
    (inner as Error & { cause?: unknown }).cause = outer;
    assert.equal(redactError(redact, outer), outer);
    for (const err of [outer, inner]) {
      assert.deepEqual(leaks(`${err.message}\n${err.stack}`, [PASSWORD]), [], err.message);
      assert.match(err.message, /\[redacted\]/);
    }
    assert.match(outer.stack!, /^Error: bad key \[redacted\]\n {4}at /);
  });

  describe('a secret anywhere inside a longer text, in each encoding (property tests)', () => {
    /** An encoding wrapped every `width` characters by `separator` (MIME and PEM wrap at 76 and 64; a log may at 16). */
    const wrap = (encoded: string, width: number, separator: string) => encoded.match(new RegExp(`.{1,${width}}`, 'g'))!.join(separator);
    /** The encodings a Scan2Pay echo, a proxy or a log line may give a secret. */
    const ENCODINGS: Record<string, (s: string) => string> = {
      plain: (s) => s,
      base64: (s) => Buffer.from(s, 'utf8').toString('base64'),
      base64url: (s) => Buffer.from(s, 'utf8').toString('base64url'),
      'hex (lower)': (s) => Buffer.from(s, 'utf8').toString('hex'),
      'hex (upper)': (s) => Buffer.from(s, 'utf8').toString('hex').toUpperCase(),
      'URL-encoded': (s) => encodeURIComponent(s),
      'URL-encoded, every byte': (s) => [...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
      'base64 as a URL parameter': (s) => encodeURIComponent(Buffer.from(s, 'utf8').toString('base64')),
      'base64 of JSON': (s) => Buffer.from(JSON.stringify({ TradeKey: s }), 'utf8').toString('base64'),
      'hex of base64': (s) => Buffer.from(Buffer.from(s, 'utf8').toString('base64'), 'utf8').toString('hex'),
      'JSON in ASCII only (\\u escapes)': (s) => JSON.stringify(s).slice(1, -1).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      'base64 of every byte URL-encoded': (s) => Buffer.from([...Buffer.from(s, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')).toString('base64'),
      'JSON as PHP writes it (\\/)': (s) => JSON.stringify(s).slice(1, -1).replace(/\//g, '\\/'),
      'JSON as .NET and Go write it (\\u002B, \\u0026, …)': (s) => JSON.stringify(s).slice(1, -1).replace(/[+&'<>]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0').toUpperCase()}`),
      'base64 of JSON inside a JSON string as .NET writes it': (s) => JSON.stringify(Buffer.from(JSON.stringify({ TradeKey: s })).toString('base64')).slice(1, -1).replace(/[+]/g, '\\u002B'),
      'HTML character references': (s) => s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : `&#${c.charCodeAt(0)};`)).replace(/\//g, '&#x2F;'),
      'URL as encodeURI and new URL write it (+ kept)': (s) => encodeURI(s),
      'base64 of JSON wrapped at 20 columns inside a JSON string (\\n)': (s) => JSON.stringify(wrap(Buffer.from(JSON.stringify({ TradeKey: s })).toString('base64'), 20, '\n')).slice(1, -1),
    };
    /** Text around the secret: words, digits, punctuation of logs and URLs, non-ASCII. */
    const around = fc.string({ unit: fc.constantFrom(...'abcXYZ019 :;,.=&?/+-_%"\'[]{}\n\té中'.split('')), maxLength: 40 });
    const secretArb = fc.oneof(
      fc.constantFrom(PASSWORD, REFUND, sha(PASSWORD), sha(REFUND)),
      fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$*+/=-_'.split('')), minLength: 8, maxLength: 24 }),
      // Not only ASCII: a password may hold letters of other scripts.
      fc.string({ unit: fc.constantFrom(...'abcXYZ0123!#äöüéñ€中文'.split('')), minLength: 6, maxLength: 16 }),
    );

    for (const [name, encode] of Object.entries(ENCODINGS)) {
      it(`${name}: never left in the output, whatever text stands before and after`, () => {
        fc.assert(
          fc.property(secretArb, around, around, fc.boolean(), (secret, before, after, spaced) => {
            const encoded = encode(secret);
            const text = spaced ? `${before} ${encoded} ${after}` : `${before}${encoded}${after}`;
            const out = makeRedactor([secret])({ Header: { StatusDesc: text }, Data: { [`k ${encoded}`]: 1 } });
            const flat = JSON.stringify(out);
            // The strings themselves, not only their JSON (which doubles an encoding's backslashes).
            for (const left of [out.Header.StatusDesc, ...Object.keys(out.Data), flat]) {
              assert.ok(!left.includes(encoded), `${name} of ${JSON.stringify(secret)} left in ${JSON.stringify(left)}`);
              assert.ok(!left.includes(secret), `${JSON.stringify(secret)} left in ${JSON.stringify(left)}`);
            }
          }),
          { numRuns: 300 },
        );
      });
    }

    it('a digest printed in groups (of 8, byte by byte, colon-separated) or as its raw bytes in base64 is taken out', () => {
      const digest = sha(PASSWORD);
      const redact = makeRedactor([PASSWORD, digest]);
      const forms = [
        digest.match(/.{8}/g)!.join(' '),
        digest.toUpperCase().match(/.{2}/g)!.join(' '),
        digest.match(/.{2}/g)!.join(':'),
        digest.match(/.{32}/g)!.join('\n'),
        Buffer.from(digest, 'hex').toString('base64'),
        Buffer.from(digest, 'hex').toString('base64url'),
      ];
      for (const form of forms) {
        const out = redact({ Header: { StatusDesc: `key ${form} end` } }).Header.StatusDesc;
        assert.ok(out.includes('[redacted]') && !out.includes(form), `${form} left in ${out}`);
      }
      // The raw bytes of a digest in base64 as its own run: the text around it stays.
      assert.equal(redact({ k: `k=${forms[4]!}&n=1` }).k, 'k=[redacted]&n=1');
      // A short secret is not read out of words joined by chance: a refund key 1234 beside a time of 12:34.
      assert.equal(makeRedactor(['1234'])({ t: 'paid at 12:34, 12 34 left' }).t, 'paid at 12:34, 12 34 left');
    });

    it('an encoding glued to text that decodes to stray bytes around it (hex of base64 after "0b1a") is still taken out', () => {
      // Found by the property above: "0b1a" + hex decodes to two control bytes before the base64 of the secret.
      const encoded = ENCODINGS['hex of base64']!('aaaaaaaa');
      for (const text of [`0b1a${encoded}`, `${encoded}0b1a`, `0b1a${encoded}7f`]) {
        const out = makeRedactor(['aaaaaaaa'])({ Header: { StatusDesc: text } });
        assert.equal(out.Header.StatusDesc, '[redacted]');
      }
      // Base64 of JSON glued to letters that decode to stray bytes: the run goes, the text around it stays.
      const b64 = Buffer.from(JSON.stringify({ key: 'aaaaaaaa' })).toString('base64');
      const out = makeRedactor(['aaaaaaaa'])({ Header: { StatusDesc: `ref: zzz${b64} ok` } });
      assert.equal(out.Header.StatusDesc, 'ref: [redacted] ok');
      // The secret's own base64 is found as text, glued or not: only it goes.
      const own = makeRedactor(['aaaaaaaa'])({ Header: { StatusDesc: `ref: zzz${Buffer.from('aaaaaaaa').toString('base64')} ok` } });
      assert.equal(own.Header.StatusDesc, 'ref: zzz[redacted] ok');
    });

    const WRAPPED: Record<string, (s: string) => string> = {
      'base64 of JSON': (s) => Buffer.from(JSON.stringify({ TradePassword: s }), 'utf8').toString('base64'),
      'base64url of JSON': (s) => Buffer.from(JSON.stringify({ TradePassword: s }), 'utf8').toString('base64url'),
      'hex of JSON': (s) => Buffer.from(JSON.stringify({ TradePassword: s }), 'utf8').toString('hex'),
      base64: (s) => Buffer.from(s, 'utf8').toString('base64'),
    };
    for (const [name, encode] of Object.entries(WRAPPED)) {
      it(`${name}, wrapped at any width by newlines, CRLF or spaces: never left in the output, as a value or under a key`, () => {
        fc.assert(
          fc.property(
            secretArb,
            around,
            around,
            fc.integer({ min: 1, max: 80 }),
            fc.constantFrom('\n', '\r\n', ' ', '\n  ', '\t'),
            (secret, before, after, width, separator) => {
              const encoded = encode(secret);
              const wrapped = wrap(encoded, width, separator);
              const text = `${before}${separator}${wrapped}${separator}${after}`;
              const out = makeRedactor([secret])({ Header: { StatusDesc: text }, Data: { nested: { echo: wrapped }, [`k ${wrapped}`]: 1 } });
              const strings = [out.Header.StatusDesc, out.Data.nested.echo, ...Object.keys(out.Data)];
              for (const s of strings) {
                assert.ok(!s.replace(/\s+/g, '').includes(encoded), `${name} of ${JSON.stringify(secret)} left in ${JSON.stringify(s)}`);
                assert.ok(!s.includes(secret), `${JSON.stringify(secret)} left in ${JSON.stringify(s)}`);
              }
            },
          ),
          { numRuns: 300 },
        );
      });
    }

    it('a trade password in base64 of JSON wrapped at 16 and at 76 columns is taken out; the text around it stays', () => {
      const redact = makeRedactor([PASSWORD]);
      const b64 = Buffer.from(JSON.stringify({ TradePassword: PASSWORD, Amount: 1020, Note: 'x'.repeat(80) })).toString('base64');
      for (const width of [16, 76]) {
        const wrapped = wrap(b64, width, '\n');
        const out = redact({ body: `echo:\n${wrapped}\n(terminal 42)`, nested: { under: { key: wrapped } } });
        // Where one line alone reveals the password (76 columns), that line goes; else the wrapped run does.
        assert.match(out.body, /^echo:\n\[redacted\]\n(?:[A-Za-z0-9+/=]+\n)*\(terminal 42\)$/);
        assert.match(out.nested.under.key, /^\[redacted\]/);
        for (const s of [out.body, out.nested.under.key]) {
          const joined = s.replace(/\s+/g, '');
          for (let skip = 0; skip < 4; skip++) assert.ok(!Buffer.from(joined.slice(skip), 'base64').toString('latin1').includes(PASSWORD), s);
        }
        if (width === 16) assert.equal(out.body, 'echo:\n[redacted]\n(terminal 42)');
      }
    });

    it('takes out only the run that holds a secret: the text around it stays', () => {
      const redact = makeRedactor([PASSWORD, sha(PASSWORD)]);
      const b64 = Buffer.from(sha(PASSWORD)).toString('base64');
      assert.equal(redact(`echo: ${b64} (terminal 42)`), 'echo: [redacted] (terminal 42)');
      assert.equal(redact(`https://pay.example/cb?id=7&k=${encodeURIComponent(b64)}&ok=1`), 'https://pay.example/cb?id=7&k=[redacted]&ok=1');
      assert.equal(redact(`TXN ${Buffer.from('nothing secret here').toString('base64')} amount 10.20`), `TXN ${Buffer.from('nothing secret here').toString('base64')} amount 10.20`);
    });

    for (const [shape, make] of Object.entries(LONG_REPLY_SHAPES)) {
      it(`a reply as long as a reply may be (MAX_REPLY_BYTES), ${shape}, is redacted in seconds at most`, () => {
        const redact = makeRedactor([PASSWORD, sha(PASSWORD), REFUND, sha(REFUND)]);
        const big = make(MAX_REPLY_BYTES);
        assert.ok(big.length > MAX_REPLY_BYTES * 0.9 && big.length <= MAX_REPLY_BYTES * 1.02, `${big.length} characters`);
        // CPU time, not wall time: the work done, whatever else the machine runs meanwhile.
        const started = process.cpuUsage();
        assert.equal(redact(big), big);
        const used = process.cpuUsage(started);
        const ms = (used.user + used.system) / 1000;
        // Under 1 s on a 2-core VM: a bound that catches matching gone quadratic (an hour for one run) or decoding gone exponential, not a benchmark.
        assert.ok(ms < 5000, `${ms} ms of CPU`);
      });
    }
  });

  it("a reply that echoes the request JSON-encoded twice reaches the caller without the TradeKey or the refund key's hash", async () => {
    const server = await new Scan2PayTestServer({ iv: IV }).start();
    try {
      server.script((req) => ({
        response: {
          Header: { StatusCode: '0000', StatusDesc: 'ok', Method: '00000', ServiceType: req.header.ServiceType },
          Data: JSON.stringify({ request: JSON.stringify(JSON.stringify(req.request)), RefundKey: sha(REFUND) }),
        },
      }));
      const client = new Scan2PayClient({ endpoint: server.url, mchId: 'Account0001', tradePassword: PASSWORD, refundKey: REFUND, rsaPublicKey: server.publicKeyPem, aesIv: IV, timeoutMs: 5000 });
      const reply = await client.send({ Header: { Method: '00000', ServiceType: 'EZCRefund' }, Data: { x: 1 } });
      assert.ok(JSON.stringify(reply).includes(sha(PASSWORD)), 'the test reply should carry the TradeKey before redaction');
      assert.deepEqual(leaks(JSON.stringify(client.redact(reply)), secrets), []);
    } finally {
      await server.close();
    }
  });

  it('refuses a Scan2Pay reply longer than the bound, declared or streamed, without reading it all', async () => {
    const big = 'x'.repeat(MAX_REPLY_BYTES + 1);
    let streamedBytes = 0;
    const raw = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/declared') {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) });
          res.end(big);
          return;
        }
        // Chunked, no length: keeps writing until the client hangs up.
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && streamedBytes < 64 * MAX_REPLY_BYTES) {
            streamedBytes += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        res.on('close', () => undefined);
        pump();
      });
    });
    raw.listen(0, '127.0.0.1');
    await new Promise((r) => raw.once('listening', r));
    const port = (raw.address() as AddressInfo).port;
    const keys = await new Scan2PayTestServer({ iv: IV }, undefined);
    try {
      for (const path of ['/declared', '/streamed']) {
        const client = new Scan2PayClient({ endpoint: `http://127.0.0.1:${port}${path}`, mchId: 'A', tradePassword: PASSWORD, rsaPublicKey: keys.publicKeyPem, aesIv: IV, timeoutMs: 10_000 });
        await assert.rejects(client.send({ Header: { Method: '00000', ServiceType: 'Payment' }, Data: {} }), (e: unknown) => {
          assert.equal((e as { code?: string }).code, 'E_EASYCARD_RESPONSE');
          assert.match((e as Error).message, /longer than/);
          return true;
        });
      }
      assert.ok(streamedBytes < 16 * MAX_REPLY_BYTES, `the client read on: ${streamedBytes} bytes sent`);
    } finally {
      raw.closeAllConnections();
      await new Promise((r) => raw.close(r));
    }
  });
});
