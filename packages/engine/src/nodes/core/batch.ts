import { makeImage } from '../../tensor/image';
import { assertPixels } from '../../tensor/limits';
import type { ImageBatch } from '../../tensor/types';
import type { NodeDefinition } from '../types';

const BATCH = { category: 'image/batch', pythonModule: 'comfy_extras.nodes_images' } as const;

export const repeatImageBatch: NodeDefinition = {
  ...BATCH,
  name: 'RepeatImageBatch',
  displayName: 'RepeatImageBatch',
  input: { required: { image: ['IMAGE'], amount: ['INT', { default: 1, min: 1, max: 4096 }] } },
  outputs: ['IMAGE'],
  run(inputs, ctx) {
    const image = inputs.image as ImageBatch;
    const amount = inputs.amount as number;
    assertPixels(ctx.limits, image.width, image.height, image.frames.length * amount);
    // image.repeat((amount, 1, 1, 1)): the whole batch, `amount` times over. Frames are shared, not copied.
    const frames = Array.from({ length: amount }, () => image.frames).flat();
    return { outputs: [makeImage(image.width, image.height, frames)] };
  },
};

export const imageFromBatch: NodeDefinition = {
  ...BATCH,
  name: 'ImageFromBatch',
  displayName: 'ImageFromBatch',
  input: {
    required: {
      image: ['IMAGE'],
      batch_index: ['INT', { default: 0, min: 0, max: 4095 }],
      length: ['INT', { default: 1, min: 1, max: 4096 }],
    },
  },
  outputs: ['IMAGE'],
  run(inputs) {
    const image = inputs.image as ImageBatch;
    const n = image.frames.length;
    // ComfyUI clamps both: the index to the last frame, the length to what is left.
    const start = Math.min(n - 1, inputs.batch_index as number);
    const length = Math.min(n - start, inputs.length as number);
    return { outputs: [makeImage(image.width, image.height, image.frames.slice(start, start + length))] };
  },
};
