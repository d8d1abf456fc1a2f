import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'fs_';

/** A new API key: 32 random bytes, so a fast unsalted hash is safe to store. */
export const generateApiKey = (): string => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

/** The non-secret start of a key, shown in listings so people can tell keys apart. */
export const keyPrefix = (key: string): string => key.slice(0, KEY_PREFIX.length + 6);

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
