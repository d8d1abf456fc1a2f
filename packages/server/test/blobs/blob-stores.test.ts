import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BlobStore, BlobStoreError } from '../../src/blobs/blob-store';
import { LocalBlobStore } from '../../src/blobs/local-blob-store';
import { S3BlobStore } from '../../src/blobs/s3-blob-store';
import { checkBucket, createS3Client } from '../../src/blobs/s3-client';
import { StartupError } from '../../src/config/startup-error';
import { tempDir } from '../support/harness';
import { startS3, type TestS3 } from '../support/s3';

let s3: TestS3;
let localDir: string;
const clients: Array<{ destroy(): void }> = [];

beforeAll(async () => {
  s3 = await startS3();
  localDir = tempDir('blobs');
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await s3?.close();
  if (localDir) fs.rmSync(localDir, { recursive: true, force: true });
});

const s3Store = (prefix: string, limits?: Parameters<typeof createS3Client>[1]): S3BlobStore => {
  const client = createS3Client(s3.config(), limits);
  clients.push(client);
  return new S3BlobStore(client, s3.bucket, prefix);
};

const readAll = async (stream: Readable | undefined): Promise<Buffer> => {
  if (!stream) throw new Error('no stream');
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};

const listKeys = async (store: BlobStore): Promise<string[]> => {
  const keys: string[] = [];
  for await (const blob of store.list()) keys.push(blob.key);
  return keys.sort();
};

describe.each([
  ['LocalBlobStore', () => new LocalBlobStore(path.join(localDir, 'suite'))],
  ['S3BlobStore', () => s3Store('suite/')],
])('%s', (_name, make) => {
  let store: BlobStore;
  beforeAll(() => {
    store = make();
  });

  it('stores a Buffer and gives it back whole, as a stream, as text and by size', async () => {
    const body = Buffer.from('hello, blob ✓', 'utf8');
    expect(await store.put('hello.txt', body, { contentType: 'text/plain' })).toEqual({ size: body.length });
    expect(await store.size('hello.txt')).toBe(body.length);
    expect(await store.readText('hello.txt')).toBe('hello, blob ✓');
    expect((await readAll(await store.open('hello.txt'))).equals(body)).toBe(true);
  });

  it('stores a stream of many chunks and counts its bytes', async () => {
    const chunks = Array.from({ length: 40 }, (_, index) => Buffer.alloc(50_000, index));
    const expected = Buffer.concat(chunks);
    expect(await store.put('stream.bin', Readable.from(chunks))).toEqual({ size: expected.length });
    expect(await store.size('stream.bin')).toBe(expected.length);
    expect((await readAll(await store.open('stream.bin'))).equals(expected)).toBe(true);
  });

  it('takes a local file in with putFile, and the file is gone afterwards', async () => {
    const file = path.join(localDir, 'upload.tmp');
    fs.writeFileSync(file, 'from a temp file');
    expect(await store.putFile('moved.txt', file)).toEqual({ size: 16 });
    expect(fs.existsSync(file)).toBe(false);
    expect(await store.readText('moved.txt')).toBe('from a temp file');
  });

  it('overwrites a key in place', async () => {
    await store.put('again.txt', Buffer.from('first'));
    await store.put('again.txt', Readable.from([Buffer.from('second, longer')]));
    expect(await store.readText('again.txt')).toBe('second, longer');
  });

  it('answers undefined for a missing key and deletes missing keys quietly', async () => {
    expect(await store.open('missing.bin')).toBeUndefined();
    expect(await store.size('missing.bin')).toBeUndefined();
    expect(await store.readText('missing.bin')).toBeUndefined();
    await expect(store.delete('missing.bin')).resolves.toBeUndefined();
  });

  it('deletes a stored blob', async () => {
    await store.put('doomed.txt', Buffer.from('bye'));
    await store.delete('doomed.txt');
    expect(await store.size('doomed.txt')).toBeUndefined();
    expect(await store.readText('doomed.txt')).toBeUndefined();
    expect(await listKeys(store)).not.toContain('doomed.txt');
  });

  it('lists what it holds, with sizes and recent modification times', async () => {
    await store.put('listed.bin', Buffer.alloc(1234, 7));
    const listed: Array<{ key: string; size: number; lastModified: Date }> = [];
    for await (const blob of store.list()) listed.push(blob);
    const entry = listed.find((blob) => blob.key === 'listed.bin');
    expect(entry?.size).toBe(1234);
    expect(Math.abs(Date.now() - (entry?.lastModified.getTime() ?? 0))).toBeLessThan(60_000);
    expect(listed.map((blob) => blob.key)).toEqual(expect.arrayContaining(['hello.txt', 'stream.bin']));
  });

  it.each(['../escape', 'a/b', '.hidden', '', 'x'.repeat(256), 'back\\slash', 'sp ace'])(
    'refuses the unsafe key %j for every operation',
    async (key) => {
      await expect(store.put(key, Buffer.from('x'))).rejects.toThrow(/unsafe blob key/);
      await expect(store.open(key)).rejects.toThrow(/unsafe blob key/);
      await expect(store.size(key)).rejects.toThrow(/unsafe blob key/);
      await expect(store.readText(key)).rejects.toThrow(/unsafe blob key/);
      await expect(store.delete(key)).rejects.toThrow(/unsafe blob key/);
    },
  );
});

