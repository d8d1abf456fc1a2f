import { floatsToBytes } from '../../tensor/convolve';
import { frameAt, makeImage, yieldToLoop } from '../../tensor/image';
import { scaleImage, scaleMask } from '../../tensor/scale';
import type { ImageBatch, MaskBatch } from '../../tensor/types';
import type { NodeDefinition } from '../types';

export const BLEND_MODES = ['normal', 'multiply', 'screen', 'overlay', 'soft_light', 'difference'] as const;
type BlendMode = (typeof BLEND_MODES)[number];

const softLightG = (x: number) => (x <= 0.25 ? ((16 * x - 12) * x + 4) * x : Math.sqrt(x));

/** ComfyUI's Blend.blend_mode on 0..1 values. */
export function blendPixel(mode: BlendMode, a: number, b: number): number {
  switch (mode) {
    case 'normal':
      return b;
    case 'multiply':
      return a * b;
    case 'screen':
      return 1 - (1 - a) * (1 - b);
    case 'overlay':
      return a <= 0.5 ? 2 * a * b : 1 - 2 * (1 - a) * (1 - b);
    case 'soft_light':
      return b <= 0.5 ? a - (1 - 2 * b) * a * (1 - a) : a + (2 * b - 1) * (softLightG(a) - a);
    case 'difference':
      return a - b;
  }
}

export const imageBlend: NodeDefinition = {
  schema: 'v3',
  name: 'ImageBlend',
  displayName: null,
  category: 'image/postprocessing',
  pythonModule: 'comfy_extras.nodes_post_processing',
  input: {
    required: {
      image1: ['IMAGE', {}],
      image2: ['IMAGE', {}],
      blend_factor: ['FLOAT', { default: 0.5, min: 0.0, max: 1.0, step: 0.01 }],
      blend_mode: ['COMBO', { multiselect: false, options: BLEND_MODES }],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs, ctx) {
    const a = inputs.image1 as ImageBatch;
    let b = inputs.image2 as ImageBatch;
    if (a.width !== b.width || a.height !== b.height) {
      b = await scaleImage(b, 'bicubic', a.width, a.height, 'center', ctx.limits);
    }
    const mode = inputs.blend_mode as BlendMode;
    const factor = inputs.blend_factor as number;
    const frames: Buffer[] = [];
    for (let i = 0; i < Math.max(a.frames.length, b.frames.length); i++) {
      const fa = frameAt(a.frames, i);
      const fb = frameAt(b.frames, i);
      const out = new Float32Array(fa.length);
      for (let p = 0; p < fa.length; p++) {
        const x = (fa[p] as number) / 255;
        const blended = blendPixel(mode, x, (fb[p] as number) / 255);
        out[p] = Math.min(1, Math.max(0, x * (1 - factor) + blended * factor)) * 255;
      }
      frames.push(floatsToBytes(out));
      await yieldToLoop();
    }
    return { outputs: [makeImage(a.width, a.height, frames)] };
  },
};

/** comfy's composite() with multiplier 1: paste `source` at (x, y), weighted by the mask. */
async function composite(
  dest: Buffer,
  dw: number,
  dh: number,
  src: Buffer,
  sw: number,
  sh: number,
  x: number,
  y: number,
  mask: Float32Array | null,
) {
  const out = Buffer.from(dest);
  const left = Math.min(x, dw);
  const top = Math.min(y, dh);
  const visibleW = Math.min(sw, dw - left);
  const visibleH = Math.min(sh, dh - top);
  for (let row = 0; row < visibleH; row++) {
    for (let col = 0; col < visibleW; col++) {
      const m = mask ? (mask[row * sw + col] as number) : 1;
      const d = ((top + row) * dw + left + col) * 3;
      const s = (row * sw + col) * 3;
      for (let c = 0; c < 3; c++) {
        const v = m * (src[s + c] as number) + (1 - m) * (dest[d + c] as number);
        out[d + c] = Math.round(Math.min(255, Math.max(0, v)));
      }
    }
  }
  return out;
}

export const imageCompositeMasked: NodeDefinition = {
  name: 'ImageCompositeMasked',
  displayName: 'ImageCompositeMasked',
  category: 'image',
  pythonModule: 'comfy_extras.nodes_mask',
  input: {
    required: {
      destination: ['IMAGE'],
      source: ['IMAGE'],
      x: ['INT', { default: 0, min: 0, max: 16384, step: 1 }],
      y: ['INT', { default: 0, min: 0, max: 16384, step: 1 }],
      resize_source: ['BOOLEAN', { default: false }],
    },
    optional: { mask: ['MASK'] },
  },
  outputs: ['IMAGE'],
  async run(inputs, ctx) {
    const dest = inputs.destination as ImageBatch;
    let src = inputs.source as ImageBatch;
    if (inputs.resize_source === true)
      src = await scaleImage(src, 'bilinear', dest.width, dest.height, 'disabled', ctx.limits);
    const mask = inputs.mask
      ? await scaleMask(inputs.mask as MaskBatch, src.width, src.height, ctx.limits)
      : null;
    const frames: Buffer[] = [];
    for (let i = 0; i < dest.frames.length; i++) {
      const m = mask ? frameAt(mask.frames, i) : null;
      frames.push(
        await composite(
          frameAt(dest.frames, i),
          dest.width,
          dest.height,
          frameAt(src.frames, i),
          src.width,
          src.height,
          inputs.x as number,
          inputs.y as number,
          m,
        ),
      );
    }
    return { outputs: [makeImage(dest.width, dest.height, frames)] };
  },
};
