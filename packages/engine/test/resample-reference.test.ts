import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nearestExactIndex } from '../src/tensor/resample';
import {
  fixturePath,
  getJson,
  runPrompt,
  startTestEngine,
  type TestEngine,
  upload,
  WsClient,
} from './helpers';

// The references in fixtures/pil/ were made by real Pillow 9.4.0 (Debian's python3-pil) with
// fixtures/pil/make-pil-reference.py: PIL's Image.resize(LANCZOS) is what ComfyUI's comfy.utils.lanczos
// calls for ImageScale/ImageScaleBy "lanczos".

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

async function rawPng(bytes: Buffer | string): Promise<Raw> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function psnr(a: Buffer, b: Buffer): number {
  expect(a.length).toBe(b.length);
  let se = 0;
  for (let i = 0; i < a.length; i++) se += ((a[i] as number) - (b[i] as number)) ** 2;
  return se === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10((255 * 255 * a.length) / se);
}

const pil = (name: string) => rawPng(fixturePath(`pil/${name}`));

describe('lanczos matches PIL (ComfyUI scales lanczos with PIL)', () => {
  let engine: TestEngine;
  let client: WsClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    client = await WsClient.connect(engine.url);
    const input = await readFile(fixturePath('pil/input-96x64.png'));
    const res = await upload(engine.url, { name: 'pil-input.png', data: input });
    expect(res.status).toBe(200);
  });

  afterAll(async () => {
    client?.close();
    await engine?.stop();
  });

  async function scaleThroughEngine(scaleNode: Record<string, unknown>): Promise<Raw> {
    const reply = await runPrompt(engine, client, {
      '1': { class_type: 'LoadImage', inputs: { image: 'pil-input.png' } },
      '2': scaleNode,
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'lanczos' } },
    });
    const entry = (
      await getJson<Record<string, { outputs: Record<string, { images: { filename: string }[] }> }>>(
        `${engine.url}/history/${reply.prompt_id}`,
      )
    ).body[reply.prompt_id];
    const file = entry?.outputs['3']?.images[0]?.filename;
    const res = await fetch(`${engine.url}/view?filename=${file}&type=output`);
    expect(res.status).toBe(200);
    return rawPng(Buffer.from(await res.arrayBuffer()));
  }

  it('ImageScale lanczos upscaling 96x64 -> 150x101 reaches >= 40 dB against PIL (bit-exact here)', async () => {
    const out = await scaleThroughEngine({
      class_type: 'ImageScale',
      inputs: { image: ['1', 0], upscale_method: 'lanczos', width: 150, height: 101, crop: 'disabled' },
    });
    const ref = await pil('lanczos-150x101.png');
    expect([out.width, out.height]).toEqual([150, 101]);
    const db = psnr(out.data, ref.data);
    expect(db).toBeGreaterThanOrEqual(40);
    expect(db).toBe(Number.POSITIVE_INFINITY);
  });

  it('ImageScaleBy lanczos downscaling (antialiased by the scale) matches PIL: 96x64 x0.39 -> 37x25', async () => {
    const out = await scaleThroughEngine({
      class_type: 'ImageScaleBy',
      inputs: { image: ['1', 0], upscale_method: 'lanczos', scale_by: 0.39 },
    });
    const ref = await pil('lanczos-37x25.png');
    expect([out.width, out.height]).toEqual([37, 25]);
    expect(psnr(out.data, ref.data)).toBeGreaterThanOrEqual(40);
  });

  it('ImageScale lanczos with one axis up and one down (96x64 -> 200x30) matches PIL', async () => {
    const out = await scaleThroughEngine({
      class_type: 'ImageScale',
      inputs: { image: ['1', 0], upscale_method: 'lanczos', width: 200, height: 30, crop: 'disabled' },
    });
    expect(psnr(out.data, (await pil('lanczos-200x30.png')).data)).toBeGreaterThanOrEqual(40);
  });

  it('libvips lanczos3 (the previous implementation) is far from PIL on the upscale, so the check can fail', async () => {
    const input = await pil('input-96x64.png');
    const vips = await sharp(input.data, { raw: { width: 96, height: 64, channels: 3 } })
      .resize(150, 101, { fit: 'fill', kernel: 'lanczos3' })
      .raw()
      .toBuffer();
    expect(psnr(vips, (await pil('lanczos-150x101.png')).data)).toBeLessThan(40);
  });
});

describe('nearest-exact matches torch.nn.functional.interpolate, float32 index rounding included', () => {
  // torch: floorf((dst + 0.5) * scale) with scale = float(in) / out. For 96 -> 37, column 18 is an
  // exact tie in real numbers (18.5 * 96 / 37 = 48), but float32 arithmetic lands just under 48, so
  // torch reads column 47. This list was computed with numpy float32 following that formula.
  const TORCH_96_TO_37 = [
    1, 3, 6, 9, 11, 14, 16, 19, 22, 24, 27, 29, 32, 35, 37, 40, 42, 45, 47, 50, 53, 55, 58, 60, 63, 66, 68,
    71, 73, 76, 79, 81, 84, 86, 89, 92, 94,
  ];

  it('computes the source columns for 96 -> 37 like torch (column 18 reads 47)', () => {
    expect(Array.from({ length: 37 }, (_, o) => nearestExactIndex(o, 96, 37))).toEqual(TORCH_96_TO_37);
    // Double arithmetic (the old implementation) would give 48 there.
    expect(Math.floor((18 + 0.5) * (96 / 37))).toBe(48);
  });

  it('ImageScale nearest-exact 96 -> 37 picks those columns through the engine', async () => {
    const engine = await startTestEngine();
    const client = await WsClient.connect(engine.url);
    try {
      // A 96x1 image whose red channel is the column index.
      const row = Buffer.alloc(96 * 3);
      for (let x = 0; x < 96; x++) row[x * 3] = x;
      const png = await sharp(row, { raw: { width: 96, height: 1, channels: 3 } })
        .png()
        .toBuffer();
      expect((await upload(engine.url, { name: 'columns.png', data: png })).status).toBe(200);
      const reply = await runPrompt(engine, client, {
        '1': { class_type: 'LoadImage', inputs: { image: 'columns.png' } },
        '2': {
          class_type: 'ImageScale',
          inputs: {
            image: ['1', 0],
            upscale_method: 'nearest-exact',
            width: 37,
            height: 1,
            crop: 'disabled',
          },
        },
        '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'ne' } },
      });
      const entry = (
        await getJson<Record<string, { outputs: Record<string, { images: { filename: string }[] }> }>>(
          `${engine.url}/history/${reply.prompt_id}`,
        )
      ).body[reply.prompt_id];
      const file = entry?.outputs['3']?.images[0]?.filename;
      const res = await fetch(`${engine.url}/view?filename=${file}&type=output`);
      const out = await rawPng(Buffer.from(await res.arrayBuffer()));
      expect([...out.data].filter((_, i) => i % 3 === 0)).toEqual(TORCH_96_TO_37);
    } finally {
      client.close();
      await engine.stop();
    }
  });
});
