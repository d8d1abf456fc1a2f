import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** Where run outputs live. A local folder today; an S3 bucket can implement the same five calls. */
export interface OutputStorage {
  put(key: string, body: Readable | Buffer): Promise<{ size: number }>;
  open(key: string): Promise<Readable | undefined>;
  size(key: string): Promise<number | undefined>;
  readText(key: string): Promise<string | undefined>;
  /** Removes the file; a missing one is not an error (retention may race a restart). */
  delete(key: string): Promise<void>;
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const SMALL_BYTES = 64 * 1024;
const SMALL_CACHE_ENTRIES = 256;

export class LocalOutputStorage implements OutputStorage {
  readonly #dir: string;
  /** Recently written small files, so a client asking for a fresh text output right away skips the disk. */
  readonly #recent = new Map<string, Buffer>();

  constructor(dataDir: string) {
    this.#dir = path.join(dataDir, 'outputs');
    fs.mkdirSync(this.#dir, { recursive: true });
  }

  #path(key: string): string {
    // Keys are server-made names; reject anything else so no caller can escape the folder.
    if (!SAFE_KEY.test(key) || key.includes('..')) throw new Error(`unsafe output key: ${key}`);
    return path.join(this.#dir, key);
  }

  async put(key: string, body: Readable | Buffer): Promise<{ size: number }> {
    // Written in place: an output is only served once its record says ready, after this returns.
    const target = this.#path(key);
    if (Buffer.isBuffer(body)) {
      await fs.promises.writeFile(target, body);
      if (body.length <= SMALL_BYTES) this.#remember(key, body);
      return { size: body.length };
    }
    await pipeline(body, fs.createWriteStream(target));
    return { size: (await fs.promises.stat(target)).size };
  }

  #remember(key: string, body: Buffer): void {
    if (this.#recent.size >= SMALL_CACHE_ENTRIES)
      this.#recent.delete(this.#recent.keys().next().value as string);
    this.#recent.set(key, body);
  }

  async open(key: string): Promise<Readable | undefined> {
    const target = this.#path(key);
    try {
      await fs.promises.access(target);
      return fs.createReadStream(target);
    } catch {
      return undefined;
    }
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await fs.promises.stat(this.#path(key))).size;
    } catch {
      return undefined;
    }
  }

  async delete(key: string): Promise<void> {
    this.#recent.delete(key);
    await fs.promises.rm(this.#path(key), { force: true });
  }

  async readText(key: string): Promise<string | undefined> {
    const recent = this.#recent.get(key);
    if (recent) return recent.toString('utf8');
    try {
      return await fs.promises.readFile(this.#path(key), 'utf8');
    } catch {
      return undefined;
    }
  }
}
