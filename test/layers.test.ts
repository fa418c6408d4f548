import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * lib/ is layered, its folders are its layers, and each imports only from
 * the layers below it, through their index.ts. Read from the sources.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const LAYERS = ['clock', 'protocol', 'transport', 'simulator', 'ledger', 'session', 'terminal', 'easycard', 'cli'] as const;
/**
 * Every way a file names another: `import` and `export … from` (type-only
 * ones too: `import type`, `import { type A }`, `export type … from`),
 * `import x = require(…)` (`import type x = require(…)`), `require(…)`, and
 * `import(…)` (in a type too: `typeof import(…)`, `import(…).T`). A type-only
 * import leaves no trace in the compiled code, and is held to the same rule.
 */
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"=;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|require\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sources(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
}

function layerOf(file: string): string | undefined {
  const rel = path.relative(path.join(ROOT, 'lib'), file).split(path.sep);
  return rel.length > 1 && rel[0] !== '..' ? rel[0] : undefined;
}

/** The relative specifiers a source text names. */
function specifiersIn(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

function importsOf(file: string): string[] {
  const out: string[] = [];
  for (const spec of specifiersIn(fs.readFileSync(file, 'utf8'))) {
    const target = resolveImport(file, spec);
    if (target !== undefined) out.push(target);
  }
  return out;
}

const libFiles = sources(path.join(ROOT, 'lib'));

/** The imports of `file` (resolved) that break the rule: upward, or past a layer's index.ts. */
function wrongImports(file: string, targets: string[]): string[] {
  const from = layerOf(file);
  if (from === undefined) return [];
  const wrong: string[] = [];
  for (const target of targets) {
    const to = layerOf(target);
    if (to === undefined || to === from) continue;
    const rel = `${path.relative(ROOT, file)} → ${path.relative(ROOT, target)}`;
    if (LAYERS.indexOf(to as (typeof LAYERS)[number]) > LAYERS.indexOf(from as (typeof LAYERS)[number])) wrong.push(`upward: ${rel}`);
    else if (path.basename(target) !== 'index.ts' || path.dirname(target) !== path.join(ROOT, 'lib', to)) wrong.push(`not through index.ts: ${rel}`);
  }
  return wrong;
}

describe('layers (lib/ folders, read from the sources)', () => {
  it('every lib file sits in a layer folder (lib/index.ts alone excepted)', () => {
    const stray = libFiles.filter((f) => layerOf(f) === undefined && path.basename(f) !== 'index.ts');
    assert.deepEqual(stray.map((f) => path.relative(ROOT, f)), []);
    for (const layer of LAYERS) assert.ok(fs.existsSync(path.join(ROOT, 'lib', layer, 'index.ts')), `lib/${layer}/index.ts`);
  });

  it('sees every form of import, the type-only ones too', () => {
    const forms: Array<[string, string]> = [
      ["import { a } from '../x/a';", '../x/a'],
      ["import type { A } from '../x/type-only';", '../x/type-only'],
      ["import { type A, type B } from '../x/inline-types';", '../x/inline-types'],
      ["import type {\n  A,\n  B,\n} from '../x/multi-line';", '../x/multi-line'],
      ["export type { A } from '../x/export-type';", '../x/export-type'],
      ["export * from '../x/export-all';", '../x/export-all'],
      ["import type Config = require('../x/type-require');", '../x/type-require'],
      ["const m = require('../x/require');", '../x/require'],
      ["let t: typeof import('../x/typeof-import');", '../x/typeof-import'],
      ["function f(): import('../x/import-type').T { return undefined!; }", '../x/import-type'],
    ];
    for (const [text, spec] of forms) assert.deepEqual(specifiersIn(`// a file\n${text}\n`), [spec], text);
  });

  it('a type-only import reaching upward or past a layer\'s index.ts is caught', () => {
    const probe = path.join(ROOT, 'lib', 'session', 'probe.ts');
    const text = "import type { Terminal } from '../terminal';\nimport { type Ledger } from '../ledger/ledger';\nimport type { Clock } from '../clock';\n";
    const targets = specifiersIn(text).map((spec) => resolveImport(probe, spec)!);
    assert.deepEqual(wrongImports(probe, targets), ['upward: lib/session/probe.ts → lib/terminal/index.ts', 'not through index.ts: lib/session/probe.ts → lib/ledger/ledger.ts']);
  });

  it('a layer imports only from the layers below it, and only through their index.ts', () => {
    assert.deepEqual(libFiles.flatMap((file) => wrongImports(file, importsOf(file))), []);
  });

  it('no import cycle between lib files', () => {
    const graph = new Map(libFiles.map((f) => [f, importsOf(f).filter((t) => t.startsWith(path.join(ROOT, 'lib')))]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(ROOT, f)).join(' → '));
        return;
      }
      state.set(file, 'visiting');
      for (const next of graph.get(file) ?? []) visit(next, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of libFiles) visit(file, []);
    assert.deepEqual(cycles, []);
  });

  it('lib/ never imports Node-RED; the nodes reach lib/ only through a layer index', () => {
    for (const file of libFiles) assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /from ['"]node-red['"]|require\(['"]node-red['"]\)/, path.relative(ROOT, file));
    const wrong: string[] = [];
    for (const file of sources(path.join(ROOT, 'nodes'))) {
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to !== undefined && (path.basename(target) !== 'index.ts' || path.dirname(target) !== path.join(ROOT, 'lib', to))) wrong.push(`${path.relative(ROOT, file)} → ${path.relative(ROOT, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });
});
