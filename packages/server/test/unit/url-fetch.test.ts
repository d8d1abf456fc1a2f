import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockedReason } from '../../src/inputs/address-policy';
import { decodeDataUrl } from '../../src/inputs/data-url';
import { openUrl, type UrlFetchOptions } from '../../src/inputs/url-fetch';
import { tempDir } from '../support/harness';
import { type Origin, startOrigin } from '../support/origin';

describe('address policy', () => {
  it('refuses loopback, private, link-local, CGNAT, multicast, unspecified and mapped forms; allows public unicast', () => {
    const refused = {
      '127.0.0.1': 'loopback',
      '127.8.9.10': 'loopback',
      '::1': 'loopback',
      '10.1.2.3': 'private',
      '172.20.0.1': 'private',
      '192.168.1.1': 'private',
      'fd12::1': 'private',
      '169.254.169.254': 'link-local',
      'fe80::1': 'link-local',
      '100.64.0.1': 'CGNAT',
      '224.0.0.251': 'multicast',
      'ff02::1': 'multicast',
      '0.0.0.0': 'unspecified',
      '::': 'unspecified',
      '::ffff:127.0.0.1': 'loopback',
      '::ffff:7f00:1': 'loopback',
      '::ffff:10.0.0.1': 'private',
      '::ffff:169.254.169.254': 'link-local',
      '64:ff9b::a9fe:a9fe': 'NAT64',
    };
    for (const [address, reason] of Object.entries(refused))
      expect(blockedReason(address), address).toContain(reason);
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])
      expect(blockedReason(address), address).toBeUndefined();
  });
});

describe('data: URLs', () => {
  it('decodes base64 and percent-encoded payloads and refuses malformed ones', () => {
    expect(decodeDataUrl('data:image/png;base64,iVBO Rw==')).toEqual({
      contentType: 'image/png',
      bytes: Buffer.from('iVBORw==', 'base64'),
    });
    expect(decodeDataUrl('data:,a%20b%FF').bytes).toEqual(Buffer.from([0x61, 0x20, 0x62, 0xff]));
    expect(decodeDataUrl('data:,x').contentType).toBe('application/octet-stream');
    expect(() => decodeDataUrl('data:image/png;base64,@@@')).toThrow(/not valid base64/);
    expect(() => decodeDataUrl('data:image/png;base64')).toThrow(/no comma/);
    expect(() => decodeDataUrl('data:im age;base64,AA==')).toThrow(/media type/);
  });
});

