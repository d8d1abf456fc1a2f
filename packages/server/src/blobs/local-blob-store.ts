import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { assertSafeKey, type BlobInfo, type BlobStore, type ByteRange, isSafeKey } from './blob-store';

const SMALL_BYTES = 64 * 1024;
const SMALL_CACHE_ENTRIES = 256;

/** Blobs as files in one folder: the embedded default (`<dataDir>/inputs`, `<dataDir>/outputs`). */
export class LocalBlobStore implements BlobStore {
  readonly location: string;
  readonly #dir: string;
  /** Recently written small files, so a client asking for a fresh text output right away skips the disk. */
  readonly #recent = new Map<string, Buffer>();

  constructor(dir: string) {
    this.#dir = dir;
    this.location = dir;
    fs.mkdirSync(dir, { recursive: true });
  }

  #path(key: string): string {
    assertSafeKey(key);
    return path.join(this.#dir, key);
  }

  async put(key: string, body: Readable | Buffer): Promise<{ size: number }> {
    // Written in place: a blob is only read once its record says it is ready, after this returns.
    const target = this.#path(key);
    if (Buffer.isBuffer(body)) {
      await fs.promises.writeFile(target, body);
      if (body.length <= SMALL_BYTES) this.#remember(key, body);
      return { size: body.length };
    }
    this.#recent.delete(key);
    await pipeline(body, fs.createWriteStream(target));
    return { size: (await fs.promises.stat(target)).size };
  }

  async putFile(key: string, filePath: string): Promise<{ size: number }> {
    const target = this.#path(key);
    this.#recent.delete(key);
    try {
      // A rename is atomic: readers see the old file or the new one, never half of it.
      await fs.promises.rename(filePath, target);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EXDEV') throw error;
      await fs.promises.copyFile(filePath, target);
      await fs.promises.rm(filePath, { force: true });
    }
    return { size: (await fs.promises.stat(target)).size };
  }

  #remember(key: string, body: Buffer): void {
    if (this.#recent.size >= SMALL_CACHE_ENTRIES)
      this.#recent.delete(this.#recent.keys().next().value as string);
    this.#recent.set(key, body);
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const target = this.#path(key);
    try {
      await fs.promises.access(target);
      return fs.createReadStream(target, range);
    } catch {
      return undefined;
    }
  }

  async size(key: string): Promise<number | undefined> {
    const target = this.#path(key);
    try {
      return (await fs.promises.stat(target)).size;
    } catch {
      return undefined;
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const target = this.#path(key);
    const recent = this.#recent.get(key);
    if (recent) return recent.toString('utf8');
    try {
      return await fs.promises.readFile(target, 'utf8');
    } catch {
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    const target = this.#path(key);
    this.#recent.delete(key);
    await fs.promises.rm(target, { force: true });
  }

  async *list(): AsyncIterable<BlobInfo> {
    for (const entry of await fs.promises.readdir(this.#dir, { withFileTypes: true })) {
      if (!entry.isFile() || !isSafeKey(entry.name)) continue;
      try {
        const stat = await fs.promises.stat(path.join(this.#dir, entry.name));
        yield { key: entry.name, size: stat.size, lastModified: stat.mtime };
      } catch {
        // deleted meanwhile
      }
    }
  }
}
