import sharp from 'sharp';
import { rawSharp } from '../../tensor/image';
import type { ImageBatch } from '../../tensor/types';
import { assembleApng } from '../shared/apng';
import { pngChunk } from '../shared/png-text';
import { pyJsonDumps } from '../shared/py-json';
import { saveTarget, writeCounted } from '../shared/save-path';
import type { NodeDefinition, RunContext } from '../types';

const ANIMATION = {
  category: 'image/animation',
  pythonModule: 'comfy_extras.nodes_images',
  outputNode: true,
} as const;
const HIDDEN = { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' };
const FPS = ['FLOAT', { default: 6.0, min: 0.01, max: 1000.0, step: 0.01 }] as const;
const WEBP_METHODS: Record<string, number> = { default: 4, fastest: 0, slowest: 6 };
/** PIL writes the prompt as EXIF 0x0110 (Model) and extra_pnginfo keys from 0x010f (Make) down. */
const EXIF_EXTRA_TAGS = ['Make', 'ImageDescription', 'DocumentName'];

/** ComfyUI passes duration=int(1000.0 / fps) to PIL. */
const frameMs = (fps: number) => Math.trunc(1000 / fps);

function webpExif(ctx: RunContext): Record<string, string> {
  const tags: Record<string, string> = { Model: `prompt:${pyJsonDumps(ctx.prompt)}` };
  Object.entries(ctx.extraPngInfo ?? {})
    .slice(0, EXIF_EXTRA_TAGS.length)
    .forEach(([key, value], i) => {
      tags[EXIF_EXTRA_TAGS[i] as string] = `${key}:${pyJsonDumps(value)}`;
    });
  return tags;
}

export const saveAnimatedWebp: NodeDefinition = {
  ...ANIMATION,
  name: 'SaveAnimatedWEBP',
  displayName: 'SaveAnimatedWEBP',
  input: {
    required: {
      images: ['IMAGE'],
      filename_prefix: ['STRING', { default: 'ComfyUI' }],
      fps: FPS,
      lossless: ['BOOLEAN', { default: true }],
      quality: ['INT', { default: 80, min: 0, max: 100 }],
      method: [['default', 'fastest', 'slowest']],
    },
    hidden: HIDDEN,
  },
  outputs: [],
  async run(inputs, ctx) {
    const images = inputs.images as ImageBatch;
    const { width, height, frames } = images;
    const target = await saveTarget(ctx.dirs.output, inputs.filename_prefix as string, width, height);
    const data = await sharp(Buffer.concat(frames), {
      raw: { width, height: height * frames.length, channels: 3, pageHeight: height },
    })
      .withExif({ IFD0: webpExif(ctx) })
      .webp({
        lossless: inputs.lossless as boolean,
        quality: inputs.quality as number,
        effort: WEBP_METHODS[inputs.method as string] ?? 4,
        loop: 0,
        delay: frames.map(() => frameMs(inputs.fps as number)),
      })
      .toBuffer();
    const filename = await writeCounted(target, 'webp', data);
    // ComfyUI: animated = (num_frames != 1).
    return {
      outputs: [],
      ui: {
        images: [{ filename, subfolder: target.subfolder, type: 'output' }],
        animated: [frames.length !== 1],
      },
    };
  },
};

function comfChunks(ctx: RunContext): Buffer[] {
  const entry = (key: string, value: unknown) =>
    pngChunk(
      'comf',
      Buffer.concat([
        Buffer.from(key, 'latin1'),
        Buffer.from([0]),
        Buffer.from(pyJsonDumps(value), 'latin1'),
      ]),
    );
  return [
    entry('prompt', ctx.prompt),
    ...Object.entries(ctx.extraPngInfo ?? {}).map(([k, v]) => entry(k, v)),
  ];
}

export const saveAnimatedPng: NodeDefinition = {
  ...ANIMATION,
  name: 'SaveAnimatedPNG',
  displayName: 'SaveAnimatedPNG',
  input: {
    required: {
      images: ['IMAGE'],
      filename_prefix: ['STRING', { default: 'ComfyUI' }],
      fps: FPS,
      compress_level: ['INT', { default: 4, min: 0, max: 9 }],
    },
    hidden: HIDDEN,
  },
  outputs: [],
  async run(inputs, ctx) {
    const images = inputs.images as ImageBatch;
    const { width, height, frames } = images;
    const target = await saveTarget(ctx.dirs.output, inputs.filename_prefix as string, width, height);
    const compressionLevel = inputs.compress_level as number;
    const pngs = await Promise.all(
      frames.map((f) => rawSharp(f, width, height).png({ compressionLevel, palette: false }).toBuffer()),
    );
    const data = assembleApng(pngs, width, height, frameMs(inputs.fps as number), comfChunks(ctx));
    const filename = await writeCounted(target, 'png', data);
    return {
      outputs: [],
      ui: { images: [{ filename, subfolder: target.subfolder, type: 'output' }], animated: [true] },
    };
  },
};
