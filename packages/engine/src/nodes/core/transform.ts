import { makeImage, makeMask } from '../../tensor/image';
import { assertPixels } from '../../tensor/limits';
import { cropFrame, pyRound, SCALE_METHODS, type ScaleMethod } from '../../tensor/resample';
import { scaleImage } from '../../tensor/scale';
import type { ImageBatch } from '../../tensor/types';
import type { NodeDefinition } from '../types';

const DIM = { min: 0, max: 16384, step: 1 } as const;
const IMAGES = { pythonModule: 'comfy_extras.nodes_images', category: 'image/transform' } as const;

export const imageScale: NodeDefinition = {
  name: 'ImageScale',
  displayName: 'Upscale Image',
  category: 'image/upscaling',
  pythonModule: 'nodes',
  input: {
    required: {
      image: ['IMAGE'],
      upscale_method: [SCALE_METHODS],
      width: ['INT', { default: 512, ...DIM }],
      height: ['INT', { default: 512, ...DIM }],
      crop: [['disabled', 'center']],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs, ctx) {
    const image = inputs.image as ImageBatch;
    let width = inputs.width as number;
    let height = inputs.height as number;
    if (width === 0 && height === 0) return { outputs: [image] };
    if (width === 0) width = Math.max(1, pyRound((image.width * height) / image.height));
    if (height === 0) height = Math.max(1, pyRound((image.height * width) / image.width));
    const method = inputs.upscale_method as ScaleMethod;
    const crop = inputs.crop === 'center' ? 'center' : 'disabled';
    return { outputs: [await scaleImage(image, method, width, height, crop, ctx.limits)] };
  },
};

export const imageScaleBy: NodeDefinition = {
  name: 'ImageScaleBy',
  displayName: 'Upscale Image By',
  category: 'image/upscaling',
  pythonModule: 'nodes',
  input: {
    required: {
      image: ['IMAGE'],
      upscale_method: [SCALE_METHODS],
      scale_by: ['FLOAT', { default: 1.0, min: 0.01, max: 8.0, step: 0.01 }],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs, ctx) {
    const image = inputs.image as ImageBatch;
    const scale = inputs.scale_by as number;
    const width = Math.max(1, pyRound(image.width * scale));
    const height = Math.max(1, pyRound(image.height * scale));
    const method = inputs.upscale_method as ScaleMethod;
    return { outputs: [await scaleImage(image, method, width, height, 'disabled', ctx.limits)] };
  },
};

export const imageCrop: NodeDefinition = {
  ...IMAGES,
  name: 'ImageCrop',
  displayName: 'Image Crop',
  input: {
    required: {
      image: ['IMAGE'],
      width: ['INT', { default: 512, min: 1, max: 16384, step: 1 }],
      height: ['INT', { default: 512, min: 1, max: 16384, step: 1 }],
      x: ['INT', { default: 0, ...DIM }],
      y: ['INT', { default: 0, ...DIM }],
    },
  },
  outputs: ['IMAGE'],
  run(inputs) {
    const image = inputs.image as ImageBatch;
    // Same clamping as ComfyUI's tensor slicing: the window is cut at the image edges.
    const x = Math.min(inputs.x as number, image.width - 1);
    const y = Math.min(inputs.y as number, image.height - 1);
    const w = Math.min(inputs.width as number, image.width - x);
    const h = Math.min(inputs.height as number, image.height - y);
    const frames = image.frames.map((f) => cropFrame(f, image.width, 3, x, y, w, h));
    return { outputs: [makeImage(w, h, frames)] };
  },
};

const FLIPS = ['x-axis: vertically', 'y-axis: horizontally'] as const;

export const imageFlip: NodeDefinition = {
  ...IMAGES,
  name: 'ImageFlip',
  displayName: 'ImageFlip',
  input: { required: { image: ['IMAGE'], flip_method: [FLIPS] } },
  outputs: ['IMAGE'],
  run(inputs) {
    const image = inputs.image as ImageBatch;
    const vertical = inputs.flip_method === FLIPS[0];
    const { width: w, height: h } = image;
    const frames = image.frames.map((f) =>
      remapPixels(f, w, w, h, vertical ? (x, y) => [x, h - 1 - y] : (x, y) => [w - 1 - x, y]),
    );
    return { outputs: [makeImage(w, h, frames)] };
  },
};

const ROTATIONS = ['none', '90 degrees', '180 degrees', '270 degrees'] as const;

/** Clockwise quarter turns, as torch.rot90(k, dims=[2, 1]) turns an image. */
function rotateFrame(
  f: Buffer,
  w: number,
  h: number,
  turns: number,
): { frame: Buffer; w: number; h: number } {
  if (turns === 0) return { frame: f, w, h };
  const ow = turns % 2 === 1 ? h : w;
  const oh = turns % 2 === 1 ? w : h;
  const source: SourcePixel =
    turns === 1
      ? (x, y) => [y, h - 1 - x]
      : turns === 2
        ? (x, y) => [w - 1 - x, h - 1 - y]
        : (x, y) => [w - 1 - y, x];
  return { frame: remapPixels(f, w, ow, oh, source), w: ow, h: oh };
}

/** Where output pixel (x, y) comes from in the source frame. */
type SourcePixel = (x: number, y: number) => readonly [number, number];

/** Builds an RGB frame of outW × outH whose every pixel is copied from `source(x, y)` of `frame`. */
function remapPixels(frame: Buffer, srcW: number, outW: number, outH: number, source: SourcePixel): Buffer {
  const out = Buffer.allocUnsafe(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const [sx, sy] = source(x, y);
      const from = (sy * srcW + sx) * 3;
      frame.copy(out, (y * outW + x) * 3, from, from + 3);
    }
  }
  return out;
}

export const imageRotate: NodeDefinition = {
  ...IMAGES,
  name: 'ImageRotate',
  displayName: 'ImageRotate',
  input: { required: { image: ['IMAGE'], rotation: [ROTATIONS] } },
  outputs: ['IMAGE'],
  run(inputs) {
    const image = inputs.image as ImageBatch;
    const turns = ROTATIONS.indexOf(inputs.rotation as (typeof ROTATIONS)[number]);
    const rotated = image.frames.map((f) => rotateFrame(f, image.width, image.height, Math.max(0, turns)));
    const first = rotated[0] ?? { w: image.width, h: image.height };
    return {
      outputs: [
        makeImage(
          first.w,
          first.h,
          rotated.map((r) => r.frame),
        ),
      ],
    };
  },
};

const PAD = { min: 0, max: 16384, step: 8 } as const;

/** ComfyUI's feathered outpaint mask: 1 in the new border, fading (squared) over `feathering` pixels. */
function outpaintMask(
  d2: number,
  d3: number,
  p: Record<'top' | 'bottom' | 'left' | 'right' | 'feathering', number>,
) {
  const W = d3 + p.left + p.right;
  const H = d2 + p.top + p.bottom;
  const mask = new Float32Array(W * H).fill(1);
  const feather = p.feathering > 0 && p.feathering * 2 < d2 && p.feathering * 2 < d3;
  for (let i = 0; i < d2; i++) {
    for (let j = 0; j < d3; j++) {
      let v = 0;
      if (feather) {
        const d = Math.min(p.top ? i : d2, p.bottom ? d2 - i : d2, p.left ? j : d3, p.right ? d3 - j : d3);
        if (d < p.feathering) v = ((p.feathering - d) / p.feathering) ** 2;
      }
      mask[(i + p.top) * W + j + p.left] = v;
    }
  }
  return makeMask(W, H, [mask]);
}

export const imagePadForOutpaint: NodeDefinition = {
  name: 'ImagePadForOutpaint',
  displayName: 'Pad Image for Outpainting',
  category: 'image',
  pythonModule: 'nodes',
  input: {
    required: {
      image: ['IMAGE'],
      left: ['INT', { default: 0, ...PAD }],
      top: ['INT', { default: 0, ...PAD }],
      right: ['INT', { default: 0, ...PAD }],
      bottom: ['INT', { default: 0, ...PAD }],
      feathering: ['INT', { default: 40, min: 0, max: 16384, step: 1 }],
    },
  },
  outputs: ['IMAGE', 'MASK'],
  run(inputs, ctx) {
    const image = inputs.image as ImageBatch;
    const p = {
      left: inputs.left as number,
      top: inputs.top as number,
      right: inputs.right as number,
      bottom: inputs.bottom as number,
      feathering: inputs.feathering as number,
    };
    const W = image.width + p.left + p.right;
    const H = image.height + p.top + p.bottom;
    assertPixels(ctx.limits, W, H, image.frames.length);
    const frames = image.frames.map((f) => {
      // The new border is mid-grey (0.5), stored as the nearest 8-bit level.
      const out = Buffer.alloc(W * H * 3, 128);
      for (let y = 0; y < image.height; y++) {
        f.copy(out, ((y + p.top) * W + p.left) * 3, y * image.width * 3, (y + 1) * image.width * 3);
      }
      return out;
    });
    return { outputs: [makeImage(W, H, frames), outpaintMask(image.height, image.width, p)] };
  },
};

export const imageBatch: NodeDefinition = {
  name: 'ImageBatch',
  displayName: 'Batch Images',
  category: 'image',
  pythonModule: 'nodes',
  input: { required: { image1: ['IMAGE'], image2: ['IMAGE'] } },
  outputs: ['IMAGE'],
  async run(inputs, ctx) {
    const a = inputs.image1 as ImageBatch;
    let b = inputs.image2 as ImageBatch;
    if (a.width !== b.width || a.height !== b.height) {
      b = await scaleImage(b, 'bilinear', a.width, a.height, 'center', ctx.limits);
    }
    assertPixels(ctx.limits, a.width, a.height, a.frames.length + b.frames.length);
    return { outputs: [makeImage(a.width, a.height, [...a.frames, ...b.frames])] };
  },
};
