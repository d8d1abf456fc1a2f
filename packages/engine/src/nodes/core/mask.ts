import { makeImage, makeMask, toByte } from '../../tensor/image';
import { assertPixels, pixelLimitCheck } from '../../tensor/limits';
import type { ImageBatch, MaskBatch } from '../../tensor/types';
import { resolveInputFile } from '../shared/input-file';
import { readRgba } from '../shared/load-image';
import { type NodeDefinition, NodeError } from '../types';
import { loadImageBehaviour } from './image-io';

const MASK_MODULE = { pythonModule: 'comfy_extras.nodes_mask', category: 'mask' } as const;
const LOAD_CHANNELS = ['alpha', 'red', 'green', 'blue'] as const;

export const loadImageMask: NodeDefinition = {
  name: 'LoadImageMask',
  displayName: 'Load Image (as Mask)',
  category: 'mask',
  pythonModule: 'nodes',
  input: { required: { image: [[], { image_upload: true }], channel: [LOAD_CHANNELS] } },
  outputs: ['MASK'],
  validatedInputs: ['image'],
  validate: loadImageBehaviour.validate,
  fingerprint: loadImageBehaviour.fingerprint,
  async run(inputs, ctx) {
    const file = resolveInputFile(ctx.dirs, String(inputs.image));
    if (!file) throw new NodeError(`Invalid image file: ${String(inputs.image)}`);
    const img = await readRgba(file, ctx.limits);
    // ComfyUI converts to RGBA first, so every channel exists; alpha is inverted (1 = transparent).
    const c = { red: 0, green: 1, blue: 2, alpha: 3 }[inputs.channel as (typeof LOAD_CHANNELS)[number]] ?? 3;
    const rgba = img.frames[0] as Buffer;
    const mask = new Float32Array(img.width * img.height);
    for (let i = 0; i < mask.length; i++) {
      const v = (rgba[i * 4 + c] as number) / 255;
      mask[i] = c === 3 ? 1 - v : v;
    }
    return { outputs: [makeMask(img.width, img.height, [mask])] };
  },
};

export const maskToImage: NodeDefinition = {
  ...MASK_MODULE,
  name: 'MaskToImage',
  displayName: 'Convert Mask to Image',
  input: { required: { mask: ['MASK'] } },
  outputs: ['IMAGE'],
  run(inputs) {
    const mask = inputs.mask as MaskBatch;
    const frames = mask.frames.map((m) => {
      const out = Buffer.allocUnsafe(m.length * 3);
      for (let i = 0; i < m.length; i++) out.fill(toByte(m[i] as number), i * 3, i * 3 + 3);
      return out;
    });
    return { outputs: [makeImage(mask.width, mask.height, frames)] };
  },
};

const IMAGE_CHANNELS = ['red', 'green', 'blue', 'alpha'] as const;

export const imageToMask: NodeDefinition = {
  ...MASK_MODULE,
  name: 'ImageToMask',
  displayName: 'Convert Image to Mask',
  input: { required: { image: ['IMAGE'], channel: [IMAGE_CHANNELS] } },
  outputs: ['MASK'],
  run(inputs) {
    const image = inputs.image as ImageBatch;
    const c = IMAGE_CHANNELS.indexOf(inputs.channel as (typeof IMAGE_CHANNELS)[number]);
    // IMAGE values are RGB, so ComfyUI's image[..., 3] fails the same way: there is no alpha to pick.
    if (c === 3)
      throw new NodeError(
        "The image has no alpha channel (IMAGE values are RGB); use LoadImage's MASK output instead.",
      );
    const frames = image.frames.map((f) => {
      const out = new Float32Array(image.width * image.height);
      for (let i = 0; i < out.length; i++) out[i] = (f[i * 3 + c] as number) / 255;
      return out;
    });
    return { outputs: [makeMask(image.width, image.height, frames)] };
  },
};

export const solidMask: NodeDefinition = {
  ...MASK_MODULE,
  name: 'SolidMask',
  displayName: 'SolidMask',
  input: {
    required: {
      value: ['FLOAT', { default: 1.0, min: 0.0, max: 1.0, step: 0.01 }],
      width: ['INT', { default: 512, min: 1, max: 16384, step: 1 }],
      height: ['INT', { default: 512, min: 1, max: 16384, step: 1 }],
    },
  },
  outputs: ['MASK'],
  validate: pixelLimitCheck('width', 'height'),
  run(inputs, ctx) {
    const width = inputs.width as number;
    const height = inputs.height as number;
    assertPixels(ctx.limits, width, height);
    return {
      outputs: [makeMask(width, height, [new Float32Array(width * height).fill(inputs.value as number)])],
    };
  },
};

export const invertMask: NodeDefinition = {
  ...MASK_MODULE,
  name: 'InvertMask',
  displayName: 'InvertMask',
  input: { required: { mask: ['MASK'] } },
  outputs: ['MASK'],
  run(inputs) {
    const mask = inputs.mask as MaskBatch;
    return {
      outputs: [
        makeMask(
          mask.width,
          mask.height,
          mask.frames.map((m) => m.map((v) => 1 - v)),
        ),
      ],
    };
  },
};

export const getImageSize: NodeDefinition = {
  name: 'GetImageSize',
  displayName: 'Get Image Size',
  description: 'Returns width and height of the image, and passes it through unchanged.',
  category: 'image',
  pythonModule: 'comfy_extras.nodes_images',
  input: { required: { image: ['IMAGE'] }, hidden: { unique_id: 'UNIQUE_ID' } },
  outputs: ['INT', 'INT', 'INT'],
  outputNames: ['width', 'height', 'batch_size'],
  run(inputs, ctx) {
    const image = inputs.image as ImageBatch;
    const batch = image.frames.length;
    ctx.progressText(`width: ${image.width}, height: ${image.height}\n batch size: ${batch}`);
    return { outputs: [image.width, image.height, batch] };
  },
};
