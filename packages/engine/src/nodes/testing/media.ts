import { rawSharp } from '../../tensor/image';
import type { ImageBatch } from '../../tensor/types';
import { saveTarget, writeCounted } from '../shared/save-path';
import type { NodeDefinition } from '../types';
import { mjpegAvi, pcmWav } from './containers';

const TESTING = { category: 'testing', pythonModule: 'flowscale_engine.testing', outputNode: true } as const;
const HIDDEN = { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' };

/**
 * Writes the images as a Motion-JPEG AVI and reports it the way ComfyUI's SaveVideo does:
 * `{"images": [{filename, subfolder, type: "output"}], "animated": [true]}`.
 */
export const testSaveVideo: NodeDefinition = {
  ...TESTING,
  name: 'EngineTestSaveVideo',
  displayName: 'Save Video (engine test, MJPEG AVI)',
  input: {
    required: {
      images: ['IMAGE', {}],
      filename_prefix: ['STRING', { default: 'video/ComfyUI' }],
      fps: ['FLOAT', { default: 8.0, min: 1.0, max: 120.0, step: 1.0 }],
    },
    hidden: HIDDEN,
  },
  outputs: [],
  async run(inputs, ctx) {
    const images = inputs.images as ImageBatch;
    const jpegs = await Promise.all(
      images.frames.map((f) => rawSharp(f, images.width, images.height).jpeg({ quality: 85 }).toBuffer()),
    );
    const avi = mjpegAvi(jpegs, images.width, images.height, inputs.fps as number);
    const target = await saveTarget(
      ctx.dirs.output,
      inputs.filename_prefix as string,
      images.width,
      images.height,
    );
    const filename = await writeCounted(target, 'avi', avi);
    return {
      outputs: [],
      ui: { images: [{ filename, subfolder: target.subfolder, type: 'output' }], animated: [true] },
    };
  },
};

/** Writes a sine tone as a WAV file and reports it the way ComfyUI's SaveAudio does: `{"audio": [...]}`. */
export const testSaveAudio: NodeDefinition = {
  ...TESTING,
  name: 'EngineTestSaveAudio',
  displayName: 'Save Audio (engine test, WAV tone)',
  input: {
    required: {
      filename_prefix: ['STRING', { default: 'audio/ComfyUI' }],
      seconds: ['FLOAT', { default: 0.5, min: 0.01, max: 60.0, step: 0.01 }],
      frequency: ['FLOAT', { default: 440.0, min: 20.0, max: 20000.0, step: 1.0 }],
    },
    optional: { trigger: ['*', {}] },
    hidden: HIDDEN,
  },
  outputs: [],
  async run(inputs, ctx) {
    const rate = 16_000;
    const samples = new Float32Array(Math.max(1, Math.round((inputs.seconds as number) * rate)));
    const step = (2 * Math.PI * (inputs.frequency as number)) / rate;
    for (let i = 0; i < samples.length; i++) samples[i] = 0.5 * Math.sin(i * step);
    const target = await saveTarget(ctx.dirs.output, inputs.filename_prefix as string);
    const filename = await writeCounted(target, 'wav', pcmWav(samples, rate));
    return { outputs: [], ui: { audio: [{ filename, subfolder: target.subfolder, type: 'output' }] } };
  },
};

/**
 * An output node of a kind no fixed list knows: it writes its text to a .txt file and reports it under
 * a key of its own (`files`) plus the text, like many custom nodes do.
 */
export const testCustomOutput: NodeDefinition = {
  ...TESTING,
  name: 'EngineTestCustomOutput',
  displayName: 'Custom Output (engine test)',
  input: {
    required: {
      text: ['STRING', { default: 'hello', multiline: true }],
      filename_prefix: ['STRING', { default: 'custom/ComfyUI' }],
    },
  },
  outputs: [],
  async run(inputs, ctx) {
    const text = inputs.text as string;
    const target = await saveTarget(ctx.dirs.output, inputs.filename_prefix as string);
    const filename = await writeCounted(target, 'txt', text);
    return {
      outputs: [],
      ui: { files: [{ filename, subfolder: target.subfolder, type: 'output' }], text: [text] },
    };
  },
};
