import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

// The suite runs its longest files first (.mocharc.js, scripts/test/durations.js). The
// checked-in times (scripts/test/durations.json) are the order under CI and on a fresh
// clone: they must name every test file there is (a name with no file is left out).
const root = path.resolve(__dirname, '..', '..');
const checkedIn = JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'test', 'durations.json'), 'utf8')) as Record<string, number>;
const testFiles = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();

/** The spec .mocharc.js gives in a fresh process, as file names. */
function spec(env: NodeJS.ProcessEnv): string[] {
  const out = execFileSync(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(require("./.mocharc.js").spec))'], { cwd: root, env, encoding: 'utf8' });
  return (JSON.parse(out) as string[]).map((f) => path.basename(f));
}

describe('the suite\'s order: longest file first', () => {
  it('the checked-in times name every test file (refresh: node scripts/test/durations.js --save after a leg)', () => {
    assert.deepEqual(testFiles.filter((f) => !(f in checkedIn)), []);
    assert.ok(Object.values(checkedIn).every((s) => typeof s === 'number' && s >= 0));
  });

  it('under CI the spec is every test file by the checked-in times, longest first', () => {
    const order = spec({ ...process.env, CI: 'true' });
    assert.deepEqual([...order].sort(), testFiles);
    const seconds = order.map((f) => checkedIn[f]!);
    assert.deepEqual(seconds, [...seconds].sort((a, b) => b - a));
  });
});
