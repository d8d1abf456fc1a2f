import { makeImage, yieldToLoop } from '../../tensor/image';
import { bayerDither, floydSteinberg, mapToPalette, medianCutPalette } from '../../tensor/quantize';
import type { ImageBatch } from '../../tensor/types';
import type { NodeDefinition } from '../types';

const DITHERS = ['none', 'floyd-steinberg', 'bayer-2', 'bayer-4', 'bayer-8', 'bayer-16'] as const;

export const imageQuantize: NodeDefinition = {
  schema: 'v3',
  name: 'ImageQuantize',
  displayName: null,
  category: 'image/postprocessing',
  pythonModule: 'comfy_extras.nodes_post_processing',
  input: {
    required: {
      image: ['IMAGE', {}],
      colors: ['INT', { default: 256, min: 1, max: 256, step: 1 }],
      dither: ['COMBO', { multiselect: false, options: DITHERS }],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs) {
    const image = inputs.image as ImageBatch;
    const dither = inputs.dither as (typeof DITHERS)[number];
    const frames: Buffer[] = [];
    for (const frame of image.frames) {
      // Each frame gets its own palette, as ComfyUI quantizes frame by frame.
      const palette = medianCutPalette(frame, inputs.colors as number);
      if (dither === 'none') frames.push(mapToPalette(frame, palette));
      else if (dither === 'floyd-steinberg')
        frames.push(floydSteinberg(frame, image.width, image.height, palette));
      else frames.push(bayerDither(frame, image.width, Number(dither.split('-')[1]), palette));
      await yieldToLoop();
    }
    return { outputs: [makeImage(image.width, image.height, frames)] };
  },
};
