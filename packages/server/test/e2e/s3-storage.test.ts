import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import BetterSqlite3 from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { StartupError } from '../../src/config/startup-error';
import { startServer } from '../../src/index';
import { repoRoot } from '../support/child-server';
import { formOf, startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';
import { startS3, type TestS3 } from '../support/s3';

// Real engine and a real S3 protocol server on a shared 2-core box: the limits only stop hangs.
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const DAY_MS = 24 * 60 * 60 * 1000;

let s3: TestS3;
/** Proxy downloads (the default), with retention on so the sweep runs every 100 ms. */
let proxied: TestServer;
/** Presigned downloads, under its own key prefix in the same bucket. */
let presigned: TestServer;

beforeAll(async () => {
  s3 = await startS3();
  proxied = await startTestServer({
    s3: s3.options({ prefix: 'proxy' }),
    retentionDays: 2,
    retentionSweepIntervalMs: 100,
  });
  presigned = await startTestServer({
    s3: s3.options({ prefix: 'signed/', downloads: 'presigned' }),
    downloadUrlTtlSeconds: 120,
  });
});
afterAll(async () => {
  await proxied?.close();
  await presigned?.close();
  await s3?.close();
});

interface Picture {
  png: Buffer;
  rgb: Buffer;
  sha256: string;
}

/** A 5×4 PNG whose bytes depend on `seed`, so an output can only come from its own input. */
async function picture(seed: number): Promise<Picture> {
  const rgb = Buffer.alloc(5 * 4 * 3);
  for (let index = 0; index < rgb.length; index++) rgb[index] = (seed * 53 + index * 29) % 256;
  const png = await sharp(rgb, { raw: { width: 5, height: 4, channels: 3 } })
    .png()
    .toBuffer();
  return { png, rgb, sha256: createHash('sha256').update(png).digest('hex') };
}

const runRecord = async (server: TestServer, runId: string) =>
  (await (await server.request(`/api/v1/runs/${runId}`)).json()).data;

const finished = (server: TestServer, runId: string, timeoutMs?: number) =>
  waitFor(
    () => runRecord(server, runId),
    (run) => ['completed', 'failed', 'cancelled'].includes(run.status),
    timeoutMs,
  );

/** Runs invert-image on the picture to completion; returns the run record. */
async function invert(server: TestServer, source: Picture) {
  const response = await server.request('/api/v1/runs?workflow_id=invert-image', {
    method: 'POST',
    body: formOf({ image_1: new Blob([new Uint8Array(source.png)], { type: 'image/png' }) }),
  });
  expect(response.status).toBe(201);
  const run = await finished(server, (await response.json()).data.run_id);
  expect(run.status, JSON.stringify(run.error)).toBe('completed');
  return run;
}

async function expectInverse(bytes: Buffer, source: Picture): Promise<void> {
  const { data } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  expect([...data]).toEqual([...source.rgb].map((value) => 255 - value));
}

const objectBytes = async (key: string): Promise<Buffer> => {
  const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
};

const outputInfo = async (server: TestServer, filename: string) =>
  (await (await server.request(`/api/v1/runs/output?filename=${filename}`)).json()).data;

describe('S3 storage, proxy downloads', () => {
  it('runs invert-image from an input in the bucket to an output in the bucket, none on local disk', async () => {
    const source = await picture(1);
    const run = await invert(proxied, source);
    const filename = run.outputs[0].filename as string;

    const keys = await s3.keys();
    expect(keys).toContain(`proxy/inputs/${source.sha256}`);
    expect(keys).toContain(`proxy/outputs/${filename}`);
    expect((await objectBytes(`proxy/inputs/${source.sha256}`)).equals(source.png)).toBe(true);
    await expectInverse(await objectBytes(`proxy/outputs/${filename}`), source);
    expect(fs.existsSync(path.join(proxied.dataDir, 'outputs')), 'no local outputs folder').toBe(false);
    expect(fs.existsSync(path.join(proxied.dataDir, 'inputs')), 'no local inputs folder').toBe(false);
    expect(fs.readdirSync(path.join(proxied.dataDir, 'tmp')), 'upload temp files removed').toEqual([]);

    // download_url is our own signed URL; the server streams the object from the bucket.
    const info = await outputInfo(proxied, filename);
    expect(info.download_url).toMatch(
      new RegExp(`^${proxied.url}/api/v1/files/${filename}\\?expires=\\d+&signature=`),
    );
    expect(run.outputs[0].url).toBe(info.download_url);
    const download = await fetch(info.download_url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    await expectInverse(Buffer.from(await download.arrayBuffer()), source);
  });

  it('serves a text output read back from the bucket', async () => {
    const response = await proxied.request('/api/v1/runs?workflow_id=text-echo', {
      method: 'POST',
      body: formOf({ default_value_1: 'stored in S3' }),
    });
    expect(response.status, await response.clone().text()).toBe(201);
    const run = await finished(proxied, (await response.json()).data.run_id);
    expect(run.status).toBe('completed');
    const filename = run.outputs[0].filename as string;
    expect(await s3.keys()).toContain(`proxy/outputs/${filename}`);
    expect((await outputInfo(proxied, filename)).file_content).toContain('stored in S3');
  });

  it('retention deletes expired inputs and outputs from the bucket and keeps newer ones', async () => {
    const old = await picture(2);
    const recent = await picture(3);
    const oldRun = await invert(proxied, old);
    const newRun = await invert(proxied, recent);
    const oldOutput = `proxy/outputs/${oldRun.outputs[0].filename}`;
    const newOutput = `proxy/outputs/${newRun.outputs[0].filename}`;

    // Inputs age by the object's LastModified (s3rver: its file's mtime); outputs by their record.
    const when = new Date(Date.now() - 3 * DAY_MS);
    fs.utimesSync(s3.objectFile(`proxy/inputs/${old.sha256}`), when, when);
    const db = new BetterSqlite3(path.join(proxied.dataDir, 'flowscale.db'));
    try {
      db.pragma('busy_timeout = 5000');
      db.prepare('UPDATE outputs SET created_at = ? WHERE run_id = ?').run(when.toISOString(), oldRun._id);
    } finally {
      db.close();
    }

    await waitFor(
      () => s3.keys(),
      (keys) => !keys.includes(oldOutput) && !keys.includes(`proxy/inputs/${old.sha256}`),
    );
    const keys = await s3.keys();
    expect(keys, 'newer output kept').toContain(newOutput);
    expect(keys, 'newer input kept').toContain(`proxy/inputs/${recent.sha256}`);
    const gone = await proxied.request(`/api/v1/runs/output?filename=${oldRun.outputs[0].filename}`);
    expect(gone.status).toBe(404);
  });
});

describe('S3 storage, presigned downloads', () => {
  it('download_url is a presigned GET of the bucket, with the TTL and the filename', async () => {
    const source = await picture(4);
    const run = await invert(presigned, source);
    const filename = run.outputs[0].filename as string;
    expect(await s3.keys()).toContain(`signed/outputs/${filename}`);

    const info = await outputInfo(presigned, filename);
    const url = new URL(info.download_url);
    expect(`${url.origin}${url.pathname}`).toBe(`${s3.endpoint}/${s3.bucket}/signed/outputs/${filename}`);
    expect(url.searchParams.get('X-Amz-Expires')).toBe('120');
    expect(url.searchParams.get('response-content-disposition')).toBe(`inline; filename="${filename}"`);
    expect(new URL(run.outputs[0].url).pathname, 'the run view links to S3 too').toBe(url.pathname);

    const download = await fetch(info.download_url);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(download.headers.get('content-disposition')).toBe(`inline; filename="${filename}"`);
    await expectInverse(Buffer.from(await download.arrayBuffer()), source);
  });
});

describe('S3 failures', () => {
  it('S3 going away while an output is stored fails the run, naming the output, without hanging', async () => {
    const own = await startS3('outage-bucket');
    const server = await startTestServer({ s3: own.options() });
    try {
      const response = await server.request('/api/v1/runs?workflow_id=slow-delay', {
        method: 'POST',
        body: formOf({ default_value_1: 'never stored', value_4: '2' }),
      });
      const { run_id: runId, output_names: names } = (await response.json()).data;
      await waitFor(
        () => runRecord(server, runId),
        (run) => run.status === 'running',
      );
      await own.stop();
      const stoppedAt = Date.now();
      const run = await finished(server, runId, 30_000);
      const seconds = (Date.now() - stoppedAt) / 1000;
      console.log(
        `S3 outage: run failed ${seconds.toFixed(1)} s after S3 stopped (2 s of it the node's delay): ${run.error?.message}`,
      );
      expect(run.status).toBe('failed');
      expect(run.error.message).toContain(`could not store output ${names[0]}.txt (S3 PUT`);
      expect(run.error.message).toMatch(/S3 PUT s3:\/\/outage-bucket\/outputs\/\S+ failed: .*ECONNREFUSED/);
      expect(seconds).toBeLessThan(20);
    } finally {
      await server.close();
      await own.close();
    }
  });

  it('start-up with a missing bucket fails, naming the setting and the reason', async () => {
    const dataDir = tempDir('missing-bucket');
    try {
      const error = await startServer({
        port: 0,
        dataDir,
        logLevel: 'error',
        s3: s3.options({ bucket: 'no-such-bucket' }),
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StartupError);
      expect((error as Error).message).toBe(
        `S3 bucket "no-such-bucket" (FLOWSCALE_S3_BUCKET) at ${s3.endpoint} (FLOWSCALE_S3_ENDPOINT) ` +
          'is not usable: the bucket does not exist',
      );
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('the binary exits non-zero with that one line, no stack trace', async () => {
    const dataDir = tempDir('missing-bucket-bin');
    try {
      const args = ['--conditions=flowscale-source', '--import', 'tsx', 'packages/server/src/bin.ts'];
      const child = spawn(
        process.execPath,
        [...args, '--port', '0', '--data-dir', dataDir, '--s3-force-path-style'],
        {
          cwd: repoRoot,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...process.env,
            FLOWSCALE_S3_BUCKET: 'no-such-bucket',
            FLOWSCALE_S3_ENDPOINT: s3.endpoint,
            FLOWSCALE_S3_ACCESS_KEY_ID: 'S3RVER',
            FLOWSCALE_S3_SECRET_ACCESS_KEY: 'S3RVER',
          },
        },
      );
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain(
        'flowscale-server failed to start: S3 bucket "no-such-bucket" (FLOWSCALE_S3_BUCKET) at ' +
          `${s3.endpoint} (FLOWSCALE_S3_ENDPOINT) is not usable: the bucket does not exist`,
      );
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
