import { strict as assert } from 'node:assert';
import { MockBinding, type MockPortBinding } from '@serialport/binding-mock';
import type { BindingInterface, OpenOptions } from '@serialport/bindings-cpp';
import { serializeEnvelope } from '../lib/protocol/envelope';
import { encodeFrame } from '../lib/protocol/frame';
import { SerialTransport } from '../lib/transport/serial';

/**
 * A write is done once the port has taken the bytes: it never waits for the
 * line to drain (tcdrain holds a thread-pool thread for the frame's whole
 * wire time, and the journal's fdatasyncs would queue behind it).
 */
describe('SerialTransport writes (mock binding)', () => {
  afterEach(() => MockBinding.reset());

  it('resolves a send once the port has the bytes, without asking the line to drain', async () => {
    MockBinding.createPort('/dev/WONDER-MOCK', { echo: false, record: true });
    let opened: MockPortBinding | undefined;
    let drains = 0;
    const binding = {
      ...MockBinding,
      async open(options: OpenOptions) {
        const port = await MockBinding.open(options);
        // A line that never drains (a real UART at 9,600 baud, or a stuck CTS): a write that waited for it would never end.
        port.drain = () => {
          drains++;
          return new Promise<void>(() => undefined);
        };
        opened = port;
        return port;
      },
    } as BindingInterface;
    const transport = new SerialTransport({ path: '/dev/WONDER-MOCK', binding });
    await transport.open();
    try {
      const envelope = serializeEnvelope('Sale', Buffer.from('{"amount":"1.00"}').toString('base64'));
      await transport.send(envelope, { signal: new AbortController().signal, action: 'Sale', requestID: 'req-1' });
      assert.equal(drains, 0, 'drain was never asked for');
      assert.deepEqual(opened?.recording, encodeFrame(Buffer.from(envelope, 'utf8')), 'every byte of the frame was handed to the port');
    } finally {
      await transport.close();
    }
  });
});
