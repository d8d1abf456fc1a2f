import fs from 'node:fs';
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  assertSafeKey,
  type BlobInfo,
  type BlobStore,
  BlobStoreError,
  type ByteRange,
  isSafeKey,
  type PresignOptions,
  type PutOptions,
} from './blob-store';
import { describeS3Error } from './s3-client';

/**
 * Multipart part size and parts in flight: an upload holds about (QUEUE_SIZE + 2) parts of memory (the
 * parts being sent, one being gathered, and its copy), whatever the file's size.
 */
const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

const isNotFound = (error: unknown): boolean => {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'NoSuchKey' || name === 'NotFound' || $metadata?.httpStatusCode === 404;
};

/** Blobs as objects under `<prefix>` in one bucket (AWS S3, MinIO, R2, …). */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  /** `prefix` is prepended to every key as is (end it with `/` for a folder). */
  constructor(client: S3Client, bucket: string, prefix: string) {
    this.#client = client;
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.location = `s3://${bucket}/${prefix}`;
  }

  #key(key: string): string {
    assertSafeKey(key);
    return `${this.#prefix}${key}`;
  }

  #fail(operation: string, key: string, error: unknown): BlobStoreError {
    return new BlobStoreError(`S3 ${operation} ${this.location}${key} failed: ${describeS3Error(error)}`, {
      cause: error,
    });
  }

  async put(key: string, body: Readable | Buffer, options: PutOptions = {}): Promise<{ size: number }> {
    const Key = this.#key(key);
    const ContentType = options.contentType;
    if (Buffer.isBuffer(body)) {
      try {
        await this.#client.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key,
            Body: body,
            ContentLength: body.length,
            ContentType,
          }),
        );
      } catch (error) {
        throw this.#fail('PUT', key, error);
      }
      return { size: body.length };
    }
    let size = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of body) {
          size += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      })(),
    );
    // Streamed in parts: only PART_BYTES × QUEUE_SIZE are ever held, whatever the size.
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.#bucket, Key, Body: counted, ContentType },
      partSize: PART_BYTES,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // The source (often a backend's response) must not stay open, half read, behind a failed upload.
      counted.destroy();
      body.destroy();
      throw this.#fail('PUT', key, error);
    }
    return { size };
  }

  async putFile(key: string, filePath: string, options: PutOptions = {}): Promise<{ size: number }> {
    const result = await this.put(key, fs.createReadStream(filePath), options);
    await fs.promises.rm(filePath, { force: true });
    return result;
  }

  async open(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const Key = this.#key(key);
    const Range = range ? `bytes=${range.start}-${range.end}` : undefined;
    try {
      const response = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key, ...(Range ? { Range } : {}) }),
      );
      return response.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail('GET', key, error);
    }
  }

  async size(key: string): Promise<number | undefined> {
    const Key = this.#key(key);
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
      return head.ContentLength;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail('HEAD', key, error);
    }
  }

  async readText(key: string): Promise<string | undefined> {
    const Key = this.#key(key);
    try {
      const response = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key }));
      return await response.Body?.transformToString('utf8');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail('GET', key, error);
    }
  }

  async delete(key: string): Promise<void> {
    const Key = this.#key(key);
    try {
      // S3 answers 204 for a missing key too.
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw this.#fail('DELETE', key, error);
    }
  }

  async *list(): AsyncIterable<BlobInfo> {
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix, ContinuationToken: token }),
        );
      } catch (error) {
        throw this.#fail('LIST', '', error);
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(this.#prefix.length) ?? '';
        // Deeper "folders" and foreign names under the prefix are not ours to touch.
        if (!isSafeKey(key)) continue;
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.NextContinuationToken;
    } while (token);
  }

  presignGet(key: string, options: PresignOptions): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.#bucket,
      Key: this.#key(key),
      ResponseContentDisposition: `inline; filename="${options.filename.replace(/["\\\r\n]/g, '_')}"`,
      ...(options.contentType ? { ResponseContentType: options.contentType } : {}),
    });
    return getSignedUrl(this.#client, command, { expiresIn: options.expiresInSeconds });
  }
}
