import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLimits } from '../src/config/limits';
import { resolveDataDirs } from '../src/data/data-dir';
import { imageBlend, imageCompositeMasked } from '../src/nodes/core/blend';
import { imageBlur, imageInvert, imageSharpen } from '../src/nodes/core/filters';
import { emptyImage, loadImage } from '../src/nodes/core/image-io';
import {
  getImageSize,
  imageToMask,
  invertMask,
  loadImageMask,
  maskToImage,
  solidMask,
} from '../src/nodes/core/mask';
import { previewAny } from '../src/nodes/core/preview-any';
import { stringConcatenate, stringReplace } from '../src/nodes/core/text';
import {
  imageBatch,
  imageCrop,
  imageFlip,
  imagePadForOutpaint,
  imageRotate,
  imageScale,
  imageScaleBy,
} from '../src/nodes/core/transform';
import type { NodeDefinition, RunContext } from '../src/nodes/types';
import { makeImage, makeMask } from '../src/tensor/image';
import type { ImageBatch, MaskBatch } from '../src/tensor/types';

// Pure pixel tests: each node's run() on small hand-made images, expected values worked out from
// ComfyUI's formulas (not from this implementation).

let dataDir: string;
const texts: string[] = [];
const ctx = (): RunContext => ({
  dirs: resolveDataDirs(dataDir),
  limits: defaultLimits,
  promptId: 'p',
  nodeId: '1',
  prompt: {},
  extraPngInfo: undefined,
  isInterrupted: () => false,
  progress: () => {},
  progressText: (t) => {
    texts.push(t);
  },
  previewSuffix: () => 'abcde',
  inputTypes: {},
});

async function run(def: NodeDefinition, inputs: Record<string, unknown>): Promise<unknown[]> {
  return (await def.run(inputs, ctx())).outputs;
}

/** An RGB image from rows of [r, g, b] triples. */
function img(rows: number[][][]): ImageBatch {
  const h = rows.length;
  const w = rows[0]?.length ?? 0;
  return makeImage(w, h, [Buffer.from(rows.flat(2))]);
}

/** A grey image from rows of single values. */
const grey = (rows: number[][]) => img(rows.map((r) => r.map((v) => [v, v, v])));

