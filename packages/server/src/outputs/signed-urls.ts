import { createHmac, timingSafeEqual } from 'node:crypto';
import type { BlobStore } from '../blobs/blob-store';

/** HMAC-signed, expiring download links; the secret never leaves the server. */
export class UrlSigner {
  readonly #secret: Buffer;
  readonly #ttlSeconds: number;

  constructor(secretHex: string, ttlSeconds: number) {
    this.#secret = Buffer.from(secretHex, 'hex');
    this.#ttlSeconds = ttlSeconds;
  }

  #signature(filename: string, expires: number): string {
    return createHmac('sha256', this.#secret).update(`${filename}\n${expires}`).digest('base64url');
  }

  /** Expiry is rounded up to the minute so repeated reads of a run give the same URL (and cache well). */
  sign(filename: string, nowMs = Date.now()): { expires: number; signature: string } {
    const expires = Math.ceil((nowMs / 1000 + this.#ttlSeconds) / 60) * 60;
    return { expires, signature: this.#signature(filename, expires) };
  }

  verify(filename: string, expires: number, signature: string, nowMs = Date.now()): 'ok' | 'expired' | 'bad' {
    if (!Number.isInteger(expires)) return 'bad';
    const expected = Buffer.from(this.#signature(filename, expires));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return 'bad';
    return expires * 1000 < nowMs ? 'expired' : 'ok';
  }
}

/** Removes signatures from a URL before it is logged. */
export const redactSignature = (url: string): string => url.replace(/([?&]signature=)[^&]*/g, '$1[REDACTED]');

/** Presigned GETs straight from the output blob store (S3), with the same lifetime as our own signed URLs. */
export function presignedOutputUrls(
  outputs: BlobStore,
  ttlSeconds: number,
): (filename: string) => Promise<string> {
  const presign = outputs.presignGet?.bind(outputs);
  if (!presign) throw new Error(`${outputs.location} cannot presign download URLs`);
  return (filename) => presign(filename, { expiresInSeconds: ttlSeconds, filename });
}
