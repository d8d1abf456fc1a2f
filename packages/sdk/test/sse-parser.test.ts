import { createParser } from 'eventsource-parser';
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseMessage } from '../src/runs/sse-parser';

// The SDK ships its own small SSE parser; eventsource-parser (a dev dependency only) is the oracle.

/** A small seeded PRNG (mulberry32), so a failing case can be replayed from its seed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = ['', ' ', 'x', ' lead', '{"seq":1}', 'a:b', 'é✓', 'nul\0', '  two spaces', ':'];
const FIELDS = ['data', 'data', 'data', 'event', 'id', 'retry', 'bogus', ':comment', 'data '];
const ENDS = ['\n', '\r', '\r\n'];

function randomStream(random: () => number): string {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  let text = '';
  for (let i = 0; i < 40; i++) {
    const roll = random();
    if (roll < 0.25)
      text += pick(ENDS); // blank line: dispatch
    else if (roll < 0.35)
      text += `${pick(FIELDS)}${pick(ENDS)}`; // a field without a colon
    else text += `${pick(FIELDS)}:${pick(VALUES)}${pick(ENDS)}`;
  }
  return text;
}

function randomChunks(text: string, random: () => number): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; ) {
    const size = 1 + Math.floor(random() * 12);
    chunks.push(text.slice(at, at + size));
    at += size;
  }
  return chunks;
}

function parseWithOracle(chunks: string[]): SseMessage[] {
  const got: SseMessage[] = [];
  const parser = createParser({ onEvent: ({ id, event, data }) => got.push({ id, event, data }) });
  for (const chunk of chunks) parser.feed(chunk);
  return got;
}

function parseWithOurs(chunks: string[]): SseMessage[] {
  const feed = createSseParser();
  return chunks.flatMap(feed);
}

describe('createSseParser', () => {
  it('parses the spec examples: comments, multi-line data, no space after the colon, event and id', () => {
    const text = ': ping\n\nevent: a\nid: 7\ndata: one\ndata:two\n\ndata\n\nid: x\0y\ndata: z\n\n';
    expect(parseWithOurs([text])).toEqual([
      { id: '7', event: 'a', data: 'one\ntwo' },
      { id: undefined, event: undefined, data: '' },
      { id: undefined, event: undefined, data: 'z' },
    ]);
  });

  it('holds a trailing CR until it knows whether an LF follows', () => {
    // 'data: b' ends at the first CR; the second CR could start a CRLF, so only the LF completes the event.
    expect(parseWithOurs(['data: a\r', '\ndata: b\r', '\r'])).toEqual([]);
    expect(parseWithOurs(['data: a\r', '\ndata: b\r', '\r', '\n'])).toEqual([
      { id: undefined, event: undefined, data: 'a\nb' },
    ]);
  });

  it('agrees with eventsource-parser on 2,000 random streams cut into random chunks', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const random = prng(seed);
      const chunks = randomChunks(randomStream(random), random);
      expect(parseWithOurs(chunks), `seed ${seed}`).toEqual(parseWithOracle(chunks));
    }
  });
});
