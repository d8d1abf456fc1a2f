import type { UiOutput } from '../nodes/types';
import { valueBytes } from '../tensor/types';
import { SizedMap } from './sized-map';

export interface CachedOutput {
  outputs: unknown[];
  ui?: UiOutput;
}

/**
 * How outputs are kept between prompts. `classic` is ComfyUI's default cache: each prompt keeps only
 * the entries whose keys are also in that prompt, so a node is reused only from the previous prompt.
 * `lru` keeps every output across prompts until the entry or byte bound evicts the least recently used.
 */
export type CachePolicy = 'classic' | 'lru';
export const CACHE_POLICIES: readonly CachePolicy[] = ['classic', 'lru'];

/** Node outputs by cache key, bounded by entries and pixel bytes (least recently used evicted first). */
export class OutputCache {
  private readonly entries: SizedMap<CachedOutput>;

  constructor(
    maxEntries: number,
    private readonly maxBytes: number,
    readonly policy: CachePolicy = 'classic',
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

  /**
   * Called as a prompt starts with the keys of all its nodes: under `classic`, entries no node of this
   * prompt can use are dropped (ComfyUI's clean_unused). Under `lru` nothing is dropped here.
   */
  startPrompt(keys: ReadonlySet<string>): void {
    if (this.policy === 'classic') this.entries.retainOnly(keys);
  }

  clear(): void {
    this.entries.clear();
  }
}
