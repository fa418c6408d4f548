import * as fs from 'node:fs';
import * as path from 'node:path';
import { tempDir } from './temp';

/** The dashboard example (the kiosk screen and the store manager page). */
export const DASHBOARD_EXAMPLE = path.resolve(__dirname, '..', '..', '..', 'examples', 'kiosk-dashboard.json');

/**
 * A user directory whose node_modules holds this repository's own
 * @flowfuse/node-red-dashboard (a devDependency), so the Node-RED under test
 * loads it as a user would have installed it.
 */
export function userDirWithDashboard(prefix: string): string {
  const dir = tempDir(prefix);
  fs.mkdirSync(path.join(dir, 'node_modules', '@flowfuse'), { recursive: true });
  fs.symlinkSync(path.dirname(require.resolve('@flowfuse/node-red-dashboard/package.json')), path.join(dir, 'node_modules', '@flowfuse', 'node-red-dashboard'), 'dir');
  return dir;
}
