import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SimulatedTerminal } from '../../lib/simulator/terminal';
import { selfSignedCertificate } from './tls';

export interface GatewaySeen {
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Plays the Wonder cloud gateway on loopback HTTPS (certificate made in the
 * test): checks the business and device headers, hands the envelope to a
 * simulated terminal and wraps its answer in {code, message, data}. The
 * terminal behind it can be swapped (`gw.terminal = …`): a terminal paired
 * anew elsewhere, which no longer accepts the old pinCode2.
 */
export async function cloudGateway(terminal: SimulatedTerminal, businessId = 'biz-1') {
  const cert = selfSignedCertificate();
  const seen: GatewaySeen[] = [];
  const gw = {
    terminal,
    seen,
    base: '',
    cert,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      const reply = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.headers['x-p-business-id'] !== businessId) return reply({ code: 40001, message: 'unknown business', data: null });
      if (req.url !== '/info' && !req.headers['x-device-sn']) return reply({ code: 40002, message: 'device sn required', data: null });
      void gw.terminal.handle(Buffer.concat(chunks)).then((answer) => {
        if (answer === null) return; // no answer: the client's time-out decides
        reply({ code: 0, message: 'success', data: JSON.parse(answer) });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  gw.base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return gw;
}
