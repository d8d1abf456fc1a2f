import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeNotices, MAX_PAYLOAD_BYTES, parseNotices } from '../../src/events/notices';

describe('relay notices (pure)', () => {
  it('one payload while it fits, split under the limit when not, every pair kept once', () => {
    const few = new Map([
      ['run-a', 3],
      ['run-b', 12],
    ]);
    expect(encodeNotices(few)).toEqual(['run-a:3,run-b:12']);

    const many = new Map(Array.from({ length: 1000 }, (_, i) => [randomUUID(), i + 1] as [string, number]));
    const payloads = encodeNotices(many);
    expect(payloads.length).toBeGreaterThan(1);
    for (const payload of payloads) expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(new Map(payloads.flatMap(parseNotices))).toEqual(many);
  });

  it('the limit is exact: pairs filling it to the byte share one payload, one more byte splits', () => {
    const notices = new Map([
      ['a'.repeat(8), 1], // "aaaaaaaa:1" = 10 bytes
      ['b'.repeat(8), 2],
    ]);
    expect(encodeNotices(notices, 21)).toHaveLength(1); // 10 + "," + 10
    expect(encodeNotices(notices, 20)).toHaveLength(2);
  });

  it('run ids that would corrupt a payload are left out; a pair alone over the limit too', () => {
    const notices = new Map([
      ['bad,id', 1],
      ['x'.repeat(MAX_PAYLOAD_BYTES), 1],
      ['good', 2],
    ]);
    expect(encodeNotices(notices)).toEqual(['good:2']);
  });

  it('parsing skips what is not a pair of ours', () => {
    expect(parseNotices('a:1,,b,c:0,d:-1,e:1.5,f:x,:3,g:h:4,i:9')).toEqual([
      ['a', 1],
      ['g:h', 4],
      ['i', 9],
    ]);
  });
});
