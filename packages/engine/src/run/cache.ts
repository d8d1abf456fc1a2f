import type { UiOutput } from '../nodes/types';
import { valueBytes } from '../tensor/types';

export interface CachedOutput {
  outputs: unknown[];
  ui?: UiOutput;
}

/** Node outputs by cache key, least recently used evicted first, bounded by entries and pixel bytes. */
export class OutputCache {
  private readonly entries = new Map<string, { value: CachedOutput; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get approxBytes(): number {
    return this.bytes;
  }

  get(key: string): CachedOutput | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  set(key: string, value: CachedOutput): void {
    const bytes = value.outputs.reduce<number>((n, v) => n + valueBytes(v), 0);
    if (bytes > this.maxBytes) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.bytes += bytes;
    for (const [k, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.bytes <= this.maxBytes) break;
      this.entries.delete(k);
      this.bytes -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
