import * as fs from 'node:fs';
import { autoDetect, BindingsError, type BindingInterface, type BindingPortInterface, type OpenOptions } from '@serialport/bindings-cpp';

/**
 * The platform's serialport binding with a cheaper read and write on Linux
 * and macOS.
 *
 * The stock read hands every read(2) to libuv's thread pool and, once the
 * line is drained, makes one more that fails with EAGAIN (an Error with its
 * stack) before it waits for the port to be readable: two thread-pool jobs
 * and an exception for every chunk that arrives. The port's descriptor is
 * non-blocking (bindings-cpp opens it with O_NONBLOCK), so this read waits
 * for the port's poller first and then reads what is there at once, on the
 * event loop: read(2) on a non-blocking descriptor never waits. Errors are
 * told apart as the stock read tells them apart (a closed port is a
 * cancelled read; EBADF, ENXIO and unknown errors are a disconnection).
 * A write is first tried at once too (the descriptor takes what fits in the
 * line's output buffer); what does not fit goes through the binding's own
 * write, which waits for the port to be writable. Drain and everything else
 * are the binding's own.
 *
 * The poller's events are delivered from a setImmediate: its native
 * callback calls into JavaScript outside a callback scope, and on Node 26
 * the promise continuations it starts (the read after "readable", the write
 * after "writable") then wait for the next unrelated event to run — an
 * answer sat unread until some timer fired.
 */
export function serialBinding(): BindingInterface {
  const base = autoDetect() as BindingInterface;
  if (process.platform === 'win32') return base;
  return {
    list: () => base.list(),
    async open(options: OpenOptions) {
      const port = await base.open(options);
      return withPolledRead(port as BindingPortInterface & PolledPort);
    },
  };
}

/** What the Linux and macOS port bindings carry beside the interface. */
interface PolledPort {
  fd: number | null;
  poller: { once(event: 'readable', listener: (err: Error | null) => void): unknown; emit(event: string, ...args: unknown[]): boolean };
}

/** Delivers the poller's events from a setImmediate, where the continuations they start run at once. */
function deferEvents(poller: PolledPort['poller']): void {
  const emit = poller.emit.bind(poller);
  poller.emit = (event: string, ...args: unknown[]) => {
    setImmediate(() => emit(event, ...args));
    return true;
  };
}

function readable(port: PolledPort): Promise<void> {
  return new Promise((resolve, reject) => {
    port.poller.once('readable', (err) => (err ? reject(err) : resolve()));
  });
}

const RETRY = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
const DISCONNECT = new Set(['EBADF', 'ENXIO', 'UNKNOWN']);

function withPolledRead<T extends BindingPortInterface & PolledPort>(port: T): T {
  if (typeof port.fd !== 'number' || typeof port.poller?.once !== 'function') return port;
  deferEvents(port.poller);
  port.read = async (buffer: Buffer, offset: number, length: number) => {
    for (;;) {
      if (!port.isOpen || port.fd === null) throw new BindingsError('Port is not open', { canceled: true });
      await readable(port);
      if (!port.isOpen || port.fd === null) throw new BindingsError('Port is not open', { canceled: true });
      let bytesRead: number;
      try {
        bytesRead = fs.readSync(port.fd, buffer, offset, length, null);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { disconnect?: boolean };
        if (e.code !== undefined && RETRY.has(e.code)) continue;
        if ((e.code !== undefined && DISCONNECT.has(e.code)) || e.errno === -1) e.disconnect = true;
        throw e;
      }
      // Nothing read (a line that woke up empty): wait for the poller again, as the stock read reads again.
      if (bytesRead > 0) return { bytesRead, buffer };
    }
  };
  const write = port.write.bind(port);
  port.write = (buffer: Buffer) => {
    if (!port.isOpen || port.fd === null || buffer.length === 0) return write(buffer);
    let written: number;
    try {
      written = fs.writeSync(port.fd, buffer);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      // A full output buffer: the binding's own write waits until the port is writable.
      if (e.code !== undefined && RETRY.has(e.code)) return write(buffer);
      if ((e.code !== undefined && DISCONNECT.has(e.code)) || e.errno === -1) (e as { disconnect?: boolean }).disconnect = true;
      return Promise.reject(e);
    }
    return written === buffer.length ? Promise.resolve() : write(buffer.subarray(written));
  };
  return port;
}
