import * as fs from 'node:fs';
import * as path from 'node:path';

const locales = path.resolve(__dirname, '..', '..', '..', 'locales');

/**
 * RED._ over this package's real message catalogs in one language
 * (node-red-node-test-helper's own RED._ returns the key).
 */
export function catalog(lang: 'en-US' | 'zh-TW' | 'zh-CN'): (key: string, params?: Record<string, unknown>) => string {
  const sets = new Map<string, unknown>();
  for (const file of fs.readdirSync(path.join(locales, lang)).filter((f) => f.endsWith('.json'))) {
    sets.set(`node-red-contrib-wonder-ecr/${file.slice(0, -5)}`, JSON.parse(fs.readFileSync(path.join(locales, lang, file), 'utf8')));
  }
  return (key, params = {}) => {
    const at = key.lastIndexOf(':');
    let value: unknown = sets.get(key.slice(0, at));
    for (const part of key.slice(at + 1).split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    if (typeof value !== 'string') return key;
    return value.replace(/__(\w+)__/g, (_m, name: string) => String(params[name] ?? ''));
  };
}

/** Node modules (register functions) that see the given RED._. */
export function withCatalog<M extends (red: { _: unknown }) => unknown>(modules: M[], translate: (key: string) => string): M[] {
  return modules.map((m) => ((red: { _: unknown }) => {
    red._ = translate;
    return m(red);
  }) as M);
}
