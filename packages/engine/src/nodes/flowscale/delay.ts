import { InterruptedError, type NodeDefinition } from '../types';

const STEPS_PER_SECOND = 10;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits `seconds`, reporting progress in steps of at most 100 ms and checking for interrupt between
 * steps, so cancel and progress can be tested for real. It always runs (never served from cache).
 */
export const fsDelay: NodeDefinition = {
  name: 'FSDelay',
  displayName: '[FS] Delay',
  description: 'Waits the given number of seconds, then passes its value through.',
  category: 'FlowScale/IO',
  pythonModule: 'custom_nodes.flowscale-nodes',
  input: {
    required: { seconds: ['FLOAT', { default: 1.0, min: 0, max: 3600, step: 0.1 }] },
    optional: { value: ['*', {}] },
  },
  outputs: ['*'],
  fingerprint: () => null,
  async run(inputs, ctx) {
    const seconds = Number(inputs.seconds ?? 0);
    const steps = Math.ceil(seconds * STEPS_PER_SECOND);
    const started = Date.now();
    for (let step = 1; step <= steps; step++) {
      if (ctx.isInterrupted()) throw new InterruptedError('Processing interrupted');
      const due = started + (seconds * 1000 * step) / steps;
      await sleep(Math.max(0, due - Date.now()));
      ctx.progress(step, steps);
    }
    if (ctx.isInterrupted()) throw new InterruptedError('Processing interrupted');
    return { outputs: [inputs.value] };
  },
};