/** Channel 0 of every pixel, row-major. */
const reds = (image: unknown) => {
  const i = image as ImageBatch;
  return [...(i.frames[0] as Buffer)].filter((_, k) => k % 3 === 0);
};

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'engine-nodes-'));
  await mkdir(path.join(dataDir, 'input'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('image sources', () => {
  it('EmptyImage fills width x height x batch with the 0xRRGGBB colour', async () => {
    const [out] = (await run(emptyImage, { width: 3, height: 2, batch_size: 2, color: 0xff8001 })) as [
      ImageBatch,
    ];
    expect([out.width, out.height, out.frames.length]).toEqual([3, 2, 2]);
    expect([...(out.frames[1] as Buffer).subarray(0, 6)]).toEqual([255, 128, 1, 255, 128, 1]);
  });

  it('LoadImage gives RGB plus mask = 1 - alpha, or a 64x64 zero mask without alpha', async () => {
    const input = path.join(dataDir, 'input');
    await sharp({
      create: { width: 2, height: 1, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.2 } },
    })
      .png()
      .toFile(path.join(input, 'alpha.png'));
    await sharp({ create: { width: 2, height: 1, channels: 3, background: { r: 1, g: 2, b: 3 } } })
      .png()
      .toFile(path.join(input, 'solid.png'));
    const [image, mask] = (await run(loadImage, { image: 'alpha.png' })) as [ImageBatch, MaskBatch];
    expect([...(image.frames[0] as Buffer)]).toEqual([10, 20, 30, 10, 20, 30]);
    expect(mask.frames[0]?.[0]).toBeCloseTo(1 - 51 / 255, 5);
    const [, noAlpha] = (await run(loadImage, { image: 'solid.png' })) as [ImageBatch, MaskBatch];
    expect([noAlpha.width, noAlpha.height, Math.max(...(noAlpha.frames[0] as Float32Array))]).toEqual([
      64, 64, 0,
    ]);
    const twoFrames = Buffer.alloc(2 * 2 * 2 * 3);
    for (let i = 0; i < 4; i++) twoFrames[i * 3] = 255;
    for (let i = 4; i < 8; i++) twoFrames[i * 3 + 2] = 255;
    const raw = { width: 2, height: 4, channels: 3 as const, pageHeight: 2 };
    await sharp(twoFrames, { raw }).gif().toFile(path.join(input, 'anim.gif'));
    const [anim] = (await run(loadImage, { image: 'anim.gif' })) as [ImageBatch];
    expect([anim.width, anim.height, anim.frames.length]).toEqual([2, 2, 2]);
    expect([
      ...(anim.frames[0] as Buffer).subarray(0, 3),
      ...(anim.frames[1] as Buffer).subarray(0, 3),
    ]).toEqual([255, 0, 0, 0, 0, 255]);
    const [red] = (await run(loadImageMask, { image: 'solid.png', channel: 'blue' })) as [MaskBatch];
    expect(red.frames[0]?.[0]).toBeCloseTo(3 / 255, 5);
  });
});

describe('filters', () => {
  it('ImageInvert is 255 - x', async () => {
    const [out] = await run(imageInvert, { image: img([[[0, 100, 255]]]) });
    expect([...((out as ImageBatch).frames[0] as Buffer)]).toEqual([255, 155, 0]);
  });

  it("ImageBlur uses ComfyUI's kernel (sigma relative to the radius) with reflected borders", async () => {
    // k = [e^-0.5, 1, e^-0.5] / sum = [0.2741, 0.4519, 0.2741]; a 1-pixel-high image reflects onto itself.
    const [out] = await run(imageBlur, { image: grey([[0, 0, 255, 0, 0]]), blur_radius: 1, sigma: 1 });
    expect(reds(out)).toEqual([0, 70, 115, 70, 0]);
  });

  it('ImageBlur reflects at the borders in 2-D (zero padding would give 19 in the corners)', async () => {
    const [out] = await run(imageBlur, {
      image: grey([
        [0, 0, 0],
        [0, 255, 0],
        [0, 0, 0],
      ]),
      blur_radius: 1,
      sigma: 1,
    });
    // corner: (2·0.2741)² · 255 = 76.6; edge: 0.4519 · 0.5482 · 255 = 63.2; centre: 0.4519² · 255 = 52.1
    expect(reds(out)).toEqual([77, 63, 77, 63, 52, 63, 77, 63, 77]);
  });

  it('ImageSharpen is x + 10·alpha·(x - blur(x)), clamped', async () => {
    const [out] = await run(imageSharpen, {
      image: grey([[100, 100, 200, 100, 100]]),
      sharpen_radius: 1,
      sigma: 1,
      alpha: 0.1,
    });
    expect(reds(out)).toEqual([100, 73, 255, 73, 100]);
  });
});

describe('transforms', () => {
  it('ImageScale matches torch interpolate for nearest-exact, bilinear and area', async () => {
    const line = grey([[0, 255]]);
    const scale = async (method: string, image: ImageBatch, width: number, height: number) =>
      (
        await run(imageScale, { image, upscale_method: method, width, height, crop: 'disabled' })
      )[0] as ImageBatch;
    expect(reds(await scale('bilinear', line, 4, 1))).toEqual([0, 64, 191, 255]);
    expect(reds(await scale('nearest-exact', line, 4, 1))).toEqual([0, 0, 255, 255]);
    expect(reds(await scale('area', grey([[0, 100, 200, 255]]), 2, 1))).toEqual([50, 228]);
    // torch bicubic (A = -0.75) gives [-0.105, 0.227, 0.773, 1.105] for [0, 1]; clamped to 8 bits:
    expect(reds(await scale('bicubic', line, 4, 1))).toEqual([0, 58, 197, 255]);
    for (const method of ['bicubic', 'lanczos']) {
      const out = await scale(
        method,
        grey([
          [0, 255],
          [255, 0],
        ]),
        5,
        3,
      );
      expect([out.width, out.height]).toEqual([5, 3]);
    }
    const keepAspect = await scale('bilinear', grey([[1, 2, 3, 4]]), 0, 2);
    expect([keepAspect.width, keepAspect.height]).toEqual([8, 2]);
  });

  it('ImageScale crop=center keeps the middle; ImageScaleBy rounds like Python', async () => {
    const [out] = await run(imageScale, {
      image: grey([[10, 20, 30, 40]]),
      upscale_method: 'nearest-exact',
      width: 2,
      height: 1,
      crop: 'center',
    });
    expect(reds(out)).toEqual([20, 30]);
    const [half] = (await run(imageScaleBy, {
      image: grey([[1, 2, 3, 4, 5]]),
      upscale_method: 'area',
      scale_by: 0.5,
    })) as [ImageBatch];
    expect(half.width).toBe(2); // round(2.5) = 2 in Python
  });

  it('ImageCrop clamps the window to the image', async () => {
    const [out] = (await run(imageCrop, {
      image: grey([
        [1, 2, 3],
        [4, 5, 6],
      ]),
      width: 5,
      height: 5,
      x: 1,
      y: 1,
    })) as [ImageBatch];
    expect([out.width, out.height, ...reds(out)]).toEqual([2, 1, 5, 6]);
  });

  it('ImageFlip and ImageRotate (90 degrees is clockwise, like torch.rot90 on dims [2, 1])', async () => {
    const src = grey([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(reds((await run(imageFlip, { image: src, flip_method: 'x-axis: vertically' }))[0])).toEqual([
      4, 5, 6, 1, 2, 3,
    ]);
    expect(reds((await run(imageFlip, { image: src, flip_method: 'y-axis: horizontally' }))[0])).toEqual([
      3, 2, 1, 6, 5, 4,
    ]);
    const [cw] = (await run(imageRotate, { image: src, rotation: '90 degrees' })) as [ImageBatch];
    expect([cw.width, cw.height, ...reds(cw)]).toEqual([2, 3, 4, 1, 5, 2, 6, 3]);
    expect(reds((await run(imageRotate, { image: src, rotation: '180 degrees' }))[0])).toEqual([
      6, 5, 4, 3, 2, 1,
    ]);
    expect(reds((await run(imageRotate, { image: src, rotation: '270 degrees' }))[0])).toEqual([
      3, 6, 2, 5, 1, 4,
    ]);
  });

  it('ImagePadForOutpaint adds a grey border and a feathered mask', async () => {
    const src = grey(Array.from({ length: 10 }, () => Array(10).fill(255)));
    const [image, mask] = (await run(imagePadForOutpaint, {
      image: src,
      left: 2,
      top: 0,
      right: 0,
      bottom: 0,
      feathering: 4,
    })) as [ImageBatch, MaskBatch];
    expect([image.width, image.height]).toEqual([12, 10]);
    expect(reds(image).slice(0, 3)).toEqual([128, 128, 255]);
    const row = [...(mask.frames[0] as Float32Array).subarray(0, 12)];
    expect(row[0]).toBe(1);
    expect(row[2]).toBe(1); // d = 0 at the padded edge: ((4 - 0) / 4)^2
    expect(row[3]).toBeCloseTo(0.5625, 5); // d = 1: (3/4)^2
    expect(row[7]).toBe(0);
  });

  it('ImageBatch resizes the second image to the first and concatenates', async () => {
    const [out] = (await run(imageBatch, { image1: grey([[1, 2]]), image2: grey([[9]]) })) as [ImageBatch];
    expect([out.width, out.height, out.frames.length]).toEqual([2, 1, 2]);
    expect([...(out.frames[1] as Buffer)].filter((_, k) => k % 3 === 0)).toEqual([9, 9]);
  });
});

describe('blending and compositing', () => {
  const a = grey([[0, 64, 128, 255]]);
  const b = grey([[255, 128, 128, 128]]);
  const blend = async (mode: string, factor: number) =>
    reds((await run(imageBlend, { image1: a, image2: b, blend_factor: factor, blend_mode: mode }))[0]);

  it("ImageBlend modes follow ComfyUI's formulas on 0..1 values", async () => {
    expect(await blend('normal', 0.5)).toEqual([128, 96, 128, 192]);
    expect(await blend('multiply', 1)).toEqual([0, 32, 64, 128]);
    expect(await blend('screen', 1)).toEqual([255, 160, 192, 255]);
    expect(await blend('difference', 1)).toEqual([0, 0, 0, 127]);
    expect(await blend('overlay', 1)).toEqual([0, 64, 128, 255]);
  });

  it('ImageCompositeMasked pastes the source at (x, y), weighted by the mask', async () => {
    const dest = grey([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    const [plain] = await run(imageCompositeMasked, {
      destination: dest,
      source: grey([[200, 200]]),
      x: 2,
      y: 1,
      resize_source: false,
    });
    expect(reds(plain)).toEqual([0, 0, 0, 0, 0, 200]);
    const half = makeMask(1, 1, [Float32Array.of(0.5)]);
    const [masked] = await run(imageCompositeMasked, {
      destination: dest,
      source: grey([[200]]),
      x: 0,
      y: 0,
      resize_source: false,
      mask: half,
    });
    expect(reds(masked)[0]).toBe(100);
  });
});

describe('masks and info', () => {
  it('SolidMask, InvertMask, MaskToImage and ImageToMask', async () => {
    const [solid] = (await run(solidMask, { value: 0.25, width: 2, height: 3 })) as [MaskBatch];
    expect([solid.width, solid.height, solid.frames[0]?.[5]]).toEqual([2, 3, 0.25]);
    const [inverted] = (await run(invertMask, { mask: solid })) as [MaskBatch];
    expect(inverted.frames[0]?.[0]).toBe(0.75);
    const [asImage] = await run(maskToImage, { mask: inverted });
    expect(reds(asImage)[0]).toBe(191);
    const [green] = (await run(imageToMask, { image: img([[[0, 51, 0]]]), channel: 'green' })) as [MaskBatch];
    expect(green.frames[0]?.[0]).toBeCloseTo(0.2, 5);
    await expect(run(imageToMask, { image: img([[[0, 0, 0]]]), channel: 'alpha' })).rejects.toThrow(/alpha/);
  });

  it('GetImageSize returns width, height, batch and reports them as progress text', async () => {
    const out = await run(getImageSize, { image: makeImage(3, 2, [Buffer.alloc(18), Buffer.alloc(18)]) });
    expect(out).toEqual([3, 2, 2]);
    expect(texts.at(-1)).toBe('width: 3, height: 2\n batch size: 2');
  });
});

describe('text', () => {
  it('StringConcatenate, StringReplace (all occurrences) and PreviewAny', async () => {
    expect(await run(stringConcatenate, { string_a: 'a', string_b: 'b', delimiter: '-' })).toEqual(['a-b']);
    expect(await run(stringReplace, { string: 'a.b.c', find: '.', replace: '/' })).toEqual(['a/b/c']);
    const preview = (source: unknown) =>
      previewAny.run({ source }, ctx()) as unknown as { ui: { text: string[] } };
    expect(preview('hi').ui.text).toEqual(['hi']);
    expect(preview(true).ui.text).toEqual(['True']);
    expect(preview(42).ui.text).toEqual(['42']);
    expect(preview({ a: [1] }).ui.text).toEqual(['{"a": [1]}']);
    const float = (v: number) =>
      previewAny.run({ source: v }, { ...ctx(), inputTypes: { source: 'FLOAT' } }) as unknown as {
        ui: { text: string[] };
      };
    expect([2, 0.1, 1e-5, 1.5e16, -0.5].map((v) => float(v).ui.text[0])).toEqual([
      '2.0',
      '0.1',
      '1e-05',
      '1.5e+16',
      '-0.5',
    ]);
  });
});
