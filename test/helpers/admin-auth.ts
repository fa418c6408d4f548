import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..');

/** Users of the operator-tools tests and their Node-RED permissions. */
export const USERS = {
  admin: '*',
  reader: 'read',
  /** A fleet tool's account: the Wonder API only, reading and acting. */
  operator: ['wonder-ecr.read', 'wonder-ecr.write'],
} as const;
export type UserName = keyof typeof USERS;

/**
 * Settings of a test's own: the demo's, plus adminAuth with the USERS above
 * (and, with `readers`, reader1 … readerN with `read` as well), checked by
 * functions (no hashes), all with `password`.
 */
export function adminAuthSettings(dir: string, password: string, extra: Record<string, unknown> = {}, readers = 0): string {
  const file = path.join(dir, 'settings-auth.js');
  fs.writeFileSync(
    file,
    `const base = require(${JSON.stringify(path.join(root, 'demo', 'settings.js'))});
const users = ${JSON.stringify(USERS)};
const reader = (username) => { const m = /^reader(\\d+)$/.exec(username); return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= ${readers}; };
const user = (username) => (users[username] ? { username, permissions: users[username] } : reader(username) ? { username, permissions: 'read' } : null);
module.exports = {
  ...base,
  ...${JSON.stringify(extra)},
  adminAuth: {
    type: 'credentials',
    users: async (username) => user(username),
    authenticate: async (username, password) => (password === ${JSON.stringify(password)} ? user(username) : null),
  },
};
`,
  );
  return file;
}

/** An access token for `username` (one of USERS, or a numbered reader) from Node-RED's own token endpoint (what a fleet tool does). */
export async function accessToken(url: string, username: UserName | `reader${number}`, password: string): Promise<string> {
  const permissions: string | readonly string[] = username in USERS ? USERS[username as UserName] : 'read';
  const scope = typeof permissions === 'string' ? permissions : permissions.join(' ');
  const res = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }).toString(),
  });
  if (res.status !== 200) throw new Error(`login of ${username}: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
