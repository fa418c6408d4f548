import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * One glossary for the Chinese texts (docs: "Translations and glossary"):
 * sale, refund, void and abort read the same in the palette, the receipts, the
 * sidebar and the help, and "cancelled" (a payment an abort ended) is never
 * used for "voided".
 */
const root = path.resolve(__dirname, '..', '..');
const GLOSSARY = {
  'zh-TW': { sale: '銷售', refund: '退款', void: '撤銷', abort: '中止', voided: '已撤銷', cancelled: '已取消', forbidden: ['取消交易', '作廢', '退貨', '销售', '消費'] },
  'zh-CN': { sale: '消费', refund: '退款', void: '撤销', abort: '中止', voided: '已撤销', cancelled: '已取消', forbidden: ['取消交易', '作废', '退货', '销售'] },
} as const;

type Json = { [key: string]: Json } & Record<string, unknown>;
const read = (lang: string, file: string) => fs.readFileSync(path.join(root, 'locales', lang, file), 'utf8');
const json = (lang: string, file: string) => JSON.parse(read(lang, file)) as Json;

/** Every string of a catalog with its key path. */
function strings(o: unknown, at = ''): Array<[string, string]> {
  if (typeof o === 'string') return [[at, o]];
  if (o === null || typeof o !== 'object') return [];
  return Object.entries(o).flatMap(([k, v]) => strings(v, at === '' ? k : `${at}.${k}`));
}

describe('the zh-TW and zh-CN glossary', () => {
  for (const [lang, g] of Object.entries(GLOSSARY)) {
    it(`${lang}: sale, refund, void and abort read the same in the palette, on receipts and in the sidebar`, () => {
      for (const [type, word] of [['wonder-sale', g.sale], ['wonder-refund', g.refund], ['wonder-void', g.void], ['wonder-abort', g.abort]] as const) {
        assert.equal((json(lang, `${type}.json`)[type] as Json).paletteLabel, word, `${lang} palette ${type}`);
      }
      const terminal = json(lang, 'wonder-terminal.json');
      assert.deepEqual(terminal.receipt!.title, { Sale: g.sale, Refund: g.refund, Void: g.void });
      assert.equal((terminal.receipt!.result as Json).voided, g.voided);
      assert.ok(String((terminal.progress!.text as Json).cancelled).includes(g.cancelled.slice(1)), 'a payment an abort ended is cancelled');
      const admin = json(lang, 'wonder-ecr-admin.json');
      assert.deepEqual(admin.action, { Sale: g.sale, Refund: g.refund, Void: g.void });
      assert.equal((admin.result as Json).voided, g.voided);
      assert.deepEqual([(admin.col as Json).sales, (admin.col as Json).refunds, (admin.col as Json).voids], [g.sale, g.refund, g.void]);
    });

    it(`${lang}: no locale file uses another word for them, and "voided" is never "cancelled"`, () => {
      const files = fs.readdirSync(path.join(root, 'locales', lang));
      for (const file of files) {
        const text = read(lang, file);
        for (const word of g.forbidden) assert.ok(!text.includes(word), `${lang}/${file} uses "${word}"`);
        if (!file.endsWith('.json')) continue;
        for (const [key, value] of strings(JSON.parse(text))) {
          if (/voided/i.test(key)) assert.ok(!value.includes('取消'), `${lang}/${file} ${key}: "${value}"`);
        }
      }
    });
  }
});
