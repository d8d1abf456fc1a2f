import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { history, runPrompt, startTestEngine, type TestEngine, WsClient } from './helpers';

const WORKFLOWS = path.join(import.meta.dirname, '../../server/workflows');
const load = (name: string) => JSON.parse(readFileSync(path.join(WORKFLOWS, `${name}.json`), 'utf8'));

interface SavedFile {
  filename: string;
  subfolder: string;
  type: string;
}

describe('the shipped example workflows (packages/server/workflows) run on the engine', () => {
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

  const pixels = async (file: SavedFile) => {
    const res = await fetch(
      `${engine.url}/view?filename=${file.filename}&subfolder=${file.subfolder}&type=${file.type}`,
    );
    expect(res.status).toBe(200);
    return sharp(Buffer.from(await res.arrayBuffer()))
      .raw()
      .toBuffer({ resolveWithObject: true });
  };

  it('text-echo saves the input plus " from FlowScale" as a text file', async () => {
    const { prompt_id } = await runPrompt(engine, ws, load('text-echo'));
    const out = (await history(engine, prompt_id)).outputs['3'] as { text: string[]; files: SavedFile[] };
    expect(out.text).toEqual(['hello from FlowScale']);
    expect(out.files).toEqual([{ filename: 'FlowScale_00001_.txt', subfolder: '', type: 'output' }]);
    const res = await fetch(`${engine.url}/view?filename=FlowScale_00001_.txt`);
    expect(await res.text()).toBe('hello from FlowScale');
  });

  it('solid-color saves a red square of the requested size', async () => {
    const prompt = load('solid-color');
    prompt['1'].inputs.default_value = 48;
    const { prompt_id } = await runPrompt(engine, ws, prompt);
    const [file] = (await history(engine, prompt_id)).outputs['3']!.images as SavedFile[];
    const { data, info } = await pixels(file as SavedFile);
    expect([info.width, info.height]).toEqual([48, 48]);
    expect([...data.subarray(0, 3)]).toEqual([255, 0, 0]);
  });

  it('invert-image inverts the uploaded image (here the shipped example.png)', async () => {
    const prompt = load('invert-image');
    prompt['1'].inputs.image = 'example.png';
    const { prompt_id } = await runPrompt(engine, ws, prompt);
    const [file] = (await history(engine, prompt_id)).outputs['3']!.images as SavedFile[];
    const inverted = await pixels(file as SavedFile);
    const original = await pixels({ filename: 'example.png', subfolder: '', type: 'input' });
    expect(inverted.data.length).toBe(original.data.length);
    for (const i of [0, 1, 2, 500, 4000]) expect(inverted.data[i]).toBe(255 - (original.data[i] as number));
  });

  it('blur-image blurs example.png (same size, smoothed checkerboard)', async () => {
    const { prompt_id } = await runPrompt(engine, ws, load('blur-image'));
    const [file] = (await history(engine, prompt_id)).outputs['4']!.images as SavedFile[];
    const blurred = await pixels(file as SavedFile);
    const original = await pixels({ filename: 'example.png', subfolder: '', type: 'input' });
    expect([blurred.info.width, blurred.info.height]).toEqual([original.info.width, original.info.height]);
    expect(blurred.data.equals(original.data)).toBe(false);
  });

  it('slow-delay waits, reporting progress, and saves the text', async () => {
    const prompt = load('slow-delay');
    prompt['4'].inputs.value = 0.3;
    const started = Date.now();
    const { prompt_id } = await runPrompt(engine, ws, prompt);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const progress = ws.events.filter((m) => m.type === 'progress' && m.data.prompt_id === prompt_id);
    expect(progress.map((m) => [m.data.value, m.data.max, m.data.node])).toEqual([
      [1, 3, '2'],
      [2, 3, '2'],
      [3, 3, '2'],
    ]);
    expect((await history(engine, prompt_id)).outputs['3']).toMatchObject({ text: ['done'] });
  });
});
