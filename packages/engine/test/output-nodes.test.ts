import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultLimits } from '../src/config/limits';
import { resolveDataDirs } from '../src/data/data-dir';
import { imageFromBatch, repeatImageBatch } from '../src/nodes/core/batch';
import { imageQuantize } from '../src/nodes/core/quantize';
import type { RunContext } from '../src/nodes/types';
import { makeImage } from '../src/tensor/image';
import { bayerMatrix } from '../src/tensor/quantize';
import type { ImageBatch } from '../src/tensor/types';
import {
  capturedTexts,
  fixturePath,
  history,
  runPrompt,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';

const NEW_NODES = [
  'SaveAnimatedWEBP',
  'SaveAnimatedPNG',
  'ImageQuantize',
  'RepeatImageBatch',
  'ImageFromBatch',
];

/** Three 4x3 frames (red, blue, green) batched as node 3, then the output node under test. */
function threeFrames(output: Record<string, unknown>) {
  return {
    '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 3, batch_size: 1, color: 0xff0000 } },
    '2': { class_type: 'EmptyImage', inputs: { width: 4, height: 3, batch_size: 1, color: 0x0000ff } },
    '5': { class_type: 'EmptyImage', inputs: { width: 4, height: 3, batch_size: 1, color: 0x00ff00 } },
    '6': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['2', 0] } },
    '3': { class_type: 'ImageBatch', inputs: { image1: ['6', 0], image2: ['5', 0] } },
    '4': output,
  };
}

interface FileRef {
  filename: string;
  subfolder: string;
  type: string;
}

describe('new core nodes over the protocol', () => {
  let engine: TestEngine;
  let ws: WsClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    ws = await WsClient.connect(engine.url);
  });
  afterAll(async () => {
    ws?.close();
    await engine?.stop();
  });

  const view = async (ref: FileRef) => {
    const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    const res = await fetch(`${engine.url}/view?${q}`);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };

  it("describes them exactly as ComfyUI 0.3.64's /object_info does (compared as text)", async () => {
    const captured = capturedTexts(fixturePath('object_info-wave2.json'));
    for (const name of NEW_NODES) {
      const text = await (await fetch(`${engine.url}/object_info/${name}`)).text();
      expect({ name, text }).toEqual({ name, text: `{"${name}":${captured.get(name)}}` });
    }
  });

  it('SaveAnimatedWEBP writes one animated WebP (a frame per image, 1000/fps ms each) and reports animated', async () => {
    const { prompt_id } = await runPrompt(
      engine,
      ws,
      threeFrames({
        class_type: 'SaveAnimatedWEBP',
        inputs: {
          images: ['3', 0],
          filename_prefix: 'anim/aw',
          fps: 6,
          lossless: true,
          quality: 80,
          method: 'default',
        },
      }),
    );
    const out = (await history(engine, prompt_id)).outputs['4'] as { images: FileRef[]; animated: boolean[] };
    expect(out).toEqual({
      images: [{ filename: 'aw_00001_.webp', subfolder: 'anim', type: 'output' }],
      animated: [true],
    });
    const file = await view(out.images[0] as FileRef);
    const meta = await sharp(file, { animated: true }).metadata();
    expect([meta.format, meta.pages, meta.pageHeight, meta.delay]).toEqual(['webp', 3, 3, [166, 166, 166]]);
    expect(meta.exif?.toString('latin1')).toContain('prompt:{"1": {"class_type": "EmptyImage"');
    const frames = await sharp(file, { animated: true }).raw().toBuffer();
    expect([...frames.subarray(0, 3)]).toEqual([255, 0, 0]); // frame 1 red
    expect([...frames.subarray(4 * 3 * 3, 4 * 3 * 3 + 3)]).toEqual([0, 0, 255]); // frame 2 blue
  });

  it('SaveAnimatedWEBP of one image reports animated: [false] (num_frames != 1 in ComfyUI)', async () => {
    const { prompt_id } = await runPrompt(engine, ws, {
      '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0 } },
      '2': {
        class_type: 'SaveAnimatedWEBP',
        inputs: {
          images: ['1', 0],
          filename_prefix: 'one',
          fps: 6,
          lossless: false,
          quality: 80,
          method: 'fastest',
        },
      },
    });
    expect((await history(engine, prompt_id)).outputs['2']?.animated).toEqual([false]);
  });

  it('SaveAnimatedPNG writes a valid APNG whose frames decode back to the images', async () => {
    const { prompt_id } = await runPrompt(
      engine,
      ws,
      threeFrames({
        class_type: 'SaveAnimatedPNG',
        inputs: { images: ['3', 0], filename_prefix: 'ap', fps: 4, compress_level: 4 },
      }),
    );
    const out = (await history(engine, prompt_id)).outputs['4'] as { images: FileRef[]; animated: boolean[] };
    expect(out).toEqual({
      images: [{ filename: 'ap_00001_.png', subfolder: '', type: 'output' }],
      animated: [true],
    });
    const png = await view(out.images[0] as FileRef);
    const chunks = pngChunks(png);
    expect(chunks.map((c) => c.type)).toEqual([
      'IHDR',
      'acTL',
      'fcTL',
      'IDAT',
      'fcTL',
      'fdAT',
      'fcTL',
      'fdAT',
      'comf',
      'IEND',
    ]);
    const actl = chunks[1]?.data as Buffer;
    expect([actl.readUInt32BE(0), actl.readUInt32BE(4)]).toEqual([3, 0]); // 3 frames, loop forever
    const fctl = chunks[2]?.data as Buffer;
    expect([
      fctl.readUInt32BE(4),
      fctl.readUInt32BE(8),
      fctl.readUInt16BE(20),
      fctl.readUInt16BE(22),
    ]).toEqual([4, 3, 250, 1000]);
    // Sequence numbers run 0..4 across the 3 fcTL and 2 fdAT chunks, as the APNG spec requires.
    const seqs = chunks
      .filter((c) => c.type === 'fcTL' || c.type === 'fdAT')
      .map((c) => c.data.readUInt32BE(0));
    expect(seqs).toEqual([0, 1, 2, 3, 4]);
    // Each fdAT is a frame's zlib stream: filtered scanlines of 4 RGB pixels.
    const frame2 = inflateSync((chunks[5] as { data: Buffer }).data.subarray(4));
    expect(frame2.length).toBe(3 * (1 + 4 * 3));
    expect((await sharp(png).raw().toBuffer()).subarray(0, 3)).toEqual(Buffer.from([255, 0, 0]));
    expect(chunks[8]?.data.toString('latin1')).toMatch(/^prompt\0\{"1": /);
  });

  it('RepeatImageBatch and ImageFromBatch run in a prompt (6 frames, then frames 4..5 saved)', async () => {
    const { prompt_id } = await runPrompt(engine, ws, {
      ...threeFrames({ class_type: 'RepeatImageBatch', inputs: { image: ['3', 0], amount: 2 } }),
      '7': { class_type: 'ImageFromBatch', inputs: { image: ['4', 0], batch_index: 4, length: 10 } },
      '8': { class_type: 'SaveImage', inputs: { images: ['7', 0], filename_prefix: 'fb' } },
    });
    const images = (await history(engine, prompt_id)).outputs['8']?.images as FileRef[];
    expect(images).toHaveLength(2);
    const colours = await Promise.all(
      images.map(async (ref) => [
        ...(
          await sharp(await view(ref))
            .raw()
            .toBuffer()
        ).subarray(0, 3),
      ]),
    );
    expect(colours).toEqual([
      [0, 0, 255],
      [0, 255, 0],
    ]);
  });
});

