import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { catalog, withCatalog } from './helpers/catalog';
import { helper, nodes, type Msg, nextMessage, useRuntime } from './helpers/node-red';
import { coreNode } from './helpers/node-red-install';
import { displayWidth } from '../lib/session/receipt';

/**
 * examples/receipt-printer.json in a real Node-RED runtime: a sale on the
 * simulated terminal, its msg.receipt turned into ESC/POS bytes by the
 * example's function node and sent by Node-RED's own tcp request node to a
 * loopback "printer" (a TCP server), which parses what it received.
 */
const root = path.resolve(__dirname, '..', '..');
const { catch: catchNode, ...ours } = nodes;
const core = ['common/20-inject.js', 'common/90-comment.js', 'function/10-function.js', 'network/31-tcpin.js', 'storage/10-file.js'].map((f) => coreNode(f));
type Lang = 'en-US' | 'zh-TW' | 'zh-CN';
type Encoding = 'ascii' | 'gb18030' | 'big5' | 'utf8';

/** A loopback printer: each connection's bytes, once the sender has closed it. */
class Printer {
  readonly jobs: Buffer[] = [];
  private readonly server = net.createServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    socket.on('end', () => {
      this.jobs.push(Buffer.concat(chunks));
      socket.end();
      for (const w of this.waiting.splice(0)) w();
    });
  });
  private waiting: Array<() => void> = [];
  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }
  /** Resolves with the next job received. */
  async job(timeoutMs = 15_000): Promise<Buffer> {
    const index = this.jobs.length;
    const deadline = Date.now() + timeoutMs;
    while (this.jobs.length <= index) {
      if (Date.now() > deadline) throw new Error('the printer received nothing');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.waiting.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.jobs[index]!;
  }
  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A parsed ESC/POS stream: commands, and the text between line feeds (raw bytes). */
type Token =
  | { cmd: 'init' }
  | { cmd: 'codepage'; n: number }
  | { cmd: 'chinese-on' }
  | { cmd: 'encoding'; m: number }
  | { cmd: 'feed'; n: number }
  | { cmd: 'cut'; m: number }
  | { cmd: 'line'; bytes: Buffer };

/** The ESC/POS commands the example may send; any other control byte fails the parse. */
function parseEscPos(data: Buffer): Token[] {
  const out: Token[] = [];
  let text: number[] = [];
  let i = 0;
  const need = (n: number) => {
    if (i + n > data.length) throw new Error(`a command cut short at byte ${i}`);
  };
  while (i < data.length) {
    const b = data[i]!;
    if (b === 0x0a) {
      out.push({ cmd: 'line', bytes: Buffer.from(text) });
      text = [];
      i += 1;
    } else if (b === 0x1b) {
      need(2);
      const c = data[i + 1]!;
      if (c === 0x40) {
        out.push({ cmd: 'init' });
        i += 2;
      } else if (c === 0x74) {
        need(3);
        out.push({ cmd: 'codepage', n: data[i + 2]! });
        i += 3;
      } else if (c === 0x64) {
        need(3);
        out.push({ cmd: 'feed', n: data[i + 2]! });
        i += 3;
      } else throw new Error(`unknown ESC 0x${c.toString(16)} at byte ${i}`);
    } else if (b === 0x1d) {
      need(3);
      if (data[i + 1] !== 0x56) throw new Error(`unknown GS 0x${data[i + 1]!.toString(16)} at byte ${i}`);
      out.push({ cmd: 'cut', m: data[i + 2]! });
      i += 3;
    } else if (b === 0x1c) {
      need(2);
      const c = data[i + 1]!;
      if (c === 0x26) {
        out.push({ cmd: 'chinese-on' });
        i += 2;
      } else if (c === 0x28) {
        // FS ( C pL pH fn m: select the character encoding (fn 48).
        need(7);
        assert.deepEqual([...data.subarray(i + 2, i + 6)], [0x43, 0x02, 0x00, 0x30], 'FS ( C, function 48');
        out.push({ cmd: 'encoding', m: data[i + 6]! });
        i += 7;
      } else throw new Error(`unknown FS 0x${c.toString(16)} at byte ${i}`);
    } else if (b < 0x20 || b === 0x7f) {
      throw new Error(`control byte 0x${b.toString(16)} in the text at byte ${i}`);
    } else {
      text.push(b);
      i += 1;
    }
  }
  if (text.length > 0) throw new Error(`text after the last line feed: ${Buffer.from(text).toString('latin1')}`);
  return out;
}

/** The copies as printed: the text lines before each feed-and-cut. */
function copies(tokens: Token[], decode: (b: Buffer) => string): string[][] {
  const out: string[][] = [];
  let lines: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.cmd === 'line') lines.push(decode(t.bytes));
    else if (t.cmd === 'feed') {
      const next = tokens[k + 1];
      assert.ok(next?.cmd === 'cut', 'a feed, then the cut');
      assert.ok(t.n >= 3, `fed ${t.n} lines before the cut: the last line must pass the cutter`);
      out.push(lines);
      lines = [];
    }
  }
  assert.deepEqual(lines, [], 'lines after the last cut');
  return out;
}

