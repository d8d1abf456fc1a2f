import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { S3BlobStore } from '../../src/blobs/s3-blob-store';
import { createS3Client } from '../../src/blobs/s3-client';
import { InputBlobs } from '../../src/inputs/input-blobs';
import { tempDir } from '../support/harness';
import { startS3, type TestS3 } from '../support/s3';

// 200 MiB through a real S3 protocol server on a shared 2-core box: generous, only to stop hangs.
vi.setConfig({ testTimeout: 180_000 });

const MiB = 1024 * 1024;
const TOTAL = 200 * MiB;
const CHUNK = 64 * 1024;

let s3: TestS3;
let tmp: string;
beforeAll(async () => {
  s3 = await startS3('flowscale-test', { ownProcess: true });
  tmp = tempDir('streaming');
});
afterAll(async () => {
  await s3?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// A few distinct chunks, made before the baseline: the generator stands in for a client's socket, and
// its own garbage should not count as the server's memory.
const PATTERNS = Array.from({ length: 13 }, (_, index) => Buffer.alloc(CHUNK, index * 19));

/** TOTAL bytes handed out chunk by chunk (never all at once), hashed as they go. */
function generated(hash: ReturnType<typeof createHash>): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= TOTAL) return void this.push(null);
      const chunk = PATTERNS[(sent / CHUNK) % PATTERNS.length] as Buffer;
      sent += CHUNK;
      hash.update(chunk);
      this.push(chunk);
    },
  });
}

it('a 200 MiB input streams into S3 with bounded memory, stored under its hash', async () => {
  const client = createS3Client(s3.config());
  const inputs = new InputBlobs(new S3BlobStore(client, s3.bucket, 'inputs/'), path.join(tmp, 'tmp'));
  try {
    // Warm-up with a small multipart upload: SDK code and sockets loaded, so the baseline is the steady
    // state of a server that has stored files before, not a cold start.
    await inputs.save(
      Readable.from(PATTERNS.slice(0, 3).map((chunk) => Buffer.concat(Array(60).fill(chunk)))),
      {
        filename: 'warm-up.bin',
        contentType: 'application/octet-stream',
        limitBytes: TOTAL,
      },
    );
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const hash = createHash('sha256');
    const started = Date.now();
    const stored = await inputs.save(generated(hash), {
      filename: 'big.bin',
      contentType: 'application/octet-stream',
      limitBytes: 2 * 1024 * MiB,
    });
    clearInterval(sampler);
    const growthMiB = (peak - baseline) / MiB;
    const seconds = (Date.now() - started) / 1000;
    console.log(
      `200 MiB input into S3: RSS baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, ` +
        `growth ${growthMiB.toFixed(1)} MiB, ${seconds.toFixed(1)} s (${(200 / seconds).toFixed(0)} MiB/s, s3rver in its own process)`,
    );
    expect(stored).toMatchObject({ sha256: hash.digest('hex'), size: TOTAL });
    expect(await inputs.blobs.size(stored.sha256)).toBe(TOTAL);
    expect(fs.readdirSync(path.join(tmp, 'tmp')), 'temp file removed').toEqual([]);
    expect(growthMiB).toBeLessThan(100);
  } finally {
    client.destroy();
  }
});
