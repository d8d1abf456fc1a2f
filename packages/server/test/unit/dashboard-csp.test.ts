import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/context';
import { dashboardCsp } from '../../src/http/routes/dashboard';

const csp = (config: Record<string, unknown>) =>
  Object.fromEntries(
    dashboardCsp({ config } as unknown as AppContext)
      .split('; ')
      .map((directive) => {
        const [name, ...values] = directive.split(' ');
        return [name, values];
      }),
  ) as Record<string, string[]>;

describe('the dashboard CSP', () => {
  it('allows only this server by default', () => {
    const policy = csp({});
    expect(policy['connect-src']).toEqual(["'self'"]);
    expect(policy['img-src']).toEqual(["'self'", 'blob:', 'data:']);
    expect(policy['script-src']).toEqual(["'self'"]);
  });

  it('adds the public URL and presigned S3 origins where outputs are read from, and nothing else', () => {
    const policy = csp({
      publicUrl: 'https://flowscale.example.com/prefix/',
      s3: { downloads: 'presigned', endpoint: 'http://127.0.0.1:4569/bucket' },
    });
    const expected = ["'self'", 'https://flowscale.example.com', 'http://127.0.0.1:4569'];
    expect(policy['connect-src']).toEqual(expected);
    expect(policy['media-src']).toEqual(["'self'", 'blob:', 'data:', ...expected.slice(1)]);
    expect(policy['script-src']).toEqual(["'self'"]);
    expect(csp({ s3: { downloads: 'proxy' } })['connect-src']).toEqual(["'self'"]);
  });
});
