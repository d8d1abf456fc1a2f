import type { ImageBatch } from '../../tensor/types';
import { type ImageFormat, saveImages } from '../shared/save-images';
import { saveTarget, writeCounted } from '../shared/save-path';
import type { NodeDefinition, RunContext } from '../types';
import { FS, LABEL, PREFIX } from './common';

const HIDDEN = { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' };

export const fsSaveImage: NodeDefinition = {
  ...FS,
  name: 'FSSaveImage',
  displayName: '[FS] Save Image',
  outputNode: true,
  input: {
    required: {
      images: ['IMAGE'],
      filename_prefix: PREFIX,
      format: [['png', 'jpg', 'jpeg', 'webp', 'avif'], { default: 'png' }],
      quality: ['INT', { default: 90, min: 1, max: 100, step: 1 }],
      lossless: ['BOOLEAN', { default: false }],
    },
    optional: LABEL,
    hidden: HIDDEN,
  },
  outputs: [],
  async run(inputs, ctx) {
    const images = await saveImages(
      inputs.images as ImageBatch,
      {
        root: ctx.dirs.output,
        type: 'output',
        prefix: String(inputs.filename_prefix ?? 'FlowScale'),
        format: (inputs.format as ImageFormat | undefined) ?? 'png',
        quality: (inputs.quality as number | undefined) ?? 90,
        lossless: inputs.lossless === true,
      },
      ctx,
    );
    return { outputs: [], ui: { images } };
  },
};

async function saveText(text: string, prefix: string, ctx: RunContext) {
  const target = await saveTarget(ctx.dirs.output, prefix);
  const filename = await writeCounted(target, 'txt', text);
  return { text: [text], files: [{ filename, subfolder: target.subfolder, type: 'output' }] };
}

export const fsSaveText: NodeDefinition = {
  ...FS,
  name: 'FSSaveText',
  displayName: '[FS] Save Text',
  outputNode: true,
  input: {
    required: { text: ['STRING', { forceInput: true }], filename_prefix: PREFIX },
    optional: LABEL,
  },
  outputs: [],
  async run(inputs, ctx) {
    return {
      outputs: [],
      ui: await saveText(String(inputs.text), String(inputs.filename_prefix ?? 'FlowScale'), ctx),
    };
  },
};

export const fsSaveInteger: NodeDefinition = {
  ...FS,
  name: 'FSSaveInteger',
  displayName: '[FS] Save Integer',
  outputNode: true,
  input: {
    required: { integer: ['INT', { forceInput: true }], filename_prefix: PREFIX },
    optional: LABEL,
  },
  outputs: [],
  async run(inputs, ctx) {
    const text = String(Math.trunc(Number(inputs.integer)));
    return { outputs: [], ui: await saveText(text, String(inputs.filename_prefix ?? 'FlowScale'), ctx) };
  },
};
