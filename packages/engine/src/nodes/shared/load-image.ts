import sharp from 'sharp';
import type { EngineLimits } from '../../config/limits';
import { makeImage, makeMask } from '../../tensor/image';
import { assertPixels } from '../../tensor/limits';
import type { ImageBatch, MaskBatch } from '../../tensor/types';
import { NodeError } from '../types';

export interface LoadedRgba {
  width: number;
  height: number;
  hasAlpha: boolean;
  /** RGBA, 8 bits per channel, EXIF orientation applied. */
  rgba: Buffer;
}

export async function readRgba(file: string, limits: EngineLimits): Promise<LoadedRgba> {
  try {
    const image = sharp(file, { limitInputPixels: limits.maxImagePixels, failOn: 'none' }).rotate();
    const meta = await image.metadata();
    const { data, info } = await image
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    assertPixels(limits, info.width, info.height);
    return { width: info.width, height: info.height, hasAlpha: meta.hasAlpha === true, rgba: data };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new NodeError(`Cannot load image: ${message}`);
  }
}

function splitRgba(src: LoadedRgba): { rgb: Buffer; alpha: Buffer } {
  const n = src.width * src.height;
  const rgb = Buffer.allocUnsafe(n * 3);
  const alpha = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = src.rgba[i * 4] as number;
    rgb[i * 3 + 1] = src.rgba[i * 4 + 1] as number;
    rgb[i * 3 + 2] = src.rgba[i * 4 + 2] as number;
    alpha[i] = src.rgba[i * 4 + 3] as number;
  }
  return { rgb, alpha };
}

/** LoadImage: RGB image plus MASK = 1 - alpha, or a 64x64 zero mask when there is no alpha (as ComfyUI). */
export async function loadImageAndMask(file: string, limits: EngineLimits): Promise<[ImageBatch, MaskBatch]> {
  const loaded = await readRgba(file, limits);
  const { rgb, alpha } = splitRgba(loaded);
  const image = makeImage(loaded.width, loaded.height, [rgb]);
  if (!loaded.hasAlpha) return [image, makeMask(64, 64, [new Float32Array(64 * 64)])];
  const mask = new Float32Array(alpha.length);
  for (let i = 0; i < alpha.length; i++) mask[i] = 1 - (alpha[i] as number) / 255;
  return [image, makeMask(loaded.width, loaded.height, [mask])];
}
