/**
 * The Node-RED files that hold the terminals' secrets: the credentials file
 * (`flows_cred.json`, the pairing code and the EasyCard passwords, encrypted)
 * and `.config.runtime.json` (the key they are encrypted under, when
 * `credentialSecret` is not set). Node-RED writes them with the process's
 * umask, usually 0644 in a 0755 user directory: any local user could decrypt
 * them. At start the package says so once, naming the files (never what they
 * hold), with the fix.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { t } from './i18n';

export interface ExposedFile {
  file: string;
  mode: number;
}

/** Node-RED's credentials file for a flow file (localfilesystem: `<base>_cred<ext>` beside it). */
export function credentialsFileOf(userDir: string, flowFile = 'flows.json'): string {
  const full = path.isAbsolute(flowFile) ? flowFile : path.join(userDir, flowFile);
  const ext = path.extname(full);
  return path.join(path.dirname(full), `${path.basename(full, ext)}_cred${ext}`);
}

/** Group and other execute bits of every folder from `dir` up to the root (its real path): who may pass through all of them. */
function passableBy(dir: string): number {
  let bits = 0o011;
  for (let d = fs.realpathSync(dir); ; d = path.dirname(d)) {
    bits &= fs.statSync(d).mode;
    if (path.dirname(d) === d) return bits;
  }
}

/** True when group or others may reach what `mode` gives them in a folder that `passable` lets them pass through. */
function reachable(mode: number, groupBits: number, otherBits: number, passable: number): boolean {
  return ((mode & groupBits) !== 0 && (passable & 0o010) !== 0) || ((mode & otherBits) !== 0 && (passable & 0o001) !== 0);
}

/**
 * What other users can read: the user directory when it lets them in at all
 * (any group or other bit), and each of the two files when group or others
 * may read it; either only when they may pass through every folder above it
 * (the execute bit for group, or for others, on each up to the root): a 0755
 * user directory in a 0700 home, or a 0644 file in a 0700 folder, is out of
 * their reach. Files that do not exist yet are left out.
 */
export function exposedGatewayFiles(userDir: string, flowFile?: string): ExposedFile[] {
  const exposed: ExposedFile[] = [];
  const dirStat = fs.statSync(userDir, { throwIfNoEntry: false });
  if (dirStat !== undefined && reachable(dirStat.mode, 0o070, 0o007, passableBy(path.dirname(fs.realpathSync(userDir))))) exposed.push({ file: userDir, mode: dirStat.mode & 0o7777 });
  for (const file of [credentialsFileOf(userDir, flowFile), path.join(userDir, '.config.runtime.json')]) {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st === undefined) continue;
    // Group: the file readable and every folder up to the root passable by the group; likewise for others.
    if (reachable(st.mode, 0o040, 0o004, passableBy(path.dirname(file)))) exposed.push({ file, mode: st.mode & 0o7777 });
  }
  return exposed;
}

const warned = new Set<string>();

/** Warns once per user directory (per process) in the runtime log when exposedGatewayFiles finds any. */
export function warnExposedGatewayFiles(RED: NodeAPI): void {
  const settings = RED.settings as { userDir?: string; flowFile?: string };
  const userDir = path.resolve(settings.userDir ?? path.join(os.homedir(), '.node-red'));
  if (warned.has(userDir)) return;
  warned.add(userDir);
  let exposed: ExposedFile[];
  try {
    exposed = exposedGatewayFiles(userDir, settings.flowFile);
  } catch {
    return;
  }
  if (exposed.length === 0) return;
  const files = exposed.map((e) => `${e.file} (mode 0${e.mode.toString(8)})`).join(', ');
  RED.log.warn(t(RED, 'log.exposedFiles', { files, userDir }));
}
