import type { Node, NodeAPI } from 'node-red';
import type { EasyCardRecord } from '../../lib/easycard';
import { resultFromRecord } from '../../lib/easycard';
import { ect } from './i18n';

/**
 * Sends, from the easycard-retry node that ran it, a run that a restart
 * ended: on output 2 with `msg.easycard.recovered = true`. A retry that was
 * in flight has an unknown outcome (`unknown-outcome`, report it to
 * EasyCard); one that waited for the card is `aborted` and resumable (send its
 * failed response again to resume from the recorded Retry).
 */
export function reportRecovered(RED: NodeAPI, node: Node, record: EasyCardRecord): void {
  const interrupted = record.state === 'interrupted';
  const settled = resultFromRecord(record);
  const reason = interrupted ? 'aborted' : settled.ok ? undefined : settled.reason;
  const easycard: Record<string, unknown> = {
    ok: false,
    recovered: true,
    attempts: record.attempts,
    storeOrderNo: record.storeOrderNo,
    reason,
    resumable: interrupted,
    reportToEasyCard: interrupted ? false : settled.ok ? false : settled.reportToEasyCard,
    message: interrupted
      ? `the retry run was interrupted by a restart after ${record.attempts} retries, before the next one was sent; send its failed response again to resume`
      : settled.ok
        ? 'completed'
        : settled.message,
  };
  node.status({ fill: 'red', shape: 'ring', text: ect(RED, `status.reason.${String(reason)}`) });
  node.warn(ect(RED, 'log.recovered', { storeOrderNo: record.storeOrderNo, reason: String(reason), detail: String(easycard.message) }));
  node.send([null, { payload: settled.response, easycard } as never]);
}
