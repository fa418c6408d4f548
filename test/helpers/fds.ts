import * as fs from 'node:fs';

/** File descriptors of this process open on the given device (follows the link to the real pty). */
export function fdsOn(device: string): number {
  const real = fs.realpathSync(device);
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === real) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}
