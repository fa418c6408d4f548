import type { NodeAPI } from 'node-red';
import type { NodeDiagnosis } from '../../lib/terminal';
import { t } from './i18n';

/** A diagnosis in the runtime's language (i18n `diagnosis.<code>`). */
export function diagnosisText(RED: NodeAPI, code: string): string {
  return t(RED, `diagnosis.${code}`);
}

/** The log line of a new fault: its text, and for a port that is gone the ports that are there. */
export function diagnosisLogLine(RED: NodeAPI, d: NodeDiagnosis): string {
  const text = diagnosisText(RED, d.code);
  if (d.ports === undefined) return t(RED, d.detail === undefined ? 'log.diagnosis' : 'log.diagnosisDetail', { text, detail: d.detail ?? '' });
  const ports = d.ports.length > 0 ? t(RED, 'diagnosis.ports', { ports: d.ports.join(', ') }) : t(RED, 'diagnosis.noPorts');
  return t(RED, 'log.diagnosisPorts', { text, ports });
}
