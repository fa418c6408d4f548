import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';

// package.json against the code: every package imported is declared (type-only
// imports included), what the library and the nodes load at run time is a
// dependency (not only a devDependency), and no devDependency is left unused.
const root = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  scripts: Record<string, string>;
};
const tsconfig = JSON.parse(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { types?: string[] } };
const SOURCE_DIRS = ['lib', 'nodes', 'test', 'bench', 'scripts', 'bin'];
const builtins = new Set(builtinModules);

interface Use {
  pkg: string;
  file: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : sourceFiles(p);
    return /\.(ts|js|cjs|mjs)$/.test(e.name) ? [p] : [];
  });
}

function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  return builtins.has(name) ? undefined : name;
}

function usesIn(file: string): Use[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: Use[] = [];
  const patterns: Array<[RegExp, boolean | 'check']> = [
    [/^\s*import\s+type\s[^'"]*?from\s+['"]([^'"]+)['"]/gm, true],
    [/^\s*export\s+type\s[^'"]*?from\s+['"]([^'"]+)['"]/gm, true],
    [/^\s*import\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/gm, 'check'],
    [/^\s*import\s+['"]([^'"]+)['"]/gm, false],
    [/^\s*export\s+(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]/gm, false],
    [/\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]/g, false],
    [/\bimport\(\s*['"]([^'"]+)['"]/g, false],
  ];
  for (const [re, kind] of patterns) {
    for (const m of text.matchAll(re)) {
      const name = packageOf(m[1]!);
      if (name === undefined) continue;
      // `import { type A, type B } from 'x'` is type-only too.
      const typeOnly = kind === 'check' ? /^\s*import\s+\{\s*(type\s+\w+\s*(as\s+\w+\s*)?,?\s*)+\}\s+from/.test(m[0]) : kind;
      out.push({ pkg: name, file: path.relative(root, file), typeOnly });
    }
  }
  return out;
}

const uses = SOURCE_DIRS.flatMap((d) => sourceFiles(path.join(root, d))).flatMap(usesIn);
const declared = { ...pkg.dependencies, ...pkg.devDependencies };
const typesPackage = (name: string) => (name.startsWith('@') ? `@types/${name.slice(1).replace('/', '__')}` : `@types/${name}`);

describe('dependencies: package.json declares what the code imports, and nothing unused', () => {
  it('finds the imports (the scan reads the sources)', () => {
    assert.ok(uses.some((u) => u.pkg === 'serialport' && u.file.startsWith('lib')), 'serialport from lib/');
    assert.ok(uses.some((u) => u.pkg === 'node-red' && u.typeOnly), 'the node-red types from nodes/');
  });

  it('every imported package is declared (a type-only import by the package or its @types)', () => {
    const missing = uses.filter((u) => !(u.pkg in declared) && !(u.typeOnly && typesPackage(u.pkg) in declared));
    assert.deepEqual(
      missing.map((u) => `${u.pkg} (${u.file})`),
      [],
    );
  });

  it('what lib/ and nodes/ load at run time is a dependency, not a devDependency', () => {
    const runtime = uses.filter((u) => !u.typeOnly && /^(lib|nodes)\//.test(u.file) && !u.file.endsWith('.d.ts'));
    assert.deepEqual(
      runtime.filter((u) => !(u.pkg in pkg.dependencies)).map((u) => `${u.pkg} (${u.file})`),
      [],
    );
    // Types a published declaration file names must resolve for its users.
    const publicTypes = uses.filter((u) => u.typeOnly && u.file.startsWith('lib/'));
    assert.deepEqual(
      publicTypes.filter((u) => !(u.pkg in pkg.dependencies)).map((u) => `${u.pkg} (${u.file})`),
      [],
    );
  });

  it('every devDependency is used: imported, its types imported, in tsconfig types, or run by a script', () => {
    const imported = new Set(uses.map((u) => u.pkg));
    const scripts = Object.values(pkg.scripts).join(' ');
    const unused = Object.keys(pkg.devDependencies).filter((name) => {
      if (imported.has(name)) return false;
      if (name.startsWith('@types/')) {
        const of = name.slice('@types/'.length);
        const target = of.includes('__') ? `@${of.replace('__', '/')}` : of;
        return !(imported.has(target) || (tsconfig.compilerOptions.types ?? []).includes(of));
      }
      return !new RegExp(`(^|[\\s&|;])${name}(\\s|$)`).test(scripts);
    });
    assert.deepEqual(unused, []);
  });
});
