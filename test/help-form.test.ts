import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * The help of every node with inputs, in every language, in the core nodes'
 * form: Inputs, Outputs, Details, References, in that order (the action nodes'
 * help as the build writes it, the others as written). The editor shows it:
 * test/editor-action-nodes.test.ts reads it there.
 */
const root = path.resolve(__dirname, '..', '..');
const LANGS = ['en-US', 'zh-TW', 'zh-CN'];
const table = require(path.join(root, 'nodes', 'action-nodes', 'table.js')) as Array<{ type: string }>;
const HAND_WRITTEN = ['wonder-journal', 'easycard-retry'];

describe('node help in the core nodes\' form', () => {
  for (const lang of LANGS) {
    it(`${lang}: every node with inputs has Inputs, Outputs, Details and References, with links`, () => {
      const h = (JSON.parse(fs.readFileSync(path.join(root, 'locales', lang, 'action-nodes.json'), 'utf8')) as { common: { headings: Record<string, string> } }).common.headings;
      const expected = [h.inputs, h.outputs, h.details, h.references];
      const files = [
        ...table.map((row) => path.join(root, 'dist', 'nodes', 'locales', lang, `${row.type}.html`)),
        ...HAND_WRITTEN.map((type) => path.join(root, 'locales', lang, `${type}.html`)),
      ];
      for (const file of files) {
        const html = fs.readFileSync(file, 'utf8');
        assert.deepEqual([...html.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]), expected, file);
        const references = html.slice(html.lastIndexOf('<h3>'));
        assert.match(references, /<a href="https:\/\/nodered\.org\/docs\/user-guide\/handling-errors"/, file);
      }
    });
  }
});
