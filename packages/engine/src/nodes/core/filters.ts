import { comfyGaussian1d, convolveSeparable, floatsToBytes } from '../../tensor/convolve';
import { makeImage, mapBytes } from '../../tensor/image';
import type { ImageBatch } from '../../tensor/types';
import type { NodeDefinition } from '../types';

const V3 = { schema: 'v3' as const, displayName: null, pythonModule: 'comfy_extras.nodes_post_processing' };

export const imageInvert: NodeDefinition = {
  name: 'ImageInvert',
  displayName: 'Invert Image',
  category: 'image',
  pythonModule: 'nodes',
  input: { required: { image: ['IMAGE'] } },
  outputs: ['IMAGE'],
  run: (inputs) => ({ outputs: [mapBytes(inputs.image as ImageBatch, (v) => 255 - v)] }),
};

export const imageBlur: NodeDefinition = {
  ...V3,
  name: 'ImageBlur',
  category: 'image/postprocessing',
  input: {
    required: {
      image: ['IMAGE', {}],
      blur_radius: ['INT', { default: 1, min: 1, max: 31, step: 1 }],
      sigma: ['FLOAT', { default: 1.0, min: 0.1, max: 10.0, step: 0.1 }],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs) {
    const image = inputs.image as ImageBatch;
    const radius = inputs.blur_radius as number;
    if (radius === 0) return { outputs: [image] };
    const kernel = comfyGaussian1d(radius, inputs.sigma as number);
    const frames: Buffer[] = [];
    for (const f of image.frames) {
      frames.push(floatsToBytes(await convolveSeparable(f, image.width, image.height, 3, kernel)));
    }
    return { outputs: [makeImage(image.width, image.height, frames)] };
  },
};

export const imageSharpen: NodeDefinition = {
  ...V3,
  name: 'ImageSharpen',
  category: 'image/postprocessing',
  input: {
    required: {
      image: ['IMAGE', {}],
      sharpen_radius: ['INT', { default: 1, min: 1, max: 31, step: 1 }],
      sigma: ['FLOAT', { default: 1.0, min: 0.1, max: 10.0, step: 0.01 }],
      alpha: ['FLOAT', { default: 1.0, min: 0.0, max: 5.0, step: 0.01 }],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs) {
    const image = inputs.image as ImageBatch;
    const radius = inputs.sharpen_radius as number;
    if (radius === 0) return { outputs: [image] };
    // ComfyUI's kernel is -10α·G with 1 + 10α added at the centre: out = x + 10α (x − blur(x)).
    const amount = 10 * (inputs.alpha as number);
    const kernel = comfyGaussian1d(radius, inputs.sigma as number);
    const frames: Buffer[] = [];
    for (const f of image.frames) {
      const blurred = await convolveSeparable(f, image.width, image.height, 3, kernel);
      for (let i = 0; i < blurred.length; i++) {
        const x = f[i] as number;
        blurred[i] = x + amount * (x - (blurred[i] as number));
      }
      frames.push(floatsToBytes(blurred));
    }
    return { outputs: [makeImage(image.width, image.height, frames)] };
  },
};
