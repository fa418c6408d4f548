import type { LinkCause, TransportState } from '../transport';
import type { DiagnosisCode } from '../session';

/**
 * Diagnoses a status names itself (the others read as their link cause:
 * refused, timeout, host, tls, http, gateway, port).
 */
export const SHOWN_DIAGNOSES = ['no-valid-frames', 'undecryptable', 'port-gone', 'host-unreachable', 'terminal-busy'] as const satisfies readonly DiagnosisCode[];
export type ShownDiagnosis = (typeof SHOWN_DIAGNOSES)[number];

export function isShownDiagnosis(code: string | undefined): code is ShownDiagnosis {
  return (SHOWN_DIAGNOSES as readonly string[]).includes(code ?? '');
}

/**
 * Connection state as the nodes show it. `connected` (shown "ready") only
 * once the terminal answered: an open port or an HTTP transport that has not
 * exchanged anything yet is `unchecked`; a failed exchange is
 * `unreachable:<cause>` until one succeeds; `pair-again` while the terminal
 * refuses the stored cloud pairing (pinCode2); `same-terminal` when another
 * config node already opens this terminal (this one opens nothing);
 * `no-transport` when the config node has no transport chosen (it opens
 * nothing: a new terminal is never a simulator by default). A
 * diagnosis (see lib/session/diagnosis.ts) names the cause where the link's
 * does not: `unreachable:no-valid-frames`, `unreachable:terminal-busy`, ….
 */
export type ConnectionState = 'unconfigured' | 'no-transport' | 'connecting' | 'unchecked' | 'connected' | `unreachable:${LinkCause | ShownDiagnosis}` | 'closed' | 'pair-again' | 'same-terminal';

/**
 * What a node using the terminal shows when idle: the connection state, or
 * its own `queued:<n>` (its request waits behind n in the terminal's queue) or
 * `unknown` (its payment's outcome is still unknown, E_PENDING).
 */
export type ShownState = ConnectionState | `queued:${number}` | 'unknown';

/** The last exchange with the terminal: none yet, answered, or failed (and why). */
export type Link = { ok: undefined } | { ok: true } | { ok: false; cause: LinkCause };

/**
 * The state a terminal's nodes show, from the transport's state and the last
 * exchange: ready only once the terminal answered (a serial port that opened
 * counts; a health check tells whether the terminal answers).
 */
export function connectionStateOf(s: { configured: boolean; closing: boolean; transport: TransportState; link: Link; kind: string; pairAgain: boolean; diagnosis?: DiagnosisCode | undefined }): ConnectionState {
  if (!s.configured) return 'unconfigured';
  if (s.closing) return 'closed';
  const fault = isShownDiagnosis(s.diagnosis) ? s.diagnosis : undefined;
  switch (s.transport) {
    case 'closed':
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return `unreachable:${fault ?? (s.link.ok === false ? s.link.cause : 'other')}`;
    default:
      if (s.pairAgain) return 'pair-again';
      if (fault !== undefined) return `unreachable:${fault}`;
      if (s.link.ok === false) return `unreachable:${s.link.cause}`;
      // A LAN or cloud terminal is only known to be there once it has answered.
      if (s.kind === 'simulator' || s.kind === 'serial' || s.link.ok === true) return 'connected';
      return 'unchecked';
  }
}
