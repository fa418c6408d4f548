import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * lib/ is layered, its folders are its layers, and each imports only from
 * the layers below it, through their index.ts. Read from the sources.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const LAYERS = ['clock', 'protocol', 'transport', 'simulator', 'ledger', 'session', 'easycard', 'cli'] as const;
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|require\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

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

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const target = resolveImport(file, (m[1] ?? m[2] ?? m[3])!);
    if (target !== undefined) out.push(target);
  }
  return out;
}

const libFiles = sources(path.join(ROOT, 'lib'));

describe('layers (lib/ folders, read from the sources)', () => {
  it('every lib file sits in a layer folder (lib/index.ts alone excepted)', () => {
    const stray = libFiles.filter((f) => layerOf(f) === undefined && path.basename(f) !== 'index.ts');
    assert.deepEqual(stray.map((f) => path.relative(ROOT, f)), []);
    for (const layer of LAYERS) assert.ok(fs.existsSync(path.join(ROOT, 'lib', layer, 'index.ts')), `lib/${layer}/index.ts`);
  });

  it('a layer imports only from the layers below it, and only through their index.ts', () => {
    const wrong: string[] = [];
    for (const file of libFiles) {
      const from = layerOf(file);
      if (from === undefined) continue;
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (to === undefined || to === from) continue;
        const rel = `${path.relative(ROOT, file)} → ${path.relative(ROOT, target)}`;
        if (LAYERS.indexOf(to as (typeof LAYERS)[number]) > LAYERS.indexOf(from as (typeof LAYERS)[number])) wrong.push(`upward: ${rel}`);
        else if (path.basename(target) !== 'index.ts' || path.dirname(target) !== path.join(ROOT, 'lib', to)) wrong.push(`not through index.ts: ${rel}`);
      }
    }
    assert.deepEqual(wrong, []);
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
