import type { Readable } from 'node:stream';

/** One stored object, as a listing reports it. */
export interface BlobInfo {
  key: string;
  size: number;
  /** When it was last written: retention ages blobs by this. */
  lastModified: Date;
}

/** Bytes to send somewhere: the exact size up front (for Content-Length) and a way to open them when needed. */
export interface SizedSource {
  size: number;
  open(): Promise<Readable>;
}

export interface PutOptions {
  /** Stored with the object, so a presigned download is served with the right type. */
  contentType?: string;
}

export interface PresignOptions {
  expiresInSeconds: number;
  /** Sent back as `Content-Disposition: inline; filename="…"`. */
  filename: string;
  contentType?: string;
}

/**
 * Where file bytes live: a local folder or an S3 bucket (under a prefix). Records about the files
 * (who uploaded what, which run made which output) live in the record stores (`src/storage/`), never here.
 * Keys are flat, server-made names; anything else is refused so no caller can reach outside its folder.
 */
/** Inclusive byte offsets, as an HTTP `Range: bytes=start-end` names them. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface BlobStore {
  /** Where the blobs are, for messages: a folder path or `s3://bucket/prefix`. */
  readonly location: string;
  put(key: string, body: Readable | Buffer, options?: PutOptions): Promise<{ size: number }>;
  /** Takes a finished local file in under `key` (a rename on disk, an upload to S3); the file is gone after. */
  putFile(key: string, filePath: string, options?: PutOptions): Promise<{ size: number }>;
  /** The blob's bytes, or only `range` of them (both ends inclusive, as in HTTP Range). */
  open(key: string, range?: ByteRange): Promise<Readable | undefined>;
  size(key: string): Promise<number | undefined>;
  readText(key: string): Promise<string | undefined>;
  /** Removes the blob; a missing one is not an error (retention may race a restart or another replica). */
  delete(key: string): Promise<void>;
  /** Every blob with a valid key, in no particular order. */
  list(): AsyncIterable<BlobInfo>;
  /** A URL anyone can GET the blob from until it expires; only stores that can sign one have it. */
  presignGet?(key: string, options: PresignOptions): Promise<string>;
}

const SAFE_KEY = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const MAX_KEY = 255;

export const isSafeKey = (key: string): boolean =>
  key.length <= MAX_KEY && SAFE_KEY.test(key) && !key.includes('..');

export function assertSafeKey(key: string): void {
  if (!isSafeKey(key)) throw new Error(`unsafe blob key: ${JSON.stringify(key.slice(0, 80))}`);
}

/** A storage operation failed (unreachable, refused, timed out): says which operation on which key. */
export class BlobStoreError extends Error {
  /** Storage outages are transient: a request that met one may be retried (503, not 500). */
  readonly statusCode = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BlobStoreError';
  }
}
