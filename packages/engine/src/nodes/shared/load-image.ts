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
  /** RGBA frames, 8 bits per channel, EXIF orientation applied. */
  frames: Buffer[];
}

/** Reads an image file; with `allFrames`, every frame of an animated GIF/WebP/TIFF (as LoadImage does). */
export async function readRgba(file: string, limits: EngineLimits, allFrames = false): Promise<LoadedRgba> {
  try {
    const meta = await sharp(file).metadata();
    const pages = allFrames && (meta.pages ?? 1) > 1 ? (meta.pages as number) : 1;
    const image = sharp(file, {
      limitInputPixels: pages > 1 ? limits.maxBatchPixels : limits.maxImagePixels,
      failOn: 'none',
      pages: pages > 1 ? -1 : 1,
    }).rotate();
    const { data, info } = await image
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    const count = pages;
    const height = info.height / count;
    assertPixels(limits, info.width, height, count);
    const frameBytes = info.width * height * 4;
    const frames = Array.from({ length: count }, (_, i) =>
      data.subarray(i * frameBytes, (i + 1) * frameBytes),
    );
    return { width: info.width, height, hasAlpha: meta.hasAlpha === true, frames };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new NodeError(`Cannot load image: ${message}`);
  }
}

function splitRgba(rgba: Buffer, n: number): { rgb: Buffer; alpha: Buffer } {
  const rgb = Buffer.allocUnsafe(n * 3);
  const alpha = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = rgba[i * 4] as number;
    rgb[i * 3 + 1] = rgba[i * 4 + 1] as number;
    rgb[i * 3 + 2] = rgba[i * 4 + 2] as number;
    alpha[i] = rgba[i * 4 + 3] as number;
  }
  return { rgb, alpha };
}

/**
 * LoadImage: RGB frames plus MASK = 1 - alpha per frame, or one 64x64 zero mask when the file has no
 * alpha (as ComfyUI does).
 */
export async function loadImageAndMask(file: string, limits: EngineLimits): Promise<[ImageBatch, MaskBatch]> {
  const loaded = await readRgba(file, limits, true);
  const n = loaded.width * loaded.height;
  const split = loaded.frames.map((f) => splitRgba(f, n));
  const image = makeImage(
    loaded.width,
    loaded.height,
    split.map((f) => f.rgb),
  );
  if (!loaded.hasAlpha) return [image, makeMask(64, 64, [new Float32Array(64 * 64)])];
  const masks = split.map(({ alpha }) => {
    const mask = new Float32Array(n);
    for (let i = 0; i < n; i++) mask[i] = 1 - (alpha[i] as number) / 255;
    return mask;
  });
  return [image, makeMask(loaded.width, loaded.height, masks)];
}
