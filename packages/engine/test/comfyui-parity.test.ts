import { mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  capturedTexts,
  getJson,
  postJson,
  runPrompt,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';

// Behaviour measured on a real ComfyUI 0.3.64 (see /work/shared/reference and test/fixtures) that the
// engine now reproduces: the classic cache, queue-clear status, /models, number spelling, Origin: null.

const concat = (a: string) => ({
  '1': { class_type: 'StringConcatenate', inputs: { string_a: a, string_b: '!', delimiter: '' } },
  '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
});

const cachedOf = (ws: WsClient, promptId: string) =>
  ws.events.find((m) => m.type === 'execution_cached' && m.data.prompt_id === promptId)?.data.nodes;
const executingOf = (ws: WsClient, promptId: string) =>
  ws.events.filter((m) => m.type === 'executing' && m.data.prompt_id === promptId).map((m) => m.data.node);

describe('caching', () => {
  it('classic (the default) reuses outputs only from the previous prompt, like ComfyUI', async () => {
    const engine = await startTestEngine();
    const ws = await WsClient.connect(engine.url);
    try {
      await runPrompt(engine, ws, concat('a'));
      const again = await runPrompt(engine, ws, concat('a'));
      expect(cachedOf(ws, again.prompt_id)).toEqual(['1', '2']);
      await runPrompt(engine, ws, concat('b'));
      // "a" was not part of the previous prompt, so its outputs are gone and both nodes run again.
      const third = await runPrompt(engine, ws, concat('a'));
      expect(cachedOf(ws, third.prompt_id)).toEqual([]);
      expect(executingOf(ws, third.prompt_id)).toEqual(['1', '2', null]);
    } finally {
      ws.close();
      await engine.stop();
    }
  });

  it('lists every cached node of the prompt, even one this run does not need (ComfyUI keys all nodes)', async () => {
    const engine = await startTestEngine();
    const ws = await WsClient.connect(engine.url);
    try {
      await runPrompt(engine, ws, concat('a'));
      const prompt = { ...concat('a'), '3': { class_type: 'PreviewAny', inputs: { source: 'other' } } };
      const partial = await runPrompt(engine, ws, prompt, { partial_execution_targets: ['3'] });
      expect(cachedOf(ws, partial.prompt_id)).toEqual(['1', '2']);
      expect(executingOf(ws, partial.prompt_id)).toEqual(['3', null]);
    } finally {
      ws.close();
      await engine.stop();
    }
  });

  it('cache: "lru" keeps outputs across prompts (the option)', async () => {
    const engine = await startTestEngine({ cache: 'lru' });
    const ws = await WsClient.connect(engine.url);
    try {
      await runPrompt(engine, ws, concat('a'));
      await runPrompt(engine, ws, concat('b'));
      const third = await runPrompt(engine, ws, concat('a'));
      expect(cachedOf(ws, third.prompt_id)).toEqual(['1', '2']);
      expect(executingOf(ws, third.prompt_id)).toEqual([null]);
    } finally {
      ws.close();
      await engine.stop();
    }
  });

  it('refuses an unknown cache policy, naming the setting', async () => {
    await expect(startTestEngine({ cache: 'forever' as 'lru' })).rejects.toThrow(
      /cache must be one of classic, lru/,
    );
  });
});

describe('engine-wide endpoints', () => {
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

  const delay = (seconds: number, tag: string) => ({
    '1': { class_type: 'FSDelay', inputs: { seconds, value: tag } },
    '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
  });
  const statuses = () => ws.events.filter((m) => m.type === 'status');

  it('POST /queue {clear: true} sends one status message, however many prompts it removes', async () => {
    const post = (prompt: unknown) =>
      postJson<{ prompt_id: string }>(`${engine.url}/prompt`, { prompt, client_id: ws.sid });
    const running = (await post(delay(60, 'r'))).body;
    await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === running.prompt_id);
    for (const tag of ['p1', 'p2', 'p3']) await post(delay(0, tag));
    await ws.waitFor(() => statuses().some((m) => JSON.stringify(m.data).includes('"queue_remaining":4')));
    ws.clear();
    expect((await postJson(`${engine.url}/queue`, { clear: true })).status).toBe(200);
    await ws.waitFor(() => statuses().length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(statuses().map((m) => m.data.status)).toEqual([{ exec_info: { queue_remaining: 1 } }]);
    await postJson(`${engine.url}/interrupt`, {});
    await ws.done(running.prompt_id, 10_000);
  });

  it("GET /models lists ComfyUI's model folders; a known empty folder is 200 [], an unknown one 404", async () => {
    const folders = await getJson<string[]>(`${engine.url}/models`);
    expect(folders.body).toEqual([
      'checkpoints',
      'configs',
      'loras',
      'vae',
      'text_encoders',
      'diffusion_models',
      'clip_vision',
      'style_models',
      'embeddings',
      'diffusers',
      'vae_approx',
      'controlnet',
      'gligen',
      'upscale_models',
      'custom_nodes',
      'hypernetworks',
      'photomaker',
      'classifiers',
      'model_patches',
      'audio_encoders',
    ]);
    const empty = await getJson(`${engine.url}/models/checkpoints`);
    expect([empty.status, empty.body]).toEqual([200, []]);
    expect((await fetch(`${engine.url}/api/models/no_such_folder`)).status).toBe(404);
  });

  it('GET /models/<folder> lists model files (subfolders too), filtered by extension, sorted', async () => {
    const loras = path.join(engine.dataDir, 'models', 'loras');
    await mkdir(path.join(loras, 'style'), { recursive: true });
    await writeFile(path.join(loras, 'b.safetensors'), 'x');
    await writeFile(path.join(loras, 'style', 'a.pt'), 'x');
    await writeFile(path.join(loras, 'notes.txt'), 'x');
    expect((await getJson(`${engine.url}/models/loras`)).body).toEqual(['b.safetensors', 'style/a.pt']);
  });

  function requestWithOrigin(origin: string): Promise<number> {
    const url = new URL(`${engine.url}/queue`);
    return new Promise((resolve, reject) => {
      http
        .get({ host: url.hostname, port: url.port, path: url.pathname, headers: { origin } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', reject);
    });
  }

  it('allows Origin: null (its netloc is empty, which ComfyUI does not check) but still refuses other hosts', async () => {
    expect(await requestWithOrigin('null')).toBe(200);
    expect(await requestWithOrigin('file://')).toBe(200);
    expect(await requestWithOrigin('http://evil.example')).toBe(403);
  });
});

describe('/object_info number spelling (compared as text with the captures)', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const text = async (name: string) => (await fetch(`${engine.url}/object_info/${name}`)).text();

  it('writes FLOAT options as floats and the int64 bounds as exact integers', async () => {
    expect(await text('ImageScaleBy')).toContain(
      '"scale_by":["FLOAT",{"default":1.0,"min":0.01,"max":8.0,"step":0.01}]',
    );
    const int = await text('PrimitiveInt');
    expect(int).toContain('"min":-9223372036854775807,"max":9223372036854775807');
    // A Python client parsing the text gets the same int64 ComfyUI sends (JS would have 2^63).
    expect(int).not.toContain('9223372036854776000');
  });

  it('is byte-identical to ComfyUI 0.3.64 for every captured core node (LoadImage aside: its file list)', async () => {
    const captured = capturedTexts(path.join(import.meta.dirname, 'fixtures', 'object_info-core.json'));
    expect(captured.size).toBe(30);
    for (const [name, expected] of captured) {
      if (name === 'LoadImage' || name === 'LoadImageMask') continue;
      expect({ name, text: await text(name) }).toEqual({ name, text: `{"${name}":${expected}}` });
    }
  });
});
