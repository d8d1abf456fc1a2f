import parseRange from 'range-parser';
import type { ByteRange } from '../blobs/blob-store';

export type RangeAnswer =
  | { kind: 'whole' }
  | { kind: 'partial'; range: ByteRange }
  | { kind: 'unsatisfiable' };

/**
 * How to answer a download's `Range` header (RFC 9110 §14). One range is served as 206; several ranges,
 * a malformed header, or an `If-Range` (files have no validator to compare) get the whole file, which a
 * server may always send. Media players (Safari's above all) seek and start playback with ranges.
 */
export function answerRange(header: string | undefined, size: number, ifRange?: string): RangeAnswer {
  if (!header || ifRange !== undefined) return { kind: 'whole' };
  const ranges = parseRange(size, header, { combine: true });
  if (ranges === -1) return { kind: 'unsatisfiable' };
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return { kind: 'whole' };
  const [range] = ranges;
  return range ? { kind: 'partial', range: { start: range.start, end: range.end } } : { kind: 'whole' };
}
