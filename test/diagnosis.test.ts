import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  CounterWindow,
  CRC_ERRORS_FAULT,
  diagnose,
  DIAGNOSIS_CODES,
  DIAGNOSIS_WINDOW_MS,
  faultOfError,
  NOISE_BYTES_FAULT,
  NOISE_QUIET_MS,
  type DiagnosisCode,
  type LineFacts,
} from '../lib/session/diagnosis';
import { UNDECRYPTABLE_GRACE_MS } from '../lib/session/exchange';
import { emptyLineCounters, type LineCounters } from '../lib/transport/line-counters';
import { connectionStateOf, SHOWN_DIAGNOSES } from '../lib/terminal';
import { connectionStatus } from '../nodes/common/status';

const catalog = (lang: string) => JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'locales', lang, 'wonder-terminal.json'), 'utf8'));

const quiet: LineFacts = { stream: true, transport: 'connected', recent: emptyLineCounters(), sinceFrameMs: 500 };
const noise = (bytes: number, crc = 0): LineCounters => ({ ...emptyLineCounters(), noiseBytes: bytes, crcErrors: crc });
const withCode = (message: string, code?: string, nested = true): Error => {
  const inner = Object.assign(new Error('inner'), code === undefined ? {} : { code });
  return nested ? new Error(message, { cause: inner }) : Object.assign(new Error(message), code === undefined ? {} : { code });
};

type Row = [string, Partial<LineFacts>, DiagnosisCode | undefined];
/** What faultOfError can name: the link's own faults. */
const LINK_FAULTS: DiagnosisCode[] = ['port-gone', 'port-unavailable', 'host-unreachable', 'host-refused', 'host-not-found', 'tls-refused', 'http-error', 'gateway-error', 'no-answer'];

/** The whole table: facts → cause. */
const TABLE: Row[] = [
  ['a quiet healthy line', {}, undefined],
  ['nothing judged while closed', { transport: 'closed', recent: noise(500), sinceFrameMs: Infinity }, undefined],
  ['nothing judged while connecting', { transport: 'connecting', lastHeard: { what: 'undecryptable', agoMs: 9_000 } }, undefined],
  ['the port is gone', { transport: 'reconnecting', linkFault: 'port-gone' }, 'port-gone'],
  ['the port is gone, whatever else was seen', { transport: 'reconnecting', linkFault: 'port-gone', recent: noise(500), sinceFrameMs: Infinity, lastHeard: { what: 'undecryptable', agoMs: 5_000 } }, 'port-gone'],
  ['LAN host refuses', { stream: false, transport: 'reconnecting', linkFault: 'host-refused' }, 'host-refused'],
  ['LAN host unreachable', { stream: false, transport: 'reconnecting', linkFault: 'host-unreachable' }, 'host-unreachable'],
  ['LAN host not found', { stream: false, transport: 'reconnecting', linkFault: 'host-not-found' }, 'host-not-found'],
  ['noise with no frame for a second: the baud rate or the cable', { recent: noise(NOISE_BYTES_FAULT), sinceFrameMs: NOISE_QUIET_MS }, 'no-valid-frames'],
  ['noise and never a frame', { recent: noise(4_000), sinceFrameMs: Infinity }, 'no-valid-frames'],
  ['CRC failures with no frame', { recent: noise(0, CRC_ERRORS_FAULT), sinceFrameMs: 3_000 }, 'no-valid-frames'],
  ['a glitch of a few bytes is no fault', { recent: noise(NOISE_BYTES_FAULT - 1, CRC_ERRORS_FAULT - 1), sinceFrameMs: 5_000 }, undefined],
  ['noise just ahead of a frame is no fault', { recent: noise(200), sinceFrameMs: NOISE_QUIET_MS - 1 }, undefined],
  ['noise on an HTTP link means nothing', { stream: false, recent: noise(500), sinceFrameMs: Infinity }, undefined],
  ['no valid frame stays until one arrives', { previous: { code: 'no-valid-frames', framesSince: 0 } }, 'no-valid-frames'],
  ['a valid frame ends it', { previous: { code: 'no-valid-frames', framesSince: 1 } }, undefined],
  ['no valid frame, then time-outs: still the line', { linkFault: 'no-answer', previous: { code: 'no-valid-frames', framesSince: 0 } }, 'no-valid-frames'],
  ['an answer that did not decrypt, past the grace: the pairing code', { lastHeard: { what: 'undecryptable', agoMs: UNDECRYPTABLE_GRACE_MS } }, 'undecryptable'],
  ['within the grace the genuine answer may follow', { lastHeard: { what: 'undecryptable', agoMs: UNDECRYPTABLE_GRACE_MS - 1 } }, undefined],
  ['over HTTP the reply was the only answer', { stream: false, lastHeard: { what: 'undecryptable', agoMs: 0 } }, 'undecryptable'],
  ['undecryptable stays while nothing else is heard', { lastHeard: { what: 'undecryptable', agoMs: 10 }, previous: { code: 'undecryptable', framesSince: 3 } }, 'undecryptable'],
  ['a decrypted answer ends it', { lastHeard: { what: 'answer', agoMs: 10 }, previous: { code: 'undecryptable', framesSince: 3 } }, undefined],
  ['undecryptable before noise', { lastHeard: { what: 'undecryptable', agoMs: 3_000 }, recent: noise(500), sinceFrameMs: 3_000 }, 'undecryptable'],
  ['the terminal said busy', { lastHeard: { what: 'busy', agoMs: 10 } }, 'terminal-busy'],
  ['busy, with time-outs since', { lastHeard: { what: 'busy', agoMs: 10 }, linkFault: 'no-answer' }, 'terminal-busy'],
  ['a serial line that never answers', { linkFault: 'no-answer' }, 'no-answer'],
  ['an answer ends busy', { lastHeard: { what: 'answer', agoMs: 10 }, previous: { code: 'terminal-busy', framesSince: 1 } }, undefined],
];

