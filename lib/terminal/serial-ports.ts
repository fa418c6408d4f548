import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** One serial port as the editor lists it. */
export interface SerialPortEntry {
  /** What to put in the config: the stable /dev/serial/by-id link when there is one. */
  path: string;
  /** The device the link points at (e.g. /dev/ttyUSB0), when `path` is a link. */
  target?: string;
  manufacturer?: string;
  serialNumber?: string;
  /** True for a /dev/serial/by-id link: it stays the same across reboots and replugging. */
  stable: boolean;
}

interface ListedPort {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
}

export const SERIAL_BY_ID_DIR = '/dev/serial/by-id';

/**
 * Reads /dev/serial/by-id: udev's links named for the adapter
 * (`usb-FTDI_FT232R_USB_UART_A50285BI-if00-port0`). Missing directory: none.
 */
async function byIdLinks(dir: string): Promise<Array<{ link: string; target: string; name: string }>> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const links = await Promise.all(
    names.map(async (name) => {
      const link = path.join(dir, name);
      try {
        return { link, target: await fs.realpath(link), name };
      } catch {
        return undefined; // a dangling link: the adapter was just unplugged
      }
    }),
  );
  return links.filter((l): l is { link: string; target: string; name: string } => l !== undefined);
}

/** Maker and serial number from a by-id name, when the system list has none: `usb-<maker>_<product>_<serial>-if00…`. */
function fromName(name: string): { manufacturer?: string; serialNumber?: string } {
  const m = /^[a-z]+-(.+?)(?:-if[0-9a-f]+)?(?:-port\d+)?$/i.exec(name);
  if (m === null) return {};
  const parts = m[1]!.split('_');
  if (parts.length < 2) return { manufacturer: m[1]! };
  const serialNumber = parts.pop()!;
  return { manufacturer: parts.join(' '), serialNumber };
}

/** How long the system's list (udevadm) is waited for before the by-id links are offered alone. */
export const SYSTEM_LIST_WAIT_MS = 3_000;

/** The system's list, or none when it fails or takes longer than `waitMs`. */
function systemList(list: () => Promise<ListedPort[]>, waitMs: number): Promise<ListedPort[]> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve([]), waitMs);
    timer.unref();
    list().then(
      (ports) => {
        clearTimeout(timer);
        resolve(ports);
      },
      () => {
        clearTimeout(timer);
        resolve([]);
      },
    );
  });
}

/**
 * The serial ports to offer: /dev/serial/by-id links first (stable names,
 * with maker and serial number), then the other ports the system lists.
 * `list` is SerialPort.list(), which needs udevadm and never lists ptys; its
 * failure, or a wait past SYSTEM_LIST_WAIT_MS (udevadm on a busy machine),
 * leaves the by-id links.
 */
export async function listSerialPorts(list: () => Promise<ListedPort[]>, byIdDir: string = SERIAL_BY_ID_DIR, waitMs = SYSTEM_LIST_WAIT_MS): Promise<SerialPortEntry[]> {
  const [links, listed] = await Promise.all([byIdLinks(byIdDir), systemList(list, waitMs)]);
  const byDevice = new Map<string, ListedPort>();
  for (const p of listed) {
    const real = await fs.realpath(p.path).catch(() => p.path);
    byDevice.set(real, p);
  }
  const out: SerialPortEntry[] = [];
  const covered = new Set<string>();
  for (const l of links.sort((a, b) => a.name.localeCompare(b.name))) {
    const known = byDevice.get(l.target);
    const guessed = fromName(l.name);
    const manufacturer = known?.manufacturer || guessed.manufacturer;
    const serialNumber = known?.serialNumber || guessed.serialNumber;
    out.push({
      path: l.link,
      target: l.target,
      ...(manufacturer ? { manufacturer } : {}),
      ...(serialNumber ? { serialNumber } : {}),
      stable: true,
    });
    covered.add(l.target);
  }
  const rest = [...byDevice.entries()].filter(([real]) => !covered.has(real)).sort(([a], [b]) => a.localeCompare(b));
  for (const [, p] of rest) {
    out.push({
      path: p.path,
      ...(p.manufacturer ? { manufacturer: p.manufacturer } : {}),
      ...(p.serialNumber ? { serialNumber: p.serialNumber } : {}),
      stable: false,
    });
  }
  return out;
}

/**
 * The stable by-id link to offer instead of `given` (a device path such as
 * /dev/ttyUSB0, or another link to the same device): undefined when `given`
 * is a by-id link itself, or when none points at its device.
 */
export async function stableAlternative(ports: readonly SerialPortEntry[], given: string): Promise<string | undefined> {
  const wanted = given.trim();
  if (wanted === '' || ports.some((p) => p.stable && p.path === wanted)) return undefined;
  const real = await fs.realpath(wanted).catch(() => undefined);
  if (real === undefined) return undefined;
  return ports.find((p) => p.stable && p.target === real)?.path;
}