const asciiOnly = (b: Buffer) => {
  assert.ok(b.every((x) => x >= 0x20 && x < 0x7f), `not ASCII: ${b.toString('hex')}`);
  return b.toString('latin1');
};

describe('the receipt printer example: msg.receipt as ESC/POS through Node-RED\'s tcp request node to a loopback printer', function () {
  this.timeout(30_000);
  useRuntime();
  let printer: Printer;
  let port: number;

  beforeEach(async () => {
    printer = new Printer();
    port = await printer.listen();
  });
  afterEach(async () => {
    await printer.close();
  });

  /** The example pointed at the loopback printer, with the given width and printer encoding, texts in `lang`. */
  async function load(options: { width: 32 | 48; encoding?: Encoding; lang?: Lang; printerPort?: number }): Promise<void> {
    const flow = (JSON.parse(fs.readFileSync(path.join(root, 'examples', 'receipt-printer.json'), 'utf8')) as Array<Record<string, any>>).map((n) => {
      if (n.type === 'debug') return { id: n.id, type: 'helper', z: n.z };
      if (n.id === 'wonder_printer_tab' && options.encoding !== undefined) return { ...n, env: [{ name: 'PRINTER_ENCODING', value: options.encoding, type: 'str' }] };
      if (n.id === 'wonder_printer_sale') return { ...n, receiptWidth: String(options.width) };
      if (n.id === 'wonder_printer_tcp') return { ...n, server: '127.0.0.1', port: String(options.printerPort ?? port) };
      return n;
    });
    const ourNodes = withCatalog(Object.values(ours), catalog(options.lang ?? 'en-US'));
    await helper.load([...ourNodes, catchNode, ...core], flow);
  }

  /** A sale through the example: the receipt the sale node gave, and the printer's job. */
  async function sale(): Promise<{ receipt: { customer: string[]; merchant: string[] }; job: Buffer; sent: Msg }> {
    let receipt: { customer: string[]; merchant: string[] } | undefined;
    helper.getNode('wonder_printer_escpos').on('input', (m: Msg) => (receipt = m.receipt));
    const sent = nextMessage('wonder_printer_sent');
    const job = printer.job();
    helper.getNode('wonder_printer_inject').receive({});
    const [msg, bytes] = await Promise.all([sent, job]);
    assert.ok(receipt !== undefined, 'the sale node gave msg.receipt');
    return { receipt, job: bytes, sent: msg };
  }

  for (const width of [32, 48] as const) {
    it(`${width} columns (the default printer set-up, ascii): initialise, code page 0, each copy's lines as the receipt has them, a feed and a cut after each`, async () => {
      await load({ width });
      const { receipt, job, sent } = await sale();
      const tokens = parseEscPos(job);
      assert.deepEqual(tokens.slice(0, 2), [{ cmd: 'init' }, { cmd: 'codepage', n: 0 }]);
      assert.ok(!tokens.some((t) => t.cmd === 'chinese-on' || t.cmd === 'encoding'), 'no Chinese or UTF-8 mode for an ASCII printer');
      assert.deepEqual(
        tokens.filter((t) => t.cmd === 'cut'),
        [
          { cmd: 'cut', m: 1 },
          { cmd: 'cut', m: 1 },
        ],
      );
      assert.equal(tokens.at(-1)!.cmd, 'cut', 'the job ends with the cut');
      const printed = copies(tokens, asciiOnly);
      assert.deepEqual(printed, [receipt.customer, receipt.merchant]);
      for (const line of printed.flat()) assert.ok(line.length <= width, `wider than ${width}: "${line}"`);
      assert.ok(printed.flat().some((l) => l === '-'.repeat(width)), `a rule the full ${width} columns`);
      assert.ok(printed[0]!.some((l) => /^Amount\s+HKD 10\.20$/.test(l) && l.length === width), printed[0]!.join('\n'));
      assert.ok(printed[0]!.some((l) => /\*\*\*\* \d{4}$/.test(l)), 'the card as its last 4 digits');
      assert.equal(sent.printer.bytes, job.length);
      assert.equal(sent.printer.encoding, 'ascii');
    });
  }

  it('Chinese receipt texts on an ASCII printer: each Chinese character prints as "??" (its two columns), the layout holds', async () => {
    await load({ width: 32, lang: 'zh-TW' });
    const { receipt, job } = await sale();
    const printed = copies(parseEscPos(job), asciiOnly);
    const expected = [receipt.customer, receipt.merchant].map((copy) => copy.map((line) => [...line].map((ch) => (ch.codePointAt(0)! < 0x80 ? ch : displayWidth(ch) === 2 ? '??' : '?')).join('')));
    assert.deepEqual(printed, expected);
    assert.ok(receipt.customer.some((l) => /金額/.test(l)), 'the receipt is in Chinese');
    for (const [k, line] of printed.flat().entries()) assert.equal(line.length, displayWidth([...receipt.customer, ...receipt.merchant][k]!), 'the same columns');
  });

  for (const [lang, encoding, word] of [
    ['zh-TW', 'big5', '金額'],
    ['zh-CN', 'gb18030', '金额'],
  ] as const) {
    it(`${lang} receipt on a ${encoding} printer (48 columns): Chinese mode on, every character in ${encoding}, the lines as the receipt has them`, async () => {
      await load({ width: 48, lang, encoding });
      const { receipt, job } = await sale();
      const tokens = parseEscPos(job);
      assert.deepEqual(tokens.slice(0, 3), [{ cmd: 'init' }, { cmd: 'codepage', n: 0 }, { cmd: 'chinese-on' }]);
      const decoder = new TextDecoder(encoding, { fatal: true });
      const printed = copies(tokens, (b) => decoder.decode(b));
      assert.deepEqual(printed, [receipt.customer, receipt.merchant]);
      assert.ok(printed[0]!.some((l) => l.startsWith(word)), printed[0]!.join('\n'));
      assert.ok(!job.includes(0x3f), 'no "?" in the job: every character had its code');
      for (const line of printed.flat()) assert.ok(displayWidth(line) <= 48, `wider than 48: "${line}"`);
      assert.equal(tokens.filter((t) => t.cmd === 'cut').length, 2);
    });
  }

  it('a printer set to UTF-8: FS ( C selects UTF-8, the zh-TW lines arrive as UTF-8', async () => {
    await load({ width: 32, lang: 'zh-TW', encoding: 'utf8' });
    const { receipt, job } = await sale();
    const tokens = parseEscPos(job);
    assert.deepEqual(tokens.slice(0, 3), [{ cmd: 'init' }, { cmd: 'codepage', n: 0 }, { cmd: 'encoding', m: 2 }]);
    const decoder = new TextDecoder('utf-8', { fatal: true });
    assert.deepEqual(
      copies(tokens, (b) => decoder.decode(b)),
      [receipt.customer, receipt.merchant],
    );
  });

  it('an unreachable printer: the catch node reports it ("not printed"), the sale stands', async () => {
    const closed = new Printer();
    const deadPort = await closed.listen();
    await closed.close();
    await load({ width: 32, printerPort: deadPort });
    const failed = nextMessage('wonder_printer_failed');
    const sent = nextMessage('wonder_printer_sent');
    helper.getNode('wonder_printer_inject').receive({});
    const [err, out] = await Promise.all([failed, sent]);
    assert.equal(err.error.source.id, 'wonder_printer_tcp');
    assert.match(String(err.error.message), new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
    assert.equal(out.printer.encoding, 'ascii');
    assert.equal(printer.jobs.length, 0);
  });

  it('an unknown PRINTER_ENCODING: an error naming the variable and the values it takes, nothing sent', async () => {
    await load({ width: 32, encoding: 'latin9' as Encoding });
    const failed = nextMessage('wonder_printer_failed');
    helper.getNode('wonder_printer_inject').receive({});
    const err = await failed;
    assert.equal(err.error.source.id, 'wonder_printer_escpos');
    assert.match(String(err.error.message), /PRINTER_ENCODING must be ascii, gb18030, big5 or utf8, not "latin9"/);
    assert.equal(printer.jobs.length, 0);
  });
});
