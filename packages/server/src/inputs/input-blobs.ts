import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, SizedSource } from '../blobs/blob-store';
import type { StoredFileRef } from '../storage/records';

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

/**
 * Uploaded input files, stored once per content hash (key `<sha256>` in the inputs blob store). The upload
 * streams to a local temp file while it is hashed, then goes in under its hash: never held in memory.
 */
export class InputBlobs {
  readonly blobs: BlobStore;
  readonly #tmpDir: string;

  constructor(blobs: BlobStore, tmpDir: string) {
    this.blobs = blobs;
    this.#tmpDir = tmpDir;
    fs.mkdirSync(tmpDir, { recursive: true });
  }

  async save(
    source: NodeJS.ReadableStream,
    meta: {
      filename: string;
      contentType: string;
      limitBytes: number;
      /** The source stopped at a limit of its own (multipart's): the file is too large, not stored. */
      truncated?: () => boolean;
    },
  ): Promise<StoredFileRef> {
    const tmpPath = path.join(this.#tmpDir, randomUUID());
    const counter = new HashAndCount(meta.limitBytes);
    try {
      await pipeline(source, counter, fs.createWriteStream(tmpPath));
      if (meta.truncated?.()) throw new FileTooLargeError(meta.limitBytes);
      const sha256 = counter.hash.digest('hex');
      // Stored again even when the hash is known: the write refreshes its age for retention.
      await this.blobs.putFile(sha256, tmpPath, { contentType: meta.contentType });
      return { sha256, size: counter.bytes, filename: meta.filename, content_type: meta.contentType };
    } finally {
      await fs.promises.rm(tmpPath, { force: true });
    }
  }

  /** The stored bytes of `file`, for a backend upload; opening fails if they are gone. */
  uploadSource(file: StoredFileRef): SizedSource {
    return {
      size: file.size,
      open: async () => {
        const stream = await this.blobs.open(file.sha256);
        if (!stream) throw new Error(`input file ${file.sha256} is no longer in ${this.blobs.location}`);
        return stream;
      },
    };
  }

  /**
   * Deletes stored inputs last written before `cutoffMs` (each upload of the same content writes it again,
   * so that is the last upload), except those in `keep`; also stale temp files left by a crash. Ages come
   * from the blob store itself (file mtime, S3 LastModified), so objects without a record go too.
   * Returns the hashes deleted.
   */
  async removeOlderThan(cutoffMs: number, keep: ReadonlySet<string>): Promise<string[]> {
    const expired: string[] = [];
    for await (const blob of this.blobs.list()) {
      if (/^[0-9a-f]{64}$/.test(blob.key) && !keep.has(blob.key) && blob.lastModified.getTime() < cutoffMs)
        expired.push(blob.key);
    }
    for (const sha256 of expired) await this.blobs.delete(sha256);
    for (const name of await fs.promises.readdir(this.#tmpDir)) {
      const file = path.join(this.#tmpDir, name);
      try {
        if ((await fs.promises.stat(file)).mtimeMs < cutoffMs) await fs.promises.rm(file, { force: true });
      } catch {
        // gone meanwhile
      }
    }
    return expired;
  }
}
