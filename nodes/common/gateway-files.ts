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

/**
 * What other users can read: the user directory when it lets them in at all
 * (any group or other bit), the two files when they are group- or
 * world-readable. Files that do not exist yet are left out.
 */
export function exposedGatewayFiles(userDir: string, flowFile?: string): ExposedFile[] {
  const exposed: ExposedFile[] = [];
  const look = (file: string, openBits: number) => {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st !== undefined && (st.mode & openBits) !== 0) exposed.push({ file, mode: st.mode & 0o7777 });
  };
  look(userDir, 0o077);
  look(credentialsFileOf(userDir, flowFile), 0o044);
  look(path.join(userDir, '.config.runtime.json'), 0o044);
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
