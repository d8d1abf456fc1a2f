import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { S3Config, S3Options } from '../../src/config/config';
import { tempDir } from './harness';

// The SDK warns once per process that Node 20 support ends in 2027; noise in every test's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** s3rver's built-in account. */
const KEY = 'S3RVER';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver's own folder: objects are files there (`<bucket>/<key>._S3rver_object`). */
  dir: string;
  /** A client of the bucket with the right keys, for checks from the test's side. */
  client: S3Client;
  /** ServerOptions.s3 pointing at this bucket. */
  options(extra?: S3Options): S3Options;
  /** The resolved config, for building stores directly. */
  config(extra?: Partial<S3Config>): S3Config;
  /** Every key in the bucket. */
  keys(): Promise<string[]>;
  /** The file s3rver keeps an object's bytes in (its mtime is the object's LastModified). */
  objectFile(key: string): string;
  /** Closes the listening socket and every open connection: S3 goes away, its folder stays. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** s3rver in a process of its own, for measurements of this process that must not include the server. */
const CHILD_SCRIPT = `
const S3rver = require('s3rver');
new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[1], silent: true })
  .run()
  .then(({ port }) => process.stdout.write('port ' + port + '\\n'));
`;

async function startChild(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['-e', CHILD_SCRIPT, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /port (\d+)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    child.on('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return { port, stop };
}

async function startInProcess(dir: string): Promise<{ port: number; stop(): Promise<void> }> {
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true });
  const { port } = await server.run();
  return {
    port,
    async stop() {
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}

/**
 * A real S3 protocol server (s3rver) on a loopback port with one empty bucket: in this process, or with
 * `ownProcess` in a child (so this process's memory figures do not include the server's).
 */
export async function startS3(
  bucket = 'flowscale-test',
  options: { ownProcess?: boolean } = {},
): Promise<TestS3> {
  const dir = tempDir('s3rver');
  const server = options.ownProcess ? await startChild(dir) : await startInProcess(dir);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: KEY, secretAccessKey: KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await server.stop();
  };
  return {
    endpoint,
    bucket,
    dir,
    client,
    options: (extra = {}) => ({
      bucket,
      endpoint,
      accessKeyId: KEY,
      secretAccessKey: KEY,
      forcePathStyle: true,
      ...extra,
    }),
    config: (extra = {}) => ({
      bucket,
      endpoint,
      region: 'us-east-1',
      accessKeyId: KEY,
      secretAccessKey: KEY,
      forcePathStyle: true,
      prefix: '',
      downloads: 'proxy',
      ...extra,
    }),
    async keys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    objectFile: (key) => path.join(dir, bucket, `${key}._S3rver_object`),
    stop,
    async close() {
      client.destroy();
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
