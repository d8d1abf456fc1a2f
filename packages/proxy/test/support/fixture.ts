import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '@flowscale/server';
import { SignJWT } from 'jose';
import sharp from 'sharp';
import { startRecorder } from './recorder';

export const API_KEY = 'test-key';
export const JWT_SECRET = 'proxy-test-secret-that-is-long-enough';

/** The real server (with its embedded engine), behind a recording pass-through. */
export async function startUpstream() {
  const dataDir = await mkdtemp(join(tmpdir(), 'fs-proxy-test-'));
  const server = await startServer({ port: 0, dataDir, apiKeys: [API_KEY], logLevel: 'silent' });
  const recorder = await startRecorder(server.url);
  return {
    server,
    recorder,
    async close() {
      await recorder.close();
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function signJwt(
  sub: string,
  secret = JWT_SECRET,
  expiresIn: string | number = '10m',
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** A small PNG whose pixels are all different, so a broken upload or a non-inverted output shows. */
export async function makePng(width = 48, height = 32): Promise<Uint8Array> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    raw[i * 3] = (i * 7) % 256;
    raw[i * 3 + 1] = (i * 13) % 256;
    raw[i * 3 + 2] = (i * 29) % 256;
  }
  return new Uint8Array(
    await sharp(raw, { raw: { width, height, channels: 3 } })
      .png()
      .toBuffer(),
  );
}

export async function rgbPixels(png: Uint8Array): Promise<Buffer> {
  return sharp(png).removeAlpha().raw().toBuffer();
}
