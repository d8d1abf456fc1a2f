import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config';
import { StartupError } from '../../src/config/startup-error';

// Pure configuration parsing: no network needed.
const s3Of = (env: Record<string, string>, options = {}) => resolveConfig(options, env).s3;

describe('FLOWSCALE_S3_* settings', () => {
  it('without a bucket, files stay local (s3 is null) whatever else is set', () => {
    expect(s3Of({})).toBeNull();
    expect(s3Of({ FLOWSCALE_S3_BUCKET: '  ', FLOWSCALE_S3_ENDPOINT: 'http://minio:9000' })).toBeNull();
  });

  it('reads every variable, with defaults for region, path style, prefix and downloads', () => {
    expect(s3Of({ FLOWSCALE_S3_BUCKET: 'files' })).toEqual({
      bucket: 'files',
      endpoint: undefined,
      region: 'us-east-1',
      accessKeyId: undefined,
      secretAccessKey: undefined,
      forcePathStyle: false,
      prefix: '',
      downloads: 'proxy',
    });
    expect(
      s3Of({
        FLOWSCALE_S3_BUCKET: 'files',
        FLOWSCALE_S3_ENDPOINT: 'http://minio:9000/',
        FLOWSCALE_S3_REGION: 'eu-west-1',
        FLOWSCALE_S3_ACCESS_KEY_ID: 'id',
        FLOWSCALE_S3_SECRET_ACCESS_KEY: 'secret',
        FLOWSCALE_S3_FORCE_PATH_STYLE: 'TRUE',
        FLOWSCALE_S3_PREFIX: '/flowscale',
        FLOWSCALE_S3_DOWNLOADS: 'presigned',
      }),
    ).toEqual({
      bucket: 'files',
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
      accessKeyId: 'id',
      secretAccessKey: 'secret',
      forcePathStyle: true,
      prefix: 'flowscale/',
      downloads: 'presigned',
    });
  });

  it('options win over the environment, field by field', () => {
    const s3 = s3Of(
      { FLOWSCALE_S3_BUCKET: 'env-bucket', FLOWSCALE_S3_REGION: 'eu-west-1' },
      { s3: { bucket: 'option-bucket', prefix: 'a/b/' } },
    );
    expect(s3).toMatchObject({ bucket: 'option-bucket', region: 'eu-west-1', prefix: 'a/b/' });
  });

  it.each([
    [
      { FLOWSCALE_S3_DOWNLOADS: 'direct' },
      /FLOWSCALE_S3_DOWNLOADS must be "presigned" or "proxy", not "direct"/,
    ],
    [
      { FLOWSCALE_S3_ACCESS_KEY_ID: 'id' },
      /Set both FLOWSCALE_S3_ACCESS_KEY_ID and FLOWSCALE_S3_SECRET_ACCESS_KEY/,
    ],
    [{ FLOWSCALE_S3_ENDPOINT: 'minio:9000' }, /FLOWSCALE_S3_ENDPOINT must be an http\(s\) URL/],
    [
      { FLOWSCALE_S3_DOWNLOADS: 'presigned', FLOWSCALE_DOWNLOAD_URL_TTL_SECONDS: '700000' },
      /FLOWSCALE_DOWNLOAD_URL_TTL_SECONDS is at most 604800/,
    ],
  ])('refuses %j with a StartupError naming the setting', (env, message) => {
    const resolve = () => s3Of({ FLOWSCALE_S3_BUCKET: 'files', ...env });
    expect(resolve).toThrow(StartupError);
    expect(resolve).toThrow(message);
  });
});
