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
  /**
   * Emits an answer to `requestID`, as envelope action `action`. Like the seed terminal, a Sale's answer
   * and a TransactionStatus answer about a sale carry that sale's customerOrderID, unless the body
   * says otherwise (it names a customerOrderID or a referenceID of its own).
   */
  answer(requestID: string, action: string, body: Record<string, unknown>, cipher = this.cipher) {
    if ((action === 'Sale' || action === 'TransactionStatus') && !('customerOrderID' in body) && !('referenceID' in body)) {
      const order = this.orderOf(requestID);
      if (order !== undefined) body = { ...body, customerOrderID: order };
    }
    const data = cipher.encrypt(JSON.stringify({ header: { responseID: requestID, serverDeviceSN: 'X', timestamp: 't' }, body }));
    this.emit('message', { version: '2.0', action, data });
  }
  /** The customerOrderID of the sale a request is (a Sale) or asks about (a TransactionStatus). */
  private orderOf(requestID: string): string | undefined {
    const request = this.sent.find((r) => r.plain.header.requestID === requestID);
    if (request === undefined) return undefined;
    const reference = request.envelope.action === 'Sale' ? request.plain.body?.referenceID : request.plain.body?.targetReferenceID;
    const sale = this.sent.find((r) => r.envelope.action === 'Sale' && r.plain.body?.referenceID === reference);
    const order = sale?.plain.body?.customerOrderID;
    return typeof order === 'string' ? order : undefined;
  }
  /** Requests of an action sent so far. */
  count(action: string): number {
    return this.sent.filter((s) => s.envelope.action === action).length;
  }
}
