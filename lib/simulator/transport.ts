import { EventEmitter } from 'node:events';
import { parseEnvelope, TransportError } from '../protocol';
import { SimulatedTerminal, type SimulatorOptions } from './terminal';
import type { SendOptions, Transport, TransportState } from '../transport';

/**
 * The `simulator` transport: a simulated terminal in this process, so flows
 * run with no hardware. Behaves like a stream transport: send() resolves
 * once handed over, the answer arrives later as `message`.
 */
export class SimulatorTransport extends EventEmitter implements Transport {
  readonly kind = 'simulator' as const;
  readonly terminal: SimulatedTerminal;
  private current: TransportState = 'closed';

  constructor(options: SimulatorOptions & { terminal?: SimulatedTerminal } = {}) {
    super();
    this.terminal = options.terminal ?? new SimulatedTerminal(options);
  }

  get state(): TransportState {
    return this.current;
  }

  async open(): Promise<void> {
    this.setState('connected');
  }

  async close(): Promise<void> {
    this.terminal.stop();
    this.setState('closed');
  }

  async send(envelope: string, options: SendOptions): Promise<void> {
    if (this.current !== 'connected') throw new TransportError('the simulator is not open', { code: 'E_CLOSED', notSent: true });
    if (options.signal.aborted) throw options.signal.reason;
    void this.terminal.handle(envelope).then((answer) => {
      if (answer !== null && this.current === 'connected') this.emit('message', parseEnvelope(answer));
    });
  }

  private setState(state: TransportState): void {
    if (state === this.current) return;
    this.current = state;
    this.emit('state', state);
  }
}
