import { describe, expect, it } from 'vitest';
import { OutputCache } from '../src/run/cache';
import { History, type HistoryEntry } from '../src/run/history';
import { makeImage } from '../src/tensor/image';

// Pure unit tests of the two bounded stores (no network needed).

const entry = (id: string, pad = ''): HistoryEntry => ({
  prompt: [0, id, {}, { pad }, []],
  outputs: {},
  status: { status_str: 'success', completed: true, messages: [] },
  meta: {},
});

describe('History', () => {
  it('keeps at most maxEntries, dropping the oldest, and pages like ComfyUI', () => {
    const history = new History(3, 1e9);
    for (const id of ['a', 'b', 'c', 'd']) history.add(id, entry(id));
    expect(Object.keys(history.list())).toEqual(['b', 'c', 'd']);
    expect(Object.keys(history.list(2))).toEqual(['c', 'd']);
    expect(Object.keys(history.list(1, 0))).toEqual(['b']);
    history.add('b', entry('b'));
    expect(Object.keys(history.list())).toEqual(['b', 'c', 'd']);
  });

  it('drops the oldest entries when the byte budget is exceeded, keeping at least the newest', () => {
    const history = new History(100, 2000);
    for (let i = 0; i < 10; i++) history.add(String(i), entry(String(i), 'x'.repeat(500)));
    expect(history.size).toBeLessThan(10);
    expect(history.approxBytes).toBeLessThanOrEqual(2000);
    expect(history.get('9')).toBeDefined();
    const huge = new History(100, 10);
    huge.add('big', entry('big', 'x'.repeat(100)));
    expect(huge.size).toBe(1);
  });
});

describe('OutputCache', () => {
  const image = (bytes: number) => makeImage(bytes / 3, 1, [Buffer.alloc(bytes)]);

  it('evicts least recently used entries by count', () => {
    const cache = new OutputCache(2, 1e9);
    cache.set('a', { outputs: [1] });
    cache.set('b', { outputs: [2] });
    cache.get('a');
    cache.set('c', { outputs: [3] });
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
  });

  it('evicts by pixel bytes and refuses single values larger than the budget', () => {
    const cache = new OutputCache(100, 3000);
    cache.set('a', { outputs: [image(1500)] });
    cache.set('b', { outputs: [image(1500)] });
    cache.set('c', { outputs: [image(1500)] });
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([false, true, true]);
    expect(cache.approxBytes).toBe(3000);
    cache.set('huge', { outputs: [image(3003)] });
    expect(cache.has('huge')).toBe(false);
  });
});