describe('openUrl against a loopback origin', () => {
  let origin: Origin;
  beforeAll(async () => {
    origin = await startOrigin((request, response) => {
      const hops = /^\/hop\/(\d+)$/.exec(request.url ?? '');
      if (hops) {
        const left = Number(hops[1]);
        response.writeHead(302, { location: left > 0 ? `/hop/${left - 1}` : '/file' }).end();
      } else if (request.url === '/to-other-loopback') {
        response.writeHead(302, { location: `http://127.0.0.2:${origin.port}/file` }).end();
      } else if (request.url === '/to-ipv6-loopback') {
        response.writeHead(307, { location: `http://[::1]:${origin.port}/file` }).end();
      } else if (request.url === '/to-file-scheme') {
        response.writeHead(301, { location: 'file:///etc/passwd' }).end();
      } else response.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
  });
  afterAll(() => origin?.close());

  // Only the origin's own address is let through; every other loopback address keeps the real policy.
  const onlyOrigin: UrlFetchOptions = {
    allowPrivate: false,
    idleTimeoutMs: 5000,
    totalTimeoutMs: 10_000,
    limitBytes: 1000,
    blocked: (address) => (address === '127.0.0.1' ? undefined : blockedReason(address)),
  };
  const body = async (url: string, options: UrlFetchOptions = onlyOrigin): Promise<string> => {
    const { response } = await openUrl(url, options);
    let text = '';
    for await (const chunk of response) text += String(chunk);
    return text;
  };

  it('follows up to 3 redirects, refuses a 4th', async () => {
    expect(await body(`${origin.url}/hop/2`)).toBe('hello');
    await expect(body(`${origin.url}/hop/3`)).rejects.toThrow(/more than 3 redirects/);
  });

  it('re-checks every redirect hop: loopback and non-http targets are refused without being contacted', async () => {
    const before = origin.hits.length;
    await expect(body(`${origin.url}/to-other-loopback`)).rejects.toThrow(
      /redirect refused: 127\.0\.0\.2 is a loopback address/,
    );
    await expect(body(`${origin.url}/to-ipv6-loopback`)).rejects.toThrow(
      /redirect refused: ::1 is a loopback/,
    );
    await expect(body(`${origin.url}/to-file-scheme`)).rejects.toThrow(
      /redirect refused: only http and https/,
    );
    expect(origin.hits.slice(before).map((hit) => hit.split(' ')[1])).toEqual([
      '/to-other-loopback',
      '/to-ipv6-loopback',
      '/to-file-scheme',
    ]);
  });

  it('refuses a host name that resolves to a blocked address (any of its records), before connecting', async () => {
    const before = origin.hits.length;
    const resolveTo = (addresses: string[]) => async () =>
      addresses.map((address) => ({ address, family: 4 }));
    await expect(
      body(`http://rebind.test:${origin.port}/`, {
        ...onlyOrigin,
        blocked: undefined,
        resolve: resolveTo(['127.0.0.1']),
      }),
    ).rejects.toThrow(/127\.0\.0\.1 is a loopback address \(rebind\.test resolves to 127\.0\.0\.1\)/);
    await expect(
      body(`http://mixed.test:${origin.port}/`, {
        ...onlyOrigin,
        resolve: resolveTo(['127.0.0.1', '10.0.0.7']),
      }),
    ).rejects.toThrow(/10\.0\.0\.7 is a private address/);
    expect(origin.hits.length).toBe(before);
  });

  it('connects to the address it checked (pinned), sending the original Host, with a single lookup', async () => {
    let lookups = 0;
    const resolve = async () => {
      lookups++;
      // A rebinding resolver would answer differently the second time; there is no second time.
      return [{ address: lookups === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
    };
    expect(await body(`http://pinned.test:${origin.port}/file`, { ...onlyOrigin, resolve })).toBe('hello');
    expect(lookups).toBe(1);
    expect(origin.hits.at(-1)).toBe(`GET /file pinned.test:${origin.port}`);
  });

  it('refuses credentials and other schemes before any lookup', async () => {
    const resolve = async () => {
      throw new Error('must not resolve');
    };
    await expect(openUrl('http://user:pw@pinned.test/', { ...onlyOrigin, resolve })).rejects.toThrow(
      /credentials/,
    );
    await expect(openUrl('ftp://pinned.test/x', { ...onlyOrigin, resolve })).rejects.toThrow(
      /only http and https/,
    );
  });
});

describe('https with a pinned address', () => {
  it('connects to the checked address but verifies the certificate against the URL host name (SNI)', async () => {
    const dir = tempDir('tls');
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=images.test'],
        ...['-addext', 'subjectAltName=DNS:images.test', '-keyout', key, '-out', cert],
      ],
      { stdio: 'ignore' },
    );
    const pem = fs.readFileSync(cert, 'utf8');
    const seen: Array<string | undefined> = [];
    const server = https.createServer({ key: fs.readFileSync(key), cert: pem }, (request, response) => {
      seen.push(request.headers.host);
      response.end('secure');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const options: UrlFetchOptions = {
        allowPrivate: true,
        idleTimeoutMs: 5000,
        totalTimeoutMs: 10_000,
        limitBytes: 1000,
        ca: pem,
        resolve: async () => [{ address: '127.0.0.1', family: 4 }],
      };
      const { response } = await openUrl(`https://images.test:${port}/x.png`, options);
      let text = '';
      for await (const chunk of response) text += String(chunk);
      expect(text).toBe('secure');
      expect(seen).toEqual([`images.test:${port}`]);
      // The same pinned address under another name must fail certificate verification.
      await expect(openUrl(`https://other.test:${port}/x.png`, options)).rejects.toThrow(
        /could not fetch from other\.test:\d+: ERR_TLS_CERT_ALTNAME_INVALID/,
      );
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
