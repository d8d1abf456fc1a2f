/**
 * A Map bounded by entry count and by an approximate byte total; the oldest entries are evicted first.
 * The newest entry always stays, so one oversized item cannot empty the map by itself.
 */
export class SizedMap<V> {
  private readonly entries = new Map<string, { value: V; bytes: number }>();
  private total = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get approxBytes(): number {
    return this.total;
  }

  get(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Marks an entry as the most recently used, so it is evicted last. */
  touch(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit.value;
  }

  /** Adds or replaces an entry. A replaced entry keeps its place in the order, as a Map does. */
  set(key: string, value: V, bytes: number): void {
    this.total += bytes - (this.entries.get(key)?.bytes ?? 0);
    this.entries.set(key, { value, bytes });
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && (this.total <= this.maxBytes || this.entries.size === 1))
        break;
      this.entries.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  delete(key: string): void {
    const old = this.entries.get(key);
    if (!old) return;
    this.total -= old.bytes;
    this.entries.delete(key);
  }

  /** Drops every entry whose key is not in `keep`. */
  retainOnly(keep: ReadonlySet<string>): void {
    for (const [key, entry] of this.entries) {
      if (keep.has(key)) continue;
      this.entries.delete(key);
      this.total -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