describe('diagnosis (pure, table-driven)', () => {
  for (const [name, facts, expected] of TABLE) {
    it(`${name} → ${expected ?? 'no fault'}`, () => {
      assert.equal(diagnose({ ...quiet, ...facts }), expected);
    });
  }

  it('errors name their fault: the port, the host, TLS, HTTP, the gateway, time-outs', () => {
    const named = new Set<DiagnosisCode>();
    const rows: Array<[unknown, boolean, DiagnosisCode | undefined]> = [
      [withCode('cannot open serial port /dev/ttyUSB0: Error: No such file or directory, cannot open /dev/ttyUSB0'), true, 'port-gone'],
      [withCode('cannot open serial port /dev/ttyUSB0: x', 'ENOENT'), true, 'port-gone'],
      [withCode('serial port /dev/ttyUSB0 was lost: port closed'), true, 'port-gone'],
      [withCode('serial port /dev/ttyUSB0 was lost: read error', 'EIO'), true, 'port-gone'],
      [withCode('cannot open serial port /dev/ttyS0: Permission denied', 'EACCES'), true, 'port-unavailable'],
      [withCode('cannot open serial port /dev/ttyS0: Resource busy', 'EBUSY'), true, 'port-unavailable'],
      [withCode('LAN terminal 127.0.0.1:1 failed', 'ECONNREFUSED'), false, 'host-refused'],
      [withCode('LAN terminal 10.0.0.9:8443 failed', 'EHOSTUNREACH'), false, 'host-unreachable'],
      [withCode('LAN terminal 10.0.0.9:8443 failed', 'ETIMEDOUT'), false, 'host-unreachable'],
      [withCode('LAN terminal nowhere:8443 failed', 'ENOTFOUND'), false, 'host-not-found'],
      [withCode('TLS', 'DEPTH_ZERO_SELF_SIGNED_CERT'), false, 'tls-refused'],
      [new Error('LAN terminal 1.2.3.4:8443 answered HTTP 502'), false, 'http-error'],
      [Object.assign(new Error('gateway said no'), { name: 'CloudApiError' }), false, 'gateway-error'],
      [withCode('DeviceInfo: no answer', 'E_TIMEOUT', false), true, 'no-answer'],
      [withCode('DeviceInfo: no answer', 'E_TIMEOUT', false), false, 'no-answer'],
      [new Error('something else'), false, undefined],
      [undefined, true, undefined],
    ];
    for (const [err, stream, expected] of rows) {
      assert.equal(faultOfError(err, stream), expected, String((err as Error | undefined)?.message));
      if (expected !== undefined) named.add(expected);
    }
    assert.deepEqual([...named].sort(), [...LINK_FAULTS].sort(), 'every link fault has a row');
  });

  it('property: the port or host fault wins over everything the line says', () => {
    const linkFaults = LINK_FAULTS.filter((c) => c !== 'no-answer');
    fc.assert(
      fc.property(facts(), fc.constantFrom(...linkFaults), (f, fault) => {
        assert.equal(diagnose({ ...f, linkFault: fault }), fault);
      }),
    );
  });

  it('property: an HTTP link never has no-valid-frames; nothing is judged while connecting without a link fault', () => {
    fc.assert(
      fc.property(facts(), (f) => {
        assert.notEqual(diagnose({ ...f, stream: false }), 'no-valid-frames');
        const { linkFault: _ignored, ...rest } = f;
        assert.equal(diagnose({ ...rest, transport: 'connecting' }), undefined);
      }),
    );
  });

  it('property: a fresh decrypted answer with no noise and no link fault means no fault', () => {
    fc.assert(
      fc.property(facts(), (f) => {
        const { linkFault: _l, previous: _p, ...rest } = f;
        assert.equal(diagnose({ ...rest, recent: emptyLineCounters(), lastHeard: { what: 'answer', agoMs: 5 } }), undefined);
      }),
    );
  });

  it('property: the result is always a known code or none', () => {
    fc.assert(fc.property(facts(), (f) => assert.ok(diagnose(f) === undefined || DIAGNOSIS_CODES.includes(diagnose(f)!))));
  });

  it('every cause has its text in en-US, zh-TW and zh-CN; the status ones under 20 characters', () => {
    const [en, tw, cn] = ['en-US', 'zh-TW', 'zh-CN'].map(catalog);
    for (const code of DIAGNOSIS_CODES) {
      for (const c of [en, tw, cn]) assert.ok(typeof c.diagnosis[code] === 'string' && c.diagnosis[code].length > 10, code);
      assert.notEqual(tw.diagnosis[code], cn.diagnosis[code], `${code}: Traditional and Simplified differ`);
    }
    for (const code of SHOWN_DIAGNOSES) {
      for (const c of [en, tw, cn]) assert.ok(typeof c.status.cause[code] === 'string' && c.status.cause[code].length < 20, code);
    }
    assert.equal(en.diagnosis['no-valid-frames'].includes('check the baud rate and the cable'), true);
    assert.equal(en.diagnosis.undecryptable.includes('check the pairing code'), true);
  });

  it('the state and status a diagnosis shows: its own words where the link cause has none', () => {
    const base = { configured: true, closing: false, transport: 'connected' as const, link: { ok: true as const }, kind: 'serial', pairAgain: false };
    for (const code of SHOWN_DIAGNOSES) {
      assert.equal(connectionStateOf({ ...base, diagnosis: code }), `unreachable:${code}`);
      assert.equal(connectionStatus(`unreachable:${code}`).text, `node-red-contrib-wonder-ecr/wonder-terminal:status.cause.${code}`);
      assert.equal(connectionStatus(`unreachable:${code}`).fill, code === 'terminal-busy' ? 'yellow' : 'red');
    }
    // A refused host reads as the link's cause; a closing terminal, closed; pair again wins over what the line says.
    assert.equal(connectionStateOf({ ...base, kind: 'lan', transport: 'reconnecting', link: { ok: false, cause: 'refused' }, diagnosis: 'host-refused' }), 'unreachable:refused');
    assert.equal(connectionStateOf({ ...base, closing: true, diagnosis: 'port-gone' }), 'closed');
    assert.equal(connectionStateOf({ ...base, pairAgain: true, diagnosis: 'undecryptable' }), 'pair-again');
    assert.equal(connectionStateOf({ ...base, transport: 'reconnecting', link: { ok: false, cause: 'port' }, diagnosis: 'port-gone' }), 'unreachable:port-gone');
  });

  describe('the sliding window', () => {
    it('counts what had come a sample ago, since the later of the window start and the last valid frame', () => {
      const w = new CounterWindow(10_000);
      const c = emptyLineCounters();
      assert.deepEqual(w.sample(0, c), { recent: emptyLineCounters(), sinceFrameMs: Infinity });
      c.noiseBytes = 40;
      // Just arrived: its frame may be a moment behind it.
      assert.equal(w.sample(1_000, c).recent.noiseBytes, 0);
      assert.equal(w.sample(2_000, c).recent.noiseBytes, 40);
      // A valid frame: the noise before it no longer counts.
      c.framesReceived = 1;
      assert.deepEqual(w.sample(3_000, c), { recent: emptyLineCounters(), sinceFrameMs: 0 });
      c.noiseBytes = 100;
      assert.equal(w.sample(4_000, c).recent.noiseBytes, 0);
      assert.deepEqual(w.sample(5_000, c), { recent: { ...emptyLineCounters(), noiseBytes: 60 }, sinceFrameMs: 2_000 });
      // The window moves on: old noise drops out.
      assert.deepEqual(w.sample(5_000 + DIAGNOSIS_WINDOW_MS, c), { recent: emptyLineCounters(), sinceFrameMs: 2_000 + DIAGNOSIS_WINDOW_MS });
    });

    it('noise seen at one sample and its frame at the next is no fault', () => {
      const w = new CounterWindow(10_000);
      const c = emptyLineCounters();
      w.sample(0, c);
      c.framesReceived = 1;
      w.sample(1_000, c);
      // A corrupt copy (300 bytes) lands just before a tick, its good frame just after.
      c.noiseBytes = 300;
      c.crcErrors = 1;
      assert.equal(w.sample(5_000, c).recent.noiseBytes, 0);
      c.framesReceived = 2;
      const { recent, sinceFrameMs } = w.sample(6_000, c);
      assert.deepEqual(recent, emptyLineCounters());
      assert.equal(diagnose({ ...quiet, recent, sinceFrameMs }), undefined);
    });

    it('property: what it reports is never negative and never more than the counters gained', () => {
      fc.assert(
        fc.property(fc.array(fc.record({ dt: fc.integer({ min: 1, max: 5_000 }), frames: fc.nat(3), noise: fc.nat(100), crc: fc.nat(2) }), { maxLength: 60 }), (steps) => {
          const w = new CounterWindow(10_000);
          const c = emptyLineCounters();
          let now = 0;
          w.sample(now, c);
          for (const s of steps) {
            now += s.dt;
            c.framesReceived += s.frames;
            c.noiseBytes += s.noise;
            c.crcErrors += s.crc;
            const { recent, sinceFrameMs } = w.sample(now, c);
            for (const k of Object.keys(recent) as Array<keyof LineCounters>) assert.ok(recent[k] >= 0 && recent[k] <= c[k], k);
            if (s.frames > 0) {
              assert.equal(sinceFrameMs, 0);
              assert.deepEqual(recent, emptyLineCounters(), 'nothing is a fault at a sample that saw a frame');
            }
          }
        }),
      );
    });
  });
});

function facts(): fc.Arbitrary<LineFacts> {
  const counters = fc.record({ framesReceived: fc.nat(50), crcErrors: fc.nat(5), noiseBytes: fc.nat(5_000), timeouts: fc.nat(5), undecryptable: fc.nat(5) });
  return fc.record(
    {
      stream: fc.boolean(),
      transport: fc.constantFrom('closed', 'connecting', 'connected', 'reconnecting'),
      linkFault: fc.constantFrom(...LINK_FAULTS),
      recent: counters,
      sinceFrameMs: fc.oneof(fc.nat(60_000), fc.constant(Infinity)),
      lastHeard: fc.record({ what: fc.constantFrom('answer', 'undecryptable', 'busy'), agoMs: fc.nat(60_000) }),
      previous: fc.record({ code: fc.constantFrom(...DIAGNOSIS_CODES), framesSince: fc.nat(3) }),
    },
    { requiredKeys: ['stream', 'transport', 'recent', 'sinceFrameMs'] },
  ) as fc.Arbitrary<LineFacts>;
}
