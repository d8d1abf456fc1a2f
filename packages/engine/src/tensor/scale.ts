import type { EngineLimits } from '../config/limits';
import { floatsToBytes } from './convolve';
import { makeImage, makeMask } from './image';
import { assertPixels } from './limits';
import { centerCropWindow, cropFrame, lanczosBytes, resizeFrame, type ScaleMethod } from './resample';
import type { ImageBatch, MaskBatch } from './types';

type Limits = Pick<EngineLimits, 'maxImagePixels' | 'maxBatchPixels'>;

/** comfy.utils.common_upscale for IMAGE values (crop "disabled" or "center"). */
export async function scaleImage(
  image: ImageBatch,
  method: ScaleMethod,
  ow: number,
  oh: number,
  crop: 'disabled' | 'center',
  limits: Limits,
): Promise<ImageBatch> {
  assertPixels(limits, ow, oh, image.frames.length);
  const win = crop === 'center' ? centerCropWindow(image.width, image.height, ow, oh) : null;
  const frames: Buffer[] = [];
  for (const f of image.frames) {
    const src = win ? cropFrame(f, image.width, 3, win.x, win.y, win.width, win.height) : f;
    const w = win?.width ?? image.width;
    const h = win?.height ?? image.height;
    // lanczos goes through libvips on the 8-bit frame directly; the others are exact torch kernels.
    frames.push(
      method === 'lanczos'
        ? await lanczosBytes(src, w, h, ow, oh)
        : floatsToBytes(await resizeFrame(src, w, h, 3, ow, oh, method)),
    );
  }
  return makeImage(ow, oh, frames);
}

/** Bilinear mask resize, as ComfyUI's composite and blend helpers do. */
export async function scaleMask(mask: MaskBatch, ow: number, oh: number, limits: Limits): Promise<MaskBatch> {
  if (mask.width === ow && mask.height === oh) return mask;
  assertPixels(limits, ow, oh, mask.frames.length);
  const frames: Float32Array[] = [];
  for (const f of mask.frames)
    frames.push(await resizeFrame(f, mask.width, mask.height, 1, ow, oh, 'bilinear'));
  return makeMask(ow, oh, frames);
}
