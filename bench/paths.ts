import * as fs from 'node:fs';
import * as path from 'node:path';

const NAME = 'node-red-contrib-wonder-ecr';

function isRoot(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === NAME;
  } catch {
    return false;
  }
}

/**
 * The repository's root: up from this file (dist/bench → the repository) or,
 * when compiled elsewhere, up from the working directory.
 */
export function repoRoot(): string {
  for (const start of [__dirname, process.cwd()]) {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
      if (isRoot(dir)) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  throw new Error(`cannot find the ${NAME} repository above ${__dirname} or ${process.cwd()}; run from the repository`);
}

export function resultsFile(): string {
  return path.join(repoRoot(), 'bench', 'results.json');
}
