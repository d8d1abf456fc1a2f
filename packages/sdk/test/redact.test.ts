import { describe, expect, it } from 'vitest';
import { Logger } from '../src/core/logger';

const redact = (secret: string, text: string) =>
  new Logger({ enabled: false, level: 'info' }, secret).redact(text);

describe('Logger.redact', () => {
  it('leaves a short key inside a longer word alone', () => {
    expect(redact('or', 'GET /api/v1/comfy/workflows failed')).toBe('GET /api/v1/comfy/workflows failed');
    expect(redact('flow', 'GET /api/v1/comfy/workflows')).toBe('GET /api/v1/comfy/workflows');
  });

  it('replaces every whole occurrence of the key, wherever it stands', () => {
    expect(redact('or', 'bad key or; or')).toBe('bad key [redacted]; [redacted]');
    expect(redact('fs_k3y-1', 'ws?key=fs_k3y-1&x=1 "fs_k3y-1" fs_k3y-1')).toBe(
      'ws?key=[redacted]&x=1 "[redacted]" [redacted]',
    );
  });

  it('treats regular-expression characters in the key literally', () => {
    expect(redact('a.b+c', 'key a.b+c, not aXb+c')).toBe('key [redacted], not aXb+c');
    expect(redact('(k)', 'x (k) y')).toBe('x [redacted] y');
  });

  it('without a key, changes nothing', () => {
    expect(new Logger({ enabled: false, level: 'info' }).redact('anything')).toBe('anything');
  });
});
