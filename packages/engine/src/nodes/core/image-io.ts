import { makeImage } from '../../tensor/image';
import { assertPixels, pixelLimitCheck } from '../../tensor/limits';
import type { ImageBatch } from '../../tensor/types';
import { inputFileExists, inputFileHash, resolveInputFile } from '../shared/input-file';
import { loadImageAndMask } from '../shared/load-image';
import { saveImages } from '../shared/save-images';
import { type Inputs, type NodeDefinition, type NodeEnv, NodeError, type RunContext } from '../types';

const SIZE = { min: 1, max: 16384, step: 1 } as const;

export const emptyImage: NodeDefinition = {
  name: 'EmptyImage',
  displayName: 'EmptyImage',
  category: 'image',
  pythonModule: 'nodes',
  input: {
    required: {
      width: ['INT', { default: 512, ...SIZE }],
      height: ['INT', { default: 512, ...SIZE }],
      batch_size: ['INT', { default: 1, min: 1, max: 4096 }],
      color: ['INT', { default: 0, min: 0, max: 16777215, step: 1, display: 'color' }],
    },
  },
  outputs: ['IMAGE'],
  validate: pixelLimitCheck('width', 'height', 'batch_size'),
  run(inputs, ctx) {
    const width = inputs.width as number;
    const height = inputs.height as number;
    const batch = (inputs.batch_size as number | undefined) ?? 1;
    const color = (inputs.color as number | undefined) ?? 0;
    assertPixels(ctx.limits, width, height, batch);
    const frame = Buffer.allocUnsafe(width * height * 3);
    const rgb = [(color >> 16) & 0xff, (color >> 8) & 0xff, color & 0xff];
    for (let i = 0; i < frame.length; i += 3) {
      frame[i] = rgb[0] as number;
      frame[i + 1] = rgb[1] as number;
      frame[i + 2] = rgb[2] as number;
    }
    return {
      outputs: [
        makeImage(
          width,
          height,
          Array.from({ length: batch }, () => frame),
        ),
      ],
    };
  },
};

/** Shared by LoadImage and FSLoadImage: existence check, content-hash fingerprint, RGB + mask outputs. */
export const loadImageBehaviour = {
  validatedInputs: ['image'],
  async validate(inputs: Inputs, env: NodeEnv) {
    const name = inputs.image as string;
    return (await inputFileExists(env.dirs, name)) ? true : `Invalid image file: ${name}`;
  },
  fingerprint(inputs: Inputs, env: NodeEnv) {
    return inputFileHash(env.dirs, String(inputs.image));
  },
  async run(inputs: Inputs, ctx: RunContext) {
    const file = resolveInputFile(ctx.dirs, String(inputs.image));
    if (!file) throw new NodeError(`Invalid image file: ${String(inputs.image)}`);
    return { outputs: await loadImageAndMask(file, ctx.limits) };
  },
} satisfies Partial<NodeDefinition>;

export const loadImage: NodeDefinition = {
  name: 'LoadImage',
  displayName: 'Load Image',
  category: 'image',
  pythonModule: 'nodes',
  input: { required: { image: [[], { image_upload: true }] } },
  outputs: ['IMAGE', 'MASK'],
  ...loadImageBehaviour,
};

const HIDDEN = { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' };

export const saveImage: NodeDefinition = {
  name: 'SaveImage',
  displayName: 'Save Image',
  description: 'Saves the input images to your ComfyUI output directory.',
  category: 'image',
  pythonModule: 'nodes',
  outputNode: true,
  input: {
    required: {
      images: ['IMAGE', { tooltip: 'The images to save.' }],
      filename_prefix: [
        'STRING',
        {
          default: 'ComfyUI',
          tooltip:
            'The prefix for the file to save. This may include formatting information such as %date:yyyy-MM-dd% or %Empty Latent Image.width% to include values from nodes.',
        },
      ],
    },
    hidden: HIDDEN,
  },
  outputs: [],
  async run(inputs, ctx) {
    const images = await saveImages(
      inputs.images as ImageBatch,
      {
        root: ctx.dirs.output,
        type: 'output',
        prefix: String(inputs.filename_prefix ?? 'ComfyUI'),
        format: 'png',
      },
      ctx,
    );
    return { outputs: [], ui: { images } };
  },
};

export const previewImage: NodeDefinition = {
  name: 'PreviewImage',
  displayName: 'Preview Image',
  description: 'Saves the input images to your ComfyUI output directory.',
  category: 'image',
  pythonModule: 'nodes',
  outputNode: true,
  input: { required: { images: ['IMAGE'] }, hidden: HIDDEN },
  outputs: [],
  async run(inputs, ctx) {
    const images = await saveImages(
      inputs.images as ImageBatch,
      {
        root: ctx.dirs.temp,
        type: 'temp',
        prefix: `ComfyUI_temp_${ctx.previewSuffix()}`,
        format: 'png',
        compressionLevel: 1,
      },
      ctx,
    );
    return { outputs: [], ui: { images } };
  },
};
