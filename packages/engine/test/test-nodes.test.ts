import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveFeatures } from '../src/config/features';
import {
  fixturePath,
  getJson,
  history,
  postJson,
  runPrompt,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';

interface FileRef {
  filename: string;
  subfolder: string;
  type: string;
}

interface Stats {
  engine: { loaded_models: string[]; model_loads: number };
}

const captured = async () =>
  JSON.parse(
    await (await import('node:fs/promises')).readFile(fixturePath('object_info-wave2.json'), 'utf8'),
  ) as Record<string, Record<string, unknown>>;

/** The parts of a node description that make up its shape (not its name, category or module). */
function shape(info: Record<string, unknown>) {
  const { name: _n, display_name: _d, category: _c, python_module: _p, description: _s, ...rest } = info;
  return { keys: Object.keys(info), ...rest };
}

describe('the test checkpoint loader', () => {
  let engine: TestEngine;
  let ws: WsClient;

  beforeAll(async () => {
    engine = await startTestEngine({ modelLoadMs: 300, warmModels: 2 });
    ws = await WsClient.connect(engine.url);
  });
  afterAll(async () => {
    ws?.close();
    await engine?.stop();
  });

  const info = async () =>
    (
      await getJson<Record<string, Record<string, unknown>>>(
        `${engine.url}/object_info/EngineTestCheckpointLoader`,
      )
    ).body.EngineTestCheckpointLoader as Record<string, unknown>;

  it("has CheckpointLoaderSimple's /object_info shape, with an empty list while models/checkpoints is empty", async () => {
    const mine = await info();
    expect(shape(mine)).toEqual(shape((await captured()).CheckpointLoaderSimple as Record<string, unknown>));
    expect(mine.category).toBe('testing');
  });

  it('lists the files of models/checkpoints in ckpt_name and in /models/checkpoints', async () => {
    const dir = path.join(engine.dataDir, 'models', 'checkpoints');
    await mkdir(path.join(dir, 'sdxl'), { recursive: true });
    for (const name of ['a.safetensors', 'b.safetensors', 'c.ckpt', 'sdxl/d.safetensors', 'readme.md'])
      await writeFile(path.join(dir, name), 'weights');
    const files = ['a.safetensors', 'b.safetensors', 'c.ckpt', 'sdxl/d.safetensors'];
    const mine = (await info()) as { input: { required: { ckpt_name: unknown } } };
    expect(mine.input.required.ckpt_name).toEqual([
      files,
      { tooltip: 'The name of the checkpoint (model) to load.' },
    ]);
    expect((await getJson(`${engine.url}/models/checkpoints`)).body).toEqual(files);
  });

  const render = (ckpt: string) => ({
    '1': { class_type: 'EngineTestCheckpointLoader', inputs: { ckpt_name: ckpt } },
    '2': { class_type: 'EngineTestRender', inputs: { model: ['1', 0], width: 8, height: 8, seconds: 0 } },
    '3': { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
  });
  const stats = async () => (await getJson<Stats>(`${engine.url}/system_stats`)).body.engine;

  it('takes the load time for a cold model, none for a warm one, and keeps the last two warm', async () => {
    const started = Date.now();
    await runPrompt(engine, ws, render('a.safetensors'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(300); // a cold load really waits
    expect(await stats()).toMatchObject({ loaded_models: ['a.safetensors'], model_loads: 1 });
    await runPrompt(engine, ws, render('b.safetensors'));
    expect(await stats()).toMatchObject({
      loaded_models: ['a.safetensors', 'b.safetensors'],
      model_loads: 2,
    });
    // The loader runs again (classic cache: "a" was not in the previous prompt) but "a" is warm.
    const warm = await runPrompt(engine, ws, render('a.safetensors'));
    const executing = ws.events.filter((m) => m.type === 'executing' && m.data.prompt_id === warm.prompt_id);
    expect(executing.map((m) => m.data.node)).toContain('1');
    expect(await stats()).toMatchObject({
      loaded_models: ['b.safetensors', 'a.safetensors'],
      model_loads: 2,
    });
    await runPrompt(engine, ws, render('c.ckpt'));
    expect(await stats()).toMatchObject({ loaded_models: ['a.safetensors', 'c.ckpt'], model_loads: 3 });
    await runPrompt(engine, ws, render('b.safetensors')); // evicted, so cold again
    expect(await stats()).toMatchObject({ loaded_models: ['c.ckpt', 'b.safetensors'], model_loads: 4 });
  });

  it('renders in a colour of the model, and refuses a file that is not there (value_not_in_list)', async () => {
    const { prompt_id } = await runPrompt(engine, ws, render('sdxl/d.safetensors'));
    expect((await history(engine, prompt_id)).outputs['3']?.images).toHaveLength(1);
    const bad = await postJson<{
      node_errors: Record<string, { errors: { type: string; details: string }[] }>;
    }>(`${engine.url}/prompt`, { prompt: render('missing.safetensors') });
    expect(bad.status).toBe(400);
    expect(bad.body.node_errors['1']?.errors[0]).toMatchObject({
      type: 'value_not_in_list',
      details: expect.stringContaining("ckpt_name: 'missing.safetensors' not in ['a.safetensors'"),
    });
  });
});

describe('test output nodes', () => {
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
    return { type: res.headers.get('content-type'), data: Buffer.from(await res.arrayBuffer()) };
  };

  it("writes a real MJPEG AVI under SaveVideo's history keys (images + animated)", async () => {
    const { prompt_id } = await runPrompt(engine, ws, {
      '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 8, batch_size: 3, color: 0x336699 } },
      '2': {
        class_type: 'EngineTestSaveVideo',
        inputs: { images: ['1', 0], filename_prefix: 'video/vid', fps: 8 },
      },
    });
    const out = (await history(engine, prompt_id)).outputs['2'] as { images: FileRef[]; animated: boolean[] };
    expect(out).toEqual({
      images: [{ filename: 'vid_00001_.avi', subfolder: 'video', type: 'output' }],
      animated: [true],
    });
    const { type, data } = await view(out.images[0] as FileRef);
    expect(type).toBe('video/x-msvideo');
    expect([data.toString('latin1', 0, 4), data.readUInt32LE(4) + 8, data.toString('latin1', 8, 12)]).toEqual(
      ['RIFF', data.length, 'AVI '],
    );
    // avih: 125000 µs per frame, 3 frames, 16x8.
    const avih = data.indexOf('avih') + 8;
    expect([
      data.readUInt32LE(avih),
      data.readUInt32LE(avih + 16),
      data.readUInt32LE(avih + 32),
      data.readUInt32LE(avih + 36),
    ]).toEqual([125000, 3, 16, 8]);
    expect(data.toString('latin1', data.indexOf('strh') + 8, data.indexOf('strh') + 16)).toBe('vidsMJPG');
    // Every 00dc chunk is a JPEG of the frame; idx1 points at them.
    const frames: Buffer[] = [];
    for (let at = data.indexOf('00dc'); at >= 0 && frames.length < 3; at = data.indexOf('00dc', at + 8)) {
      const size = data.readUInt32LE(at + 4);
      frames.push(data.subarray(at + 8, at + 8 + size));
      at += size;
    }
    expect(frames).toHaveLength(3);
    for (const jpeg of frames) {
      const meta = await sharp(jpeg).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 16, 8]);
    }
    expect(data.indexOf('idx1')).toBeGreaterThan(0);
  });

  it("writes a real WAV under SaveAudio's history key (audio)", async () => {
    const { prompt_id } = await runPrompt(engine, ws, {
      '1': {
        class_type: 'EngineTestSaveAudio',
        inputs: { filename_prefix: 'audio/tone', seconds: 0.25, frequency: 440 },
      },
    });
    const out = (await history(engine, prompt_id)).outputs['1'];
    expect(out).toEqual({ audio: [{ filename: 'tone_00001_.wav', subfolder: 'audio', type: 'output' }] });
    const { type, data } = await view((out as { audio: FileRef[] }).audio[0] as FileRef);
    expect(type).toBe('audio/x-wav');
    expect([data.toString('latin1', 0, 4), data.toString('latin1', 8, 16)]).toEqual(['RIFF', 'WAVEfmt ']);
    expect([
      data.readUInt16LE(20),
      data.readUInt16LE(22),
      data.readUInt32LE(24),
      data.readUInt16LE(34),
    ]).toEqual([1, 1, 16000, 16]);
    expect(data.toString('latin1', 36, 40)).toBe('data');
    expect(data.readUInt32LE(40)).toBe(4000 * 2); // 0.25 s of 16-bit mono at 16 kHz
    const peak = Math.max(...Array.from({ length: 4000 }, (_, i) => Math.abs(data.readInt16LE(44 + i * 2))));
    expect(peak).toBeGreaterThan(16000); // a real tone at half scale, not silence
  });

  it('has a custom output node (output_node: true) whose file and text land in the history', async () => {
    const info = (
      await getJson<Record<string, { output_node: boolean; category: string }>>(
        `${engine.url}/object_info/EngineTestCustomOutput`,
      )
    ).body.EngineTestCustomOutput;
    expect(info).toMatchObject({ output_node: true, category: 'testing' });
    const { prompt_id } = await runPrompt(engine, ws, {
      '1': { class_type: 'EngineTestCustomOutput', inputs: { text: 'custom!', filename_prefix: 'c/out' } },
    });
    const out = (await history(engine, prompt_id)).outputs['1'];
    expect(out).toEqual({
      files: [{ filename: 'out_00001_.txt', subfolder: 'c', type: 'output' }],
      text: ['custom!'],
    });
    expect((await view((out as { files: FileRef[] }).files[0] as FileRef)).data.toString()).toBe('custom!');
  });
});

describe('engine options', () => {
  it('hideFlowscaleNodes leaves the FS nodes out of /object_info and refuses them like unknown nodes', async () => {
    const engine = await startTestEngine({ hideFlowscaleNodes: true });
    try {
      const info = (await getJson<Record<string, unknown>>(`${engine.url}/object_info`)).body;
      expect(Object.keys(info).filter((n) => n.startsWith('FS'))).toEqual([]);
      expect(info.SaveImage).toBeDefined();
      const res = await postJson<{ error: { type: string; message: string } }>(`${engine.url}/prompt`, {
        prompt: {
          '1': { class_type: 'FSLoadText', inputs: { key: 'k', default_value: 'x' } },
          '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({
        type: 'invalid_prompt',
        message: 'Cannot execute because node FSLoadText does not exist.',
      });
    } finally {
      await engine.stop();
    }
  });

  it('testNodes: false leaves the EngineTest* nodes out', async () => {
    const engine = await startTestEngine({ testNodes: false });
    try {
      const info = (await getJson<Record<string, unknown>>(`${engine.url}/object_info`)).body;
      expect(Object.keys(info).filter((n) => n.startsWith('EngineTest'))).toEqual([]);
      expect(info.FSLoadImage).toBeDefined();
    } finally {
      await engine.stop();
    }
  });

  it('reads the environment, options winning, and names a bad value', () => {
    const env = {
      FLOWSCALE_ENGINE_CACHE: 'lru',
      FLOWSCALE_ENGINE_MODEL_LOAD_MS: '1500',
      FLOWSCALE_ENGINE_WARM_MODELS: '1',
      FLOWSCALE_ENGINE_HIDE_FS_NODES: 'true',
    };
    expect(resolveFeatures({ warmModels: 3 }, env)).toEqual({
      cache: 'lru',
      modelLoadMs: 1500,
      warmModels: 3,
      hideFlowscaleNodes: true,
      testNodes: true,
    });
    expect(() => resolveFeatures({}, { FLOWSCALE_ENGINE_MODEL_LOAD_MS: 'slow' })).toThrow(
      /FLOWSCALE_ENGINE_MODEL_LOAD_MS must be an integer >= 0, got "slow"/,
    );
    expect(() => resolveFeatures({}, { FLOWSCALE_ENGINE_HIDE_FS_NODES: 'maybe' })).toThrow(
      /FLOWSCALE_ENGINE_HIDE_FS_NODES must be true or false/,
    );
  });
});
