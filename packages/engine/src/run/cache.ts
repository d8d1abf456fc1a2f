import type { UiOutput } from '../nodes/types';
import { valueBytes } from '../tensor/types';
import { SizedMap } from './sized-map';

export interface CachedOutput {
  outputs: unknown[];
  ui?: UiOutput;
}

/** Node outputs by cache key, least recently used evicted first, bounded by entries and pixel bytes. */
export class OutputCache {
  private readonly entries: SizedMap<CachedOutput>;

  constructor(
    maxEntries: number,
    private readonly maxBytes: number,
  ) {
    this.entries = new SizedMap(maxEntries, maxBytes);
  }

  get size(): number {
    return this.entries.size;
  }

  get approxBytes(): number {
    return this.entries.approxBytes;
  }

  get(key: string): CachedOutput | undefined {
    return this.entries.touch(key);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: CachedOutput): void {
    const bytes = value.outputs.reduce<number>((n, v) => n + valueBytes(v), 0);
    // An output larger than the whole budget would only evict everything else; it is not cached.
    if (bytes > this.maxBytes) return;
    this.entries.delete(key); // a new value counts as the most recently used
    this.entries.set(key, value, bytes);
  }

  clear(): void {
    this.entries.clear();
  }
}
