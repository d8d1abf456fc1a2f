import { describe, expect, it } from 'vitest';
import { generateApiKey, hashApiKey, hashesEqual, keyPrefix } from '../../src/auth/keys';
import { resolveConfig } from '../../src/config/config';
import { redactSignature, UrlSigner } from '../../src/outputs/signed-urls';

describe('API keys', () => {
  it('are high-entropy, hashed with SHA-256, compared by hash', () => {
    const key = generateApiKey();
    expect(key).toMatch(/^fs_[A-Za-z0-9_-]{43}$/);
    expect(generateApiKey()).not.toBe(key);
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashesEqual(hashApiKey(key), hashApiKey(key))).toBe(true);
    expect(hashesEqual(hashApiKey(key), hashApiKey(`${key}x`))).toBe(false);
    expect(keyPrefix(key)).toHaveLength(9);
  });
});

describe('signed URLs', () => {
  const signer = new UrlSigner('00'.repeat(32), 60);
  const now = Date.UTC(2026, 0, 1);

  it('verify only the filename and expiry they were made for', () => {
    const { expires, signature } = signer.sign('a.png', now);
    expect(signer.verify('a.png', expires, signature, now)).toBe('ok');
    expect(signer.verify('b.png', expires, signature, now)).toBe('bad');
    expect(signer.verify('a.png', expires + 60, signature, now)).toBe('bad');
    expect(signer.verify('a.png', expires, signature, (expires + 1) * 1000)).toBe('expired');
    expect(new UrlSigner('11'.repeat(32), 60).verify('a.png', expires, signature, now)).toBe('bad');
  });

  it('are redacted before logging', () => {
    expect(redactSignature('/api/v1/files/a.png?expires=1&signature=abc')).toBe(
      '/api/v1/files/a.png?expires=1&signature=[REDACTED]',
    );
  });
});

describe('configuration', () => {
  it('uses documented defaults, then env, then options', () => {
    const defaults = resolveConfig({}, {});
    expect(defaults).toMatchObject({ host: '127.0.0.1', port: 8787, apiKeys: [], comfyuiUrls: [] });
    const fromEnv = resolveConfig(
      {},
      { FLOWSCALE_PORT: '9000', FLOWSCALE_API_KEY: 'a,b', FLOWSCALE_COMFYUI_URLS: 'http://x:1/, http://y:2' },
    );
    expect(fromEnv).toMatchObject({
      port: 9000,
      apiKeys: ['a', 'b'],
      comfyuiUrls: ['http://x:1', 'http://y:2'],
    });
    expect(resolveConfig({ port: 1 }, { FLOWSCALE_PORT: '9000' }).port).toBe(1);
    expect(() => resolveConfig({}, { FLOWSCALE_PORT: 'abc' })).toThrow(/FLOWSCALE_PORT.*not a number/);
  });
});
