import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  getJson,
  history,
  type PromptReply,
  postJson,
  runPrompt,
  solidPng,
  startTestEngine,
  type TestEngine,
  upload,
  WsClient,
} from './helpers';

interface ErrorBody {
  error: { type: string; message: string; details?: string };
  node_errors: Record<string, { errors: { type: string; message: string; details: string }[] }>;
}

const save = (images: unknown, prefix = 'x') => ({
  class_type: 'SaveImage',
  inputs: { images, filename_prefix: prefix },
});
const empty = (width: unknown, height: unknown, batch: unknown = 1) => ({
  class_type: 'EmptyImage',
  inputs: { width, height, batch_size: batch, color: 0 },
});

describe('bad input: clear 4xx answers, and the engine stays up', () => {
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

  const prompt = (p: unknown) =>
    postJson<ErrorBody & PromptReply>(`${engine.url}/prompt`, { prompt: p, client_id: ws.sid });

  it('malformed JSON on every JSON route gives a JSON 400 naming the problem', async () => {
    for (const route of ['/prompt', '/queue', '/history', '/interrupt', '/api/prompt']) {
      const res = await postJson<ErrorBody>(`${engine.url}${route}`, '{not json');
      expect({ route, status: res.status, type: res.body.error.type }).toEqual({
        route,
        status: 400,
        type: 'invalid_json',
      });
      expect(res.headers.get('content-type')).toContain('application/json');
    }
    const notObject = await postJson<ErrorBody>(`${engine.url}/prompt`, '[1,2]');
    expect([notObject.status, notObject.body.error.type]).toEqual([400, 'invalid_request']);
    const badQuery = await getJson<ErrorBody>(`${engine.url}/history?max_items=abc`);
    expect([badQuery.status, badQuery.body.error.message]).toEqual([
      400,
      'max_items and offset must be integers',
    ]);
  });

  it('rejects wrong types, out-of-range values, bad links and unknown classes', async () => {
    const wrongType = await prompt({ '1': empty('abc', 8), '2': save(['1', 0]) });
    expect(wrongType.body.node_errors['1']?.errors[0]?.type).toBe('invalid_input_type');
    const range = await prompt({ '1': empty(8, 8, 0), '2': save(['1', 0]) });
    expect(range.body.node_errors['1']?.errors[0]).toMatchObject({
      type: 'value_smaller_than_min',
      details: 'batch_size',
    });
    const literalImage = await prompt({ '2': save(42) });
    expect(literalImage.body.node_errors['2']?.errors[0]).toMatchObject({
      type: 'invalid_input_type',
      details: 'images, a IMAGE value cannot be given literally',
    });
    const badLink = await prompt({ '2': save(['1', 0, 7]) });
    expect(badLink.body.node_errors['2']?.errors[0]?.type).toBe('bad_linked_input');
    const nullInputs = await prompt({
      '1': { class_type: 'EmptyImage', inputs: 'nope' },
      '2': save(['1', 0]),
    });
    expect([nullInputs.status, nullInputs.body.error.type]).toEqual([400, 'invalid_prompt']);
    const noPrompt = await postJson<ErrorBody>(`${engine.url}/prompt`, { prompt: null });
    expect([noPrompt.status, noPrompt.body.error.type]).toEqual([400, 'invalid_prompt']);
  });

  it('rejects cycles with dependency_cycle instead of hanging', async () => {
    const selfLoop = await prompt({
      '1': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '2': save(['1', 0]),
    });
    expect(selfLoop.status).toBe(400);
    expect(selfLoop.body.node_errors['1']?.errors[0]?.type).toBe('dependency_cycle');
    const triangle = await prompt({
      '1': { class_type: 'ImageInvert', inputs: { image: ['3', 0] } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
      '4': save(['3', 0]),
    });
    expect(triangle.status).toBe(400);
    expect(JSON.stringify(triangle.body.node_errors)).toContain('dependency_cycle');
  });

  it('handles a 3000-node chain without recursion limits, and refuses prompts over the node limit', async () => {
    const chain: Record<string, unknown> = { '0': empty(2, 2) };
    for (let i = 1; i <= 3000; i++)
      chain[i] = { class_type: 'ImageInvert', inputs: { image: [String(i - 1), 0] } };
    chain.out = save(['3000', 0], 'chain');
    const { prompt_id } = await runPrompt(engine, ws, chain);
    expect((await history(engine, prompt_id)).status.status_str).toBe('success');
    const tooBig: Record<string, unknown> = {};
    for (let i = 0; i <= 10_000; i++) tooBig[i] = empty(2, 2);
    const res = await prompt(tooBig);
    expect([res.status, res.body.error.type]).toEqual([400, 'prompt_too_large']);
  }, 120_000); // 3000 nodes take ~10 s alone and more on a loaded machine

  it('treats node ids like "constructor" and "__proto__" as plain ids', async () => {
    // Written as JSON text: in an object literal, __proto__ would set the prototype instead of a key.
    const text = `{"client_id": "${ws.sid}", "prompt": {"constructor": ${JSON.stringify(empty(2, 2))}, "__proto__": ${JSON.stringify(save(['constructor', 0]))}, "2": ${JSON.stringify(save(['toString', 0]))}}}`;
    const res = await postJson<ErrorBody & PromptReply>(`${engine.url}/prompt`, text);
    expect(res.status).toBe(200);
    await ws.waitFor(
      (m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === res.body.prompt_id,
    );
    expect(res.body.node_errors['2']?.errors[0]).toMatchObject({
      type: 'exception_during_validation',
      details: "'toString'",
    });
  });

  it('enforces the pixel limits at validation time and at run time', async () => {
    const huge = await prompt({ '1': empty(16384, 16384), '2': save(['1', 0]) });
    expect(huge.status).toBe(400);
    expect(huge.body.node_errors['1']?.errors[0]).toMatchObject({
      type: 'custom_validation_failed',
      details: expect.stringContaining('Image too large: 16384x16384'),
    });
    const batch = await prompt({ '1': empty(4096, 4096, 16), '2': save(['1', 0]) });
    expect(batch.body.node_errors['1']?.errors[0]?.details).toContain('Batch too large');

    const linked = await runPrompt(engine, ws, {
      '1': { class_type: 'PrimitiveInt', inputs: { value: 16384 } },
      '2': empty(['1', 0], ['1', 0]),
      '3': save(['2', 0]),
    });
    const error = ws.events.find(
      (m) => m.type === 'execution_error' && m.data.prompt_id === linked.prompt_id,
    )?.data;
    expect(error).toMatchObject({ node_id: '2', exception_type: 'ImageTooLargeError' });
    expect(String(error?.exception_message)).toMatch(/exceeds the limit of 67108864 pixels/);

    const upscale = await runPrompt(engine, ws, {
      '1': empty(8, 8),
      '2': {
        class_type: 'ImageScale',
        inputs: {
          image: ['1', 0],
          upscale_method: 'bilinear',
          width: 16384,
          height: 16384,
          crop: 'disabled',
        },
      },
      '3': save(['2', 0]),
    });
    expect((await history(engine, upscale.prompt_id)).status.status_str).toBe('error');
  });

  it('a non-image reaching an IMAGE input through an any-type output fails with a message naming the input', async () => {
    // A literal is refused at validation; through FSDelay's `*` passthrough it reaches the run, as in ComfyUI.
    const run = await runPrompt(engine, ws, {
      '1': { class_type: 'PrimitiveString', inputs: { value: 'not an image' } },
      '2': { class_type: 'FSDelay', inputs: { value: ['1', 0], seconds: 0 } },
      '3': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
      '4': save(['3', 0]),
    });
    const error = ws.events.find(
      (m) => m.type === 'execution_error' && m.data.prompt_id === run.prompt_id,
    )?.data;
    expect(error).toMatchObject({
      node_id: '3',
      node_type: 'ImageInvert',
      exception_type: 'Exception',
      exception_message: 'Input "image" of ImageInvert must be of type IMAGE, got a string',
    });
  });

  it("refuses filename_prefix path tricks at run time with ComfyUI's message, but allows inner subfolders", async () => {
    for (const prefix of ['../../escape', '/etc/owned', 'a/../../b', '..']) {
      const { prompt_id } = await runPrompt(engine, ws, { '1': empty(4, 4), '2': save(['1', 0], prefix) });
      const error = ws.events.find(
        (m) => m.type === 'execution_error' && m.data.prompt_id === prompt_id,
      )?.data;
      expect({ prefix, message: error?.exception_message }).toEqual({
        prefix,
        message: '**** ERROR: Saving image outside the output folder is not allowed.',
      });
    }
    const inside = await runPrompt(engine, ws, { '1': empty(4, 4), '2': save(['1', 0], 'a/../inner/ok') });
    expect((await history(engine, inside.prompt_id)).outputs['2']).toEqual({
      images: [{ filename: 'ok_00001_.png', subfolder: 'inner', type: 'output' }],
    });
    const text = await runPrompt(engine, ws, {
      '1': { class_type: 'FSLoadText', inputs: { default_value: 'x' } },
      '2': { class_type: 'FSSaveText', inputs: { text: ['1', 0], filename_prefix: '../x' } },
    });
    expect((await history(engine, text.prompt_id)).status.status_str).toBe('error');
  });

  it('refuses /view path tricks: 400 for ".." or absolute names, 403 for escaping subfolders and symlinks', async () => {
    await mkdir(path.join(engine.dataDir, 'output', 'sub'), { recursive: true });
    await writeFile(path.join(engine.dataDir, 'secret.txt'), 'secret');
    await symlink(path.join(engine.dataDir, 'secret.txt'), path.join(engine.dataDir, 'output', 'link.txt'));
    const status = async (query: string) => (await fetch(`${engine.url}/view?${query}`)).status;
    expect(await status('filename=../secret.txt')).toBe(400);
    expect(await status('filename=%2Fetc%2Fpasswd')).toBe(400);
    expect(await status('filename=passwd&subfolder=../../../../etc')).toBe(403);
    expect(await status('filename=secret.txt&subfolder=..')).toBe(403);
    expect(await status('filename=link.txt')).toBe(403);
    expect(await status('filename=x.png&type=bogus')).toBe(400);
    expect(await status('filename=missing.png')).toBe(404);
    expect(await status('')).toBe(404);
    const res = await fetch(`${engine.url}/view?filename=..%2Fsecret.txt`);
    expect(await res.json()).toMatchObject({ error: { type: 'view_failed' } });
  });

  it('refuses uploads with an unknown type or outside folders', async () => {
    const png = await solidPng(2, 2, [1, 2, 3]);
    expect((await upload(engine.url, { name: 'a.png', data: png }, { type: 'models' })).status).toBe(400);
    expect((await upload(engine.url, { name: 'a.png', data: png }, { subfolder: '/etc' })).status).toBe(400);
    const notMultipart = await postJson<ErrorBody>(`${engine.url}/upload/image`, { image: 'x' });
    expect([notMultipart.status, notMultipart.body.error.type]).toEqual([400, 'invalid_upload']);
  });

  it("applies ComfyUI's loopback origin check (403) and answers OPTIONS with 200", async () => {
    const evil = await fetch(`${engine.url}/queue`, { headers: { origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    const same = await fetch(`${engine.url}/queue`, { headers: { origin: engine.url } });
    expect(same.status).toBe(200);
    expect((await fetch(`${engine.url}/prompt`, { method: 'OPTIONS' })).status).toBe(200);
    const wsStatus = await new Promise<number>((resolve) => {
      const socket = new WebSocket(`${engine.url.replace('http', 'ws')}/ws`, {
        headers: { origin: 'http://evil.example' },
      });
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
      socket.once('error', () => {});
    });
    expect(wsStatus).toBe(403);
    expect((await fetch(`${engine.url}/no/such/route`)).status).toBe(404);
  });

  it('is still up and idle after all of the above', async () => {
    const stats = await getJson<{ system: { comfyui_version: string }; devices: unknown[] }>(
      `${engine.url}/system_stats`,
    );
    expect(stats.status).toBe(200);
    expect(stats.body.system.comfyui_version).toBe('0.3.64');
    expect((await getJson(`${engine.url}/prompt`)).body).toEqual({ exec_info: { queue_remaining: 0 } });
  });
});

describe('size limits on bodies', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine({ limits: { maxJsonBytes: 2048, maxUploadBytes: 1024 } });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('answers 413 for an oversized JSON body or upload', async () => {
    const big = await postJson<ErrorBody>(`${engine.url}/prompt`, { prompt: {}, pad: 'x'.repeat(4096) });
    expect(big.status).toBe(413);
    const file = await upload(engine.url, { name: 'big.png', data: Buffer.alloc(4096, 1) });
    expect(file.status).toBe(413);
    expect((await getJson(`${engine.url}/queue`)).status).toBe(200);
  });
});