describe('LocalBlobStore specifics', () => {
  it('cannot presign, and lists only files with valid keys (not its temp folder)', async () => {
    const dir = path.join(localDir, 'specifics');
    const store = new LocalBlobStore(dir);
    expect((store as BlobStore).presignGet).toBeUndefined();
    fs.mkdirSync(path.join(dir, 'tmp'));
    fs.writeFileSync(path.join(dir, '.partial'), 'x');
    await store.put('kept.txt', Buffer.from('x'));
    expect(await listKeys(store)).toEqual(['kept.txt']);
  });
});

describe('S3BlobStore specifics', () => {
  it('keeps to its prefix: keys land under it and others are not listed', async () => {
    const store = s3Store('pre/fix/');
    await store.put('mine.txt', Buffer.from('mine'));
    await s3.client.send(
      new PutObjectCommand({ Bucket: s3.bucket, Key: 'pre/fix/deeper/other.txt', Body: 'x' }),
    );
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'pre/elsewhere.txt', Body: 'x' }));
    expect(await s3.keys()).toContain('pre/fix/mine.txt');
    expect(await listKeys(store)).toEqual(['mine.txt']);
  });

  it('presigns a GET that plain fetch can use, with the filename, until it expires', async () => {
    const store = s3Store('presign/');
    const body = Buffer.from('presigned bytes');
    await store.put('out_1.png', body, { contentType: 'image/png' });
    const url = await store.presignGet('out_1.png', { expiresInSeconds: 60, filename: 'out_1.png' });
    expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/presign/out_1.png?`)).toBe(true);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-disposition')).toBe('inline; filename="out_1.png"');
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);

    // s3rver checks the key id and the expiry of a SigV4 URL but not its signature, so only its shape here.
    const query = new URL(url).searchParams;
    expect(query.get('X-Amz-Expires')).toBe('60');
    expect(query.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);

    // X-Amz-Date has whole seconds, so a URL signed late in a second loses up to 1 s of its life:
    // 2 s leaves at least 1 s for the first fetch, and 3.1 s later it has expired whatever the fraction.
    const shortLived = await store.presignGet('out_1.png', { expiresInSeconds: 2, filename: 'out_1.png' });
    expect((await fetch(shortLived)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const expired = await fetch(shortLived);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('a failing source stream fails the put and leaves no object', async () => {
    const store = s3Store('broken/');
    const source = new Readable({ read() {} });
    source.push(Buffer.alloc(1000, 1));
    setTimeout(() => source.destroy(new Error('client went away')), 50);
    await expect(store.put('half.bin', source)).rejects.toThrow(BlobStoreError);
    expect(await store.size('half.bin')).toBeUndefined();
  });

  it('an endpoint that refuses connections fails fast with the key and the reason', async () => {
    const closed = await freePort();
    const client = createS3Client({ ...s3.config(), endpoint: `http://127.0.0.1:${closed}` });
    clients.push(client);
    const store = new S3BlobStore(client, s3.bucket, 'outputs/');
    const started = Date.now();
    const error = await store.put('x.png', Buffer.from('x')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BlobStoreError);
    expect((error as Error).message).toMatch(
      /S3 PUT s3:\/\/flowscale-test\/outputs\/x\.png failed: .*ECONNREFUSED/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an endpoint that accepts and never answers fails within the request timeout, retries included', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    const limits = { connectionTimeoutMs: 500, requestTimeoutMs: 500, maxAttempts: 2 };
    const client = createS3Client({ ...s3.config(), endpoint: `http://127.0.0.1:${port}` }, limits);
    clients.push(client);
    const store = new S3BlobStore(client, s3.bucket, '');
    const started = Date.now();
    try {
      await expect(store.put('stuck.bin', Readable.from([Buffer.alloc(10)]))).rejects.toThrow(
        /timeout|timed out/i,
      );
      await expect(store.readText('stuck.txt')).rejects.toThrow(BlobStoreError);
    } finally {
      silent.close();
    }
    // Two calls × two attempts × 0.5 s, plus backoff: far below any hang.
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});

describe('checkBucket (start-up)', () => {
  const check = async (config: ReturnType<TestS3['config']>): Promise<string> => {
    const client = createS3Client(config, {
      connectionTimeoutMs: 1000,
      requestTimeoutMs: 2000,
      maxAttempts: 1,
    });
    try {
      await checkBucket(client, config);
      return 'ok';
    } catch (error) {
      expect(error).toBeInstanceOf(StartupError);
      return (error as Error).message;
    } finally {
      client.destroy();
    }
  };

  it('passes for an existing bucket', async () => {
    expect(await check(s3.config())).toBe('ok');
  });

  it('names the setting and says the bucket does not exist', async () => {
    const message = await check(s3.config({ bucket: 'no-such-bucket' }));
    expect(message).toContain('S3 bucket "no-such-bucket" (FLOWSCALE_S3_BUCKET)');
    expect(message).toContain(`at ${s3.endpoint} (FLOWSCALE_S3_ENDPOINT)`);
    expect(message).toContain('the bucket does not exist');
  });

  it('says access was denied for wrong credentials', async () => {
    const message = await check(s3.config({ accessKeyId: 'WRONG', secretAccessKey: 'WRONG' }));
    expect(message).toMatch(
      /access denied: check FLOWSCALE_S3_ACCESS_KEY_ID and FLOWSCALE_S3_SECRET_ACCESS_KEY/,
    );
  });

  it('says the endpoint cannot be reached', async () => {
    const message = await check(s3.config({ endpoint: `http://127.0.0.1:${await freePort()}` }));
    expect(message).toMatch(/FLOWSCALE_S3_ENDPOINT.*the endpoint cannot be reached \(.*ECONNREFUSED/);
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
