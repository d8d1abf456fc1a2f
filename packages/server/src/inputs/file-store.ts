import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { StoredFileRef } from '../storage/types';

/** Thrown when a stream passes its byte limit; the partial temp file is removed. */
export class FileTooLargeError extends Error {
  readonly limit: number;
  constructor(limit: number) {
    super(`file is larger than the limit of ${limit} bytes`);
    this.name = 'FileTooLargeError';
    this.limit = limit;
  }
}

class HashAndCount extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  readonly #limit: number;

  constructor(limit: number) {
    super();
    this.#limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.#limit) {
      callback(new FileTooLargeError(this.#limit));
      return;
    }
    this.hash.update(chunk);
    callback(null, chunk);
  }
}

/** Uploaded input files, stored once per content hash (`<dataDir>/inputs/<sha256>`). */
export class InputFileStore {
  readonly #dir: string;
  readonly #tmpDir: string;

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'inputs');
    this.#tmpDir = path.join(this.#dir, 'tmp');
    fs.mkdirSync(this.#tmpDir, { recursive: true });
  }

  pathFor(sha256: string): string {
    return path.join(this.#dir, sha256);
  }

  /** Streams to a temp file while hashing, then renames it into place: never holds the file in memory. */
  async save(
    source: NodeJS.ReadableStream,
    meta: { filename: string; contentType: string; limitBytes: number },
  ): Promise<StoredFileRef> {
    const tmpPath = path.join(this.#tmpDir, randomUUID());
    const counter = new HashAndCount(meta.limitBytes);
    try {
      await pipeline(source, counter, fs.createWriteStream(tmpPath));
    } catch (error) {
      await fs.promises.rm(tmpPath, { force: true });
      throw error;
    }
    const sha256 = counter.hash.digest('hex');
    await fs.promises.rename(tmpPath, this.pathFor(sha256));
    return { sha256, size: counter.bytes, filename: meta.filename, content_type: meta.contentType };
  }

  /**
   * Deletes stored inputs last written before `cutoffMs` (a re-upload of the same content renames a fresh
   * file over it, so the modification time is the last upload), except those in `keep`; also stale temp
   * files left by a crash. Returns the hashes deleted.
   */
  async removeOlderThan(cutoffMs: number, keep: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await fs.promises.readdir(this.#dir)) {
      if (!/^[0-9a-f]{64}$/.test(name) || keep.has(name)) continue;
      if (await this.#removeIfOlder(path.join(this.#dir, name), cutoffMs)) removed.push(name);
    }
    for (const name of await fs.promises.readdir(this.#tmpDir))
      await this.#removeIfOlder(path.join(this.#tmpDir, name), cutoffMs);
    return removed;
  }

  async #removeIfOlder(file: string, cutoffMs: number): Promise<boolean> {
    try {
      if ((await fs.promises.stat(file)).mtimeMs >= cutoffMs) return false;
      await fs.promises.rm(file, { force: true });
      return true;
    } catch {
      return false; // gone meanwhile
    }
  }
}
