/**
 * Cost of the engine's exact ComfyUI pixel maths against plain libvips (sharp) doing the nearest
 * equivalent operation on the same 1024x1024 RGB frame, measured in the same run.
 *
 *   node --conditions=flowscale-source --import tsx bench/engine-nodes.ts
 *
 * The engine's blur/scale reproduce torch's kernels exactly (and yield to the event loop every 64 rows);
 * sharp's are different filters, so the ratio is the price of matching ComfyUI's pixels.
 */
import os from 'node:os';
import sharp from 'sharp';
import { defaultLimits } from '../packages/engine/src/config/limits';
import { resolveDataDirs } from '../packages/engine/src/data/data-dir';
import { imageBlur, imageInvert } from '../packages/engine/src/nodes/core/filters';
import { imageScale } from '../packages/engine/src/nodes/core/transform';
import type { NodeDefinition, RunContext } from '../packages/engine/src/nodes/types';
import { makeImage } from '../packages/engine/src/tensor/image';

const SIZE = 1024;
const ROUNDS = 5;
const frame = Buffer.alloc(SIZE * SIZE * 3);
for (let i = 0; i < frame.length; i++) frame[i] = (i * 2654435761) >>> 24;
const image = makeImage(SIZE, SIZE, [frame]);
const ctx = {
  dirs: resolveDataDirs(os.tmpdir()),
  limits: defaultLimits,
  isInterrupted: () => false,
} as unknown as RunContext;
const raw = () => sharp(frame, { raw: { width: SIZE, height: SIZE, channels: 3 } });

async function median(fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] as number;
}

const node = (def: NodeDefinition, inputs: Record<string, unknown>) => async () =>
  def.run({ image, ...inputs }, ctx);

const cases: [string, () => Promise<unknown>, string, () => Promise<unknown>][] = [
  ['ImageInvert', node(imageInvert, {}), 'sharp negate', () => raw().negate().raw().toBuffer()],
  [
    'ImageBlur r=3 sigma=1',
    node(imageBlur, { blur_radius: 3, sigma: 1 }),
    'sharp blur sigma=3',
    () => raw().blur(3).raw().toBuffer(),
  ],
  [
    'ImageScale bilinear 2x',
    node(imageScale, { upscale_method: 'bilinear', width: SIZE * 2, height: SIZE * 2, crop: 'disabled' }),
    'sharp resize linear 2x',
    () =>
      raw()
        .resize(SIZE * 2, SIZE * 2, { kernel: 'linear' })
        .raw()
        .toBuffer(),
  ],
  [
    'ImageScale lanczos 2x',
    node(imageScale, { upscale_method: 'lanczos', width: SIZE * 2, height: SIZE * 2, crop: 'disabled' }),
    'sharp resize lanczos3 2x',
    () =>
      raw()
        .resize(SIZE * 2, SIZE * 2, { kernel: 'lanczos3' })
        .raw()
        .toBuffer(),
  ],
];

console.log(`engine node cost, ${SIZE}x${SIZE} RGB, median of ${ROUNDS}, node ${process.version}`);
for (const [name, run, baseName, baseline] of cases) {
  const ours = await median(run);
  const base = await median(baseline);
  console.log(
    `${name.padEnd(24)} ${ours.toFixed(1).padStart(7)} ms   ${baseName.padEnd(24)} ${base.toFixed(1).padStart(7)} ms   ratio ${(ours / base).toFixed(1)}x`,
  );
}
