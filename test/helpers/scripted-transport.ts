import { EventEmitter } from 'node:events';
import { parseEnvelope, type Envelope, type SendOptions, type Transport, type TransportKind, type TransportState, type WonderCipher } from '../../lib';

/**
 * A fake terminal link that answers what a test tells it (odd but legal
 * answers, late, doubled, about another transaction). As `lan` it behaves as
 * an HTTP transport: what `reply` emits during send() is the only answer.
 */
export class ScriptedTransport extends EventEmitter implements Transport {
  state: TransportState = 'closed';
  readonly sent: Array<{ envelope: Envelope; plain: { header: { requestID: string }; body?: Record<string, unknown> } }> = [];
  constructor(
    private readonly cipher: WonderCipher,
    private readonly reply: (t: ScriptedTransport, requestID: string, action: string, body: Record<string, unknown> | undefined) => void,
    readonly kind: TransportKind = 'simulator',
  ) {
    super();
  }
  async open() {
    this.state = 'connected';
  }
  async close() {
    this.state = 'closed';
  }
  async send(text: string, options: SendOptions) {
    const envelope = parseEnvelope(text);
    const plain = this.cipher.decryptJson(envelope.data) as ScriptedTransport['sent'][number]['plain'];
    this.sent.push({ envelope, plain });
    this.emit('sent', options.action);
    this.reply(this, plain.header.requestID, options.action, plain.body);
  }
  /** Emits an answer to `requestID`, as envelope action `action`. */
  answer(requestID: string, action: string, body: Record<string, unknown>, cipher = this.cipher) {
    const data = cipher.encrypt(JSON.stringify({ header: { responseID: requestID, serverDeviceSN: 'X', timestamp: 't' }, body }));
    this.emit('message', { version: '2.0', action, data });
  }
  /** Requests of an action sent so far. */
  count(action: string): number {
    return this.sent.filter((s) => s.envelope.action === action).length;
  }
}
