import path from 'node:path';
import type { ServerConfig } from '../config/config';
import type { BlobStore } from './blob-store';
import { LocalBlobStore } from './local-blob-store';
import { S3BlobStore } from './s3-blob-store';
import { checkBucket, createS3Client, DEFAULT_S3_LIMITS, type S3Limits } from './s3-client';

export interface BlobStores {
  inputs: BlobStore;
  outputs: BlobStore;
  /** Where uploads are hashed before they are stored; always local. */
  tmpDir: string;
  close(): void;
}

/**
 * The data dir's `inputs/` and `outputs/` folders by default; with FLOWSCALE_S3_BUCKET, `<prefix>inputs/`
 * and `<prefix>outputs/` in the bucket, which must answer HeadBucket before the server starts.
 */
export async function openBlobStores(
  config: ServerConfig,
  limits: S3Limits = DEFAULT_S3_LIMITS,
): Promise<BlobStores> {
  if (!config.s3) {
    return {
      inputs: new LocalBlobStore(path.join(config.dataDir, 'inputs')),
      outputs: new LocalBlobStore(path.join(config.dataDir, 'outputs')),
      tmpDir: path.join(config.dataDir, 'inputs', 'tmp'),
      close: () => undefined,
    };
  }
  const { bucket, prefix } = config.s3;
  const client = createS3Client(config.s3, limits);
  try {
    await checkBucket(client, config.s3);
  } catch (error) {
    client.destroy();
    throw error;
  }
  return {
    inputs: new S3BlobStore(client, bucket, `${prefix}inputs/`),
    outputs: new S3BlobStore(client, bucket, `${prefix}outputs/`),
    tmpDir: path.join(config.dataDir, 'tmp'),
    close: () => client.destroy(),
  };
}
