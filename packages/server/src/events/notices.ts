/**
 * The NOTIFY payload of the event relay: `runId:seq` pairs joined by commas, where seq is the highest seq
 * of that run persisted in the announcing window. It is only a doorbell: a listener reads the events
 * themselves from the shared log, so one pair per run is enough however many events the run wrote.
 */

/** Postgres refuses a NOTIFY payload of 8000 bytes or more; stay under it with room to spare. */
export const MAX_PAYLOAD_BYTES = 7900;

/** Splits the notices into payloads of at most `maxBytes` bytes each. */
export function encodeNotices(notices: Map<string, number>, maxBytes = MAX_PAYLOAD_BYTES): string[] {
  const payloads: string[] = [];
  let current = '';
  let bytes = 0;
  for (const [runId, seq] of notices) {
    // A comma inside a run id would corrupt the pairs after it; such a run is left to the poll.
    if (runId.includes(',')) continue;
    const pair = `${runId}:${seq}`;
    const size = Buffer.byteLength(pair);
    if (size > maxBytes) continue;
    if (current && bytes + 1 + size > maxBytes) {
      payloads.push(current);
      current = '';
    }
    bytes = current ? bytes + 1 + size : size;
    current = current ? `${current},${pair}` : pair;
  }
  if (current) payloads.push(current);
  return payloads;
}

/** The pairs of a payload; malformed ones (not ours) are skipped. */
export function parseNotices(payload: string): Array<[runId: string, seq: number]> {
  const notices: Array<[string, number]> = [];
  for (const pair of payload.split(',')) {
    const colon = pair.lastIndexOf(':');
    if (colon <= 0) continue;
    const seq = Number(pair.slice(colon + 1));
    if (Number.isSafeInteger(seq) && seq > 0) notices.push([pair.slice(0, colon), seq]);
  }
  return notices;
}
