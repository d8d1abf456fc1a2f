import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../config/config';
import { StartupError } from '../config/startup-error';

/** How long S3 may take before a call fails: an unreachable or stuck endpoint must fail fast, not hang a run. */
export interface S3Limits {
  /** To open a TCP (and TLS) connection. */
  connectionTimeoutMs: number;
  /** To send a request (a whole part, for uploads) and get the response headers; also the longest idle gap. */
  requestTimeoutMs: number;
  /** Attempts per call, the first included (the SDK backs off between them). */
  maxAttempts: number;
}

export const DEFAULT_S3_LIMITS: S3Limits = {
  connectionTimeoutMs: 5_000,
  requestTimeoutMs: 60_000,
  maxAttempts: 3,
};

export function createS3Client(config: S3Config, limits: S3Limits = DEFAULT_S3_LIMITS): S3Client {
  const agent = { keepAlive: true, maxSockets: 64 };
  return new S3Client({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    forcePathStyle: config.forcePathStyle,
    // Without explicit keys the SDK's default chain applies (env, profile, IMDS, web identity, …).
    ...(config.accessKeyId && config.secretAccessKey
      ? { credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } }
      : {}),
    maxAttempts: limits.maxAttempts,
    // Checksums only where S3 demands them: several S3-compatible servers reject the newer default headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: limits.requestTimeoutMs,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
}

interface AwsError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** A short reason from an SDK error: network code, S3 error name, or HTTP status (HEAD answers have no body). */
export function describeS3Error(error: unknown): string {
  const { name, message, code, $metadata } = error as AwsError;
  const timeout = /exceeded the configured (\d+) ms requestTimeout/.exec(message ?? '');
  if (timeout) return `no answer within ${timeout[1]} ms (request timeout)`;
  const status = $metadata?.httpStatusCode;
  if (message && message !== 'UnknownError')
    return code && !message.includes(code) ? `${code}: ${message}` : message;
  const known = name && name !== 'Unknown' ? name : undefined;
  return [known, status ? `HTTP ${status}` : undefined].filter(Boolean).join(', ') || String(error);
}

function explainBucketError(error: unknown): string {
  const { name, $metadata } = error as AwsError;
  const status = $metadata?.httpStatusCode;
  if (status === 404 || name === 'NoSuchBucket') return 'the bucket does not exist';
  if (status === 403) {
    return (
      'access denied: check FLOWSCALE_S3_ACCESS_KEY_ID and FLOWSCALE_S3_SECRET_ACCESS_KEY ' +
      `(or the AWS credential chain) and the bucket policy (${describeS3Error(error)})`
    );
  }
  if (status === 301) return 'the bucket is in another region: set FLOWSCALE_S3_REGION';
  if (name === 'CredentialsProviderError') {
    return `no credentials: set FLOWSCALE_S3_ACCESS_KEY_ID and FLOWSCALE_S3_SECRET_ACCESS_KEY (${describeS3Error(error)})`;
  }
  if (status) return describeS3Error(error);
  return `the endpoint cannot be reached (${describeS3Error(error)})`;
}

/** HeadBucket once at start-up, so a wrong setting stops the server instead of failing every run later. */
export async function checkBucket(client: S3Client, config: S3Config): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch (error) {
    const where = config.endpoint ? `at ${config.endpoint}` : `on AWS (${config.region})`;
    throw new StartupError(
      `S3 bucket "${config.bucket}" (FLOWSCALE_S3_BUCKET) ${where} (FLOWSCALE_S3_ENDPOINT) ` +
        `is not usable: ${explainBucketError(error)}`,
      { cause: error },
    );
  }
}
