import { createHash } from 'node:crypto';
import { makeImage } from '../../tensor/image';
import { assertPixels } from '../../tensor/limits';
import { InterruptedError, type NodeDefinition, NodeError } from '../types';

/** What the test loader outputs: a handle naming the model, in place of real weights. */
export interface TestModel {
  kind: 'MODEL' | 'CLIP' | 'VAE';
  name: string;
}

const TESTING = { category: 'testing', pythonModule: 'flowscale_engine.testing' } as const;

/**
 * CheckpointLoaderSimple's shape (a `ckpt_name` COMBO of the files in models/checkpoints, MODEL/CLIP/VAE
 * outputs and their tooltips) with a simulated load time: a model that is not warm takes the engine's
 * `modelLoadMs`, a warm one (among the last `warmModels` loaded) is instant.
 */
export const testCheckpointLoader: NodeDefinition = {
  ...TESTING,
  name: 'EngineTestCheckpointLoader',
  displayName: 'Load Checkpoint (engine test)',
  description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
  input: { required: { ckpt_name: [[], { tooltip: 'The name of the checkpoint (model) to load.' }] } },
  modelInputs: { ckpt_name: 'checkpoints' },
  outputs: ['MODEL', 'CLIP', 'VAE'],
  outputTooltips: [
    'The model used for denoising latents.',
    'The CLIP model used for encoding text prompts.',
    'The VAE model used for encoding and decoding images to and from latent space.',
  ],
  async run(inputs, ctx) {
    if (!ctx.models) throw new NodeError('The engine test nodes are disabled');
    const name = inputs.ckpt_name as string;
    await ctx.models.load(name, ctx.isInterrupted);
    const handle = (kind: TestModel['kind']): TestModel => ({ kind, name });
    return { outputs: [handle('MODEL'), handle('CLIP'), handle('VAE')] };
  },
};

function isTestModel(value: unknown): value is TestModel {
  return typeof value === 'object' && value !== null && typeof (value as TestModel).name === 'string';
}

/** A colour that depends only on the model name, so outputs show which model made them. */
function modelColour(name: string): [number, number, number] {
  const digest = createHash('sha256').update(name).digest();
  return [digest[0] as number, digest[1] as number, digest[2] as number];
}

/** Stands in for sampling: waits `seconds` (interruptible) and returns an image in the model's colour. */
export const testRender: NodeDefinition = {
  ...TESTING,
  name: 'EngineTestRender',
  displayName: 'Render With Model (engine test)',
  input: {
    required: {
      model: ['MODEL', {}],
      width: ['INT', { default: 64, min: 1, max: 4096, step: 1 }],
      height: ['INT', { default: 64, min: 1, max: 4096, step: 1 }],
      seconds: ['FLOAT', { default: 0.2, min: 0.0, max: 3600.0, step: 0.01 }],
    },
  },
  outputs: ['IMAGE'],
  async run(inputs, ctx) {
    const model = inputs.model;
    if (!isTestModel(model)) throw new NodeError('Input "model" must come from a checkpoint loader');
    const width = inputs.width as number;
    const height = inputs.height as number;
    assertPixels(ctx.limits, width, height, 1);
    const until = Date.now() + (inputs.seconds as number) * 1000;
    while (Date.now() < until) {
      if (ctx.isInterrupted()) throw new InterruptedError('Processing interrupted');
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, until - Date.now())));
    }
    const [r, g, b] = modelColour(model.name);
    const frame = Buffer.alloc(width * height * 3);
    for (let i = 0; i < frame.length; i += 3) {
      frame[i] = r;
      frame[i + 1] = g;
      frame[i + 2] = b;
    }
    return { outputs: [makeImage(width, height, [frame])] };
  },
};
