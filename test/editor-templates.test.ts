import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

// scripts/editor-templates.js: the action nodes' editor files and help pages, generated
// from nodes/action-nodes/ and locales/<lang>/action-nodes.json (the browser test,
// editor-action-nodes.test.ts, checks them in the real editor).

const root = path.resolve(__dirname, '..', '..');
type Row = Record<string, unknown> & { type: string };
const generator = require(path.join(root, 'scripts', 'editor-templates.js')) as {
  LANGS: string[];
  renderActionNodeFiles(root: string, table?: Row[]): Map<string, string>;
};
const table = require(path.join(root, 'nodes', 'action-nodes', 'table.js')) as Row[];

interface Definition {
  defaults: Record<string, { value: unknown; validate?: unknown }>;
  outputs: unknown;
  [key: string]: unknown;
}

/** Runs an editor file's registerType script against a stand-in RED and returns what it registered. */
function registered(html: string): Record<string, Definition> {
  const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)![1]!;
  const types: Record<string, Definition> = {};
  const RED = { nodes: { registerType: (t: string, d: Definition) => (types[t] = d) }, validators: { typedInput: (field: string) => `typedInput(${field})` } };
  const WonderEcrEditor = { paletteLabel: (t: string) => `paletteLabel(${t})`, label: (t: string) => `label(${t})`, labelStyle: 'labelStyle', amountInputs: 'amountInputs' };
  new Function('RED', 'WonderEcrEditor', script)(RED, WonderEcrEditor);
  return types;
}

describe('action node editor templates (scripts/editor-templates.js)', () => {
  it('the build wrote exactly the generated files into dist/nodes, and no help source', () => {
    const files = generator.renderActionNodeFiles(root);
    assert.equal(files.size, table.length * (1 + generator.LANGS.length));
    for (const [rel, text] of files) assert.equal(fs.readFileSync(path.join(root, 'dist', 'nodes', rel), 'utf8'), text, rel);
    for (const lang of generator.LANGS) assert.ok(!fs.existsSync(path.join(root, 'dist', 'nodes', 'locales', lang, 'action-nodes.json')), lang);
  });

  it('each editor file registers its own type with the shared parts and its own fields; sale and refund keep their typed inputs', () => {
    const files = generator.renderActionNodeFiles(root);
    for (const row of table) {
      const html = files.get(`${row.type}.html`)!;
      const defs = registered(html);
      assert.deepEqual(Object.keys(defs), [row.type]);
      const def = defs[row.type]!;
      assert.equal(def.category, 'payments');
      assert.equal(def.inputs, 1);
      assert.equal(def.outputs, 1);
      assert.equal(def.paletteLabel, `paletteLabel(${row.type})`);
      assert.match(html, new RegExp(`data-template-name="${row.type}"`));
      const amount = row.type === 'wonder-sale' || row.type === 'wonder-refund';
      // Sale and refund: amount, currency, the progress output and the receipt width; void: the receipt width (issue 15).
      const kiosk = amount ? ['progress', 'receiptWidth', 'outputs'] : row.type === 'wonder-void' ? ['receiptWidth'] : [];
      // Refund: refunds of sales the journal does not know, off by default (issue 24).
      if (row.type === 'wonder-refund') kiosk.unshift('refundUnknownSales');
      assert.deepEqual(Object.keys(def.defaults), [...(amount ? ['name', 'terminal', 'amount', 'amountType', 'currency', 'currencyType'] : ['name', 'terminal']), ...kiosk], row.type);
      if (row.type === 'wonder-refund') assert.deepEqual(def.defaults.refundUnknownSales, { value: false });
      if (amount) {
        assert.equal(def.defaults.amount!.validate, 'typedInput(amountType)');
        assert.equal(def.defaults.currency!.validate, 'typedInput(currencyType)');
        assert.equal(def.oneditprepare, 'amountInputs');
      }
    }
  });

  it('a row can add a checkbox, a text field with a validator, an outputs function and more editor hooks (as the progress output needs)', () => {
    const sale = table.find((r) => r.type === 'wonder-sale')!;
    const row: Row = {
      ...sale,
      fields: [
        ...(sale.fields as unknown[]),
        { kind: 'checkbox', name: 'progress', icon: 'fa-tasks' },
        { kind: 'input', name: 'receiptWidth', icon: 'fa-print', placeholder: '32', value: '32', validate: 'RED.validators.number(true)' },
      ],
      defaults: undefined,
      outputs: 'function () { return this.progress ? 2 : 1; }',
      editor: { ...(sale.editor as object), oneditsave: function () { return 'saved'; } },
    };
    const files = generator.renderActionNodeFiles(root, [row]);
    const html = files.get('wonder-sale.html')!;
    const def = registered(html.replace('RED.validators.number(true)', '"number"'))['wonder-sale']!;
    assert.deepEqual(def.defaults.progress, { value: false });
    assert.deepEqual(def.defaults.receiptWidth, { value: '32', validate: 'number' });
    assert.equal((def.outputs as (this: unknown) => number).call({ progress: true }), 2);
    assert.equal((def.outputs as (this: unknown) => number).call({ progress: false }), 1);
    assert.equal((def.oneditsave as () => string)(), 'saved');
    assert.match(html, /<input type="checkbox" id="node-input-progress"/);
    assert.match(html, /<span data-i18n="wonder-sale\.label\.receiptWidth"><\/span>[\s\S]*id="node-input-receiptWidth" placeholder="32"/);
    // The new rows stand after the tip, before the name.
    assert.ok(html.indexOf('wonder-sale.tip') < html.indexOf('node-input-progress') && html.indexOf('node-input-receiptWidth') < html.indexOf('node-input-name'));
  });

  it('a missing help text or an unknown field kind stops the build with the file and the key', () => {
    assert.throws(() => generator.renderActionNodeFiles(root, [{ type: 'wonder-sale', icon: 'x.svg', inputs: [['payload.tip', 'string']] }]), /locales\/en-US\/action-nodes\.json: no text for wonder-sale inputs payload\.tip/);
    assert.throws(() => generator.renderActionNodeFiles(root, [{ type: 'wonder-new', icon: 'x.svg' }]), /locales\/en-US\/action-nodes\.json: no help texts for wonder-new/);
    assert.throws(() => generator.renderActionNodeFiles(root, [{ type: 'wonder-sale', icon: 'x.svg', fields: [{ kind: 'slider', name: 'x' }] }]), /unknown kind/);
  });

  it('zh-TW and zh-CN help texts have the same keys as en-US (a list of paragraphs may be split differently)', () => {
    const keys = (o: unknown, prefix = ''): string[] =>
      typeof o === 'object' && o !== null && !Array.isArray(o) ? Object.entries(o).flatMap(([k, v]) => keys(v, `${prefix}${k}.`)) : [prefix.slice(0, -1)];
    const read = (lang: string): unknown => JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, 'action-nodes.json'), 'utf8'));
    const en = keys(read('en-US')).sort();
    for (const lang of ['zh-TW', 'zh-CN']) assert.deepEqual(keys(read(lang)).sort(), en, lang);
  });
});
