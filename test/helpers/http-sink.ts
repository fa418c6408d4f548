import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Collects what the flow POSTs to it; `next` waits for a body that matches. */
export async function httpSink() {
  const bodies: any[] = [];
  const waiting: Array<{ test: (b: any) => boolean; resolve: (b: any) => void }> = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (d: Buffer) => (text += d.toString()));
    req.on('end', () => {
      const body = JSON.parse(text);
      bodies.push(body);
      for (const w of [...waiting]) {
        if (w.test(body)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(body);
        }
      }
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    bodies,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    /** The first body (already received or coming) that passes `test`. */
    next(test: (b: any) => boolean, what: string, ms = 20_000): Promise<any> {
      const found = bodies.find(test);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(bodies)}`)), ms);
        waiting.push({ test, resolve: (b) => (clearTimeout(timer), resolve(b)) });
      });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