function pngChunks(png: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    out.push({ type: png.toString('latin1', at + 4, at + 8), data: png.subarray(at + 8, at + 8 + length) });
    at += 12 + length;
  }
  return out;
}

// Pure node tests (run() on hand-made images).
const ctx = { dirs: resolveDataDirs('/tmp/engine-unused'), limits: defaultLimits } as unknown as RunContext;
const solid = (rgb: number[]) => Buffer.from(Array.from({ length: 4 }, () => rgb).flat());
const frameColours = (image: ImageBatch) => image.frames.map((f) => [...f.subarray(0, 3)]);

describe('batch nodes', () => {
  const batch = makeImage(2, 2, [solid([1, 1, 1]), solid([2, 2, 2])]);

  it('RepeatImageBatch repeats the whole batch (image.repeat((amount, 1, 1, 1)))', async () => {
    const [out] = (await repeatImageBatch.run({ image: batch, amount: 3 }, ctx)).outputs as [ImageBatch];
    expect(frameColours(out).map((c) => c[0])).toEqual([1, 2, 1, 2, 1, 2]);
  });

  it('ImageFromBatch clamps the index to the last frame and the length to what is left', async () => {
    const pick = async (batch_index: number, length: number) =>
      frameColours(
        (await imageFromBatch.run({ image: batch, batch_index, length }, ctx)).outputs[0] as ImageBatch,
      ).map((c) => c[0]);
    expect(await pick(0, 1)).toEqual([1]);
    expect(await pick(1, 5)).toEqual([2]);
    expect(await pick(9, 2)).toEqual([2]);
    expect(await pick(0, 4096)).toEqual([1, 2]);
  });
});

describe('ImageQuantize', () => {
  async function fixture(): Promise<ImageBatch> {
    const { data, info } = await sharp(fixturePath('pil/input-96x64.png'))
      .raw()
      .toBuffer({ resolveWithObject: true });
    return makeImage(info.width, info.height, [data]);
  }
  const distinct = (image: ImageBatch) => {
    const f = image.frames[0] as Buffer;
    const set = new Set<number>();
    for (let i = 0; i < f.length; i += 3)
      set.add(((f[i] as number) << 16) | ((f[i + 1] as number) << 8) | (f[i + 2] as number));
    return set.size;
  };
  const quantize = async (image: ImageBatch, colors: number, dither: string) =>
    (await imageQuantize.run({ image, colors, dither }, ctx)).outputs[0] as ImageBatch;

  it('reduces to at most `colors` colours with every dither mode, staying close to the original', async () => {
    const image = await fixture();
    expect(distinct(image)).toBeGreaterThan(1000);
    for (const dither of ['none', 'floyd-steinberg', 'bayer-2', 'bayer-4', 'bayer-8', 'bayer-16']) {
      const out = await quantize(image, 16, dither);
      expect({ dither, n: distinct(out) <= 16 }).toEqual({ dither, n: true });
      const src = image.frames[0] as Buffer;
      const q = out.frames[0] as Buffer;
      let se = 0;
      for (let i = 0; i < src.length; i++) se += ((src[i] as number) - (q[i] as number)) ** 2;
      expect(10 * Math.log10((255 * 255 * src.length) / se)).toBeGreaterThan(18);
    }
  });

  it('leaves an image with no more colours than the palette unchanged (no dithering)', async () => {
    const image = makeImage(2, 2, [Buffer.from([10, 20, 30, 10, 20, 30, 200, 100, 0, 5, 5, 5])]);
    expect((await quantize(image, 256, 'none')).frames[0]).toEqual(image.frames[0]);
  });

  it("uses ComfyUI's normalized Bayer matrix", () => {
    expect(bayerMatrix(1)).toEqual([
      [-0.375, 0.125],
      [0.375, -0.125],
    ]);
    expect(bayerMatrix(2)).toHaveLength(4);
  });
});
