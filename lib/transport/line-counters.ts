/**
 * What a terminal's line has carried since the config node started: the
 * counters the operator tools show and the diagnosis reads. Plain numbers,
 * no payload data.
 */
export interface LineCounters {
  /** Frames (serial) or HTTP replies (LAN, cloud) received that were well formed. */
  framesReceived: number;
  /** Frames whose CRC did not match. */
  crcErrors: number;
  /** Bytes skipped because they were not part of a valid frame. */
  noiseBytes: number;
  /** Requests the terminal did not answer in time. */
  timeouts: number;
  /** Answers that did not decrypt or verify under this terminal's key. */
  undecryptable: number;
}

export function emptyLineCounters(): LineCounters {
  return { framesReceived: 0, crcErrors: 0, noiseBytes: 0, timeouts: 0, undecryptable: 0 };
}
