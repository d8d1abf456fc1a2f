import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPngText } from '../src/index';
import {
  describe as describeMessage,
  getJson,
  history,
  type PromptReply,
  postJson,
  runPrompt,
  startTestEngine,
  type TestEngine,
  WsClient,
} from './helpers';

const delay = (seconds: number, text = 'x') => ({
  '1': { class_type: 'PrimitiveString', inputs: { value: text } },
  '2': { class_type: 'FSDelay', inputs: { seconds, value: ['1', 0] } },
  '3': { class_type: 'PreviewAny', inputs: { source: ['2', 0] } },
});

const solid = (color: number, prefix = 'solid') => ({
  '1': { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color } },
  '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix } },
});

describe('execution', () => {
  let engine: TestEngine;
  let ws: WsClient;

  beforeAll(async () => {
    engine = await startTestEngine();
    ws = await WsClient.connect(engine.url, 'exec');
  });

  afterAll(async () => {
    ws?.close();
    await engine?.stop();
  });

  const post = (body: Record<string, unknown>) =>
    postJson<PromptReply>(`${engine.url}/prompt`, { client_id: 'exec', ...body });

  describe('caching', () => {
    it('serves an identical prompt from cache: no executing, same file names, no new files', async () => {
      const first = await runPrompt(engine, ws, solid(0x00ff00, 'cache/a'));
      const files = await readdir(path.join(engine.dataDir, 'output', 'cache'));
      ws.clear();
      const second = await runPrompt(engine, ws, solid(0x00ff00, 'cache/a'));
      expect(ws.events.map(describeMessage)).toEqual([
        'status:1',
        'status:1',
        'execution_start',
        'execution_cached:[1,2]',
        'executed:2',
        'execution_success',
        'status:0',
        'executing:null',
      ]);
      expect((await history(engine, second.prompt_id)).outputs).toEqual(
        (await history(engine, first.prompt_id)).outputs,
      );
      expect(await readdir(path.join(engine.dataDir, 'output', 'cache'))).toEqual(files);
    });

    it('re-runs only what changed downstream of a changed literal', async () => {
      ws.clear();
      await runPrompt(engine, ws, {
        ...solid(0x00ff00, 'cache/a'),
        '3': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
        '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'cache/b' } },
      });
      expect(ws.events.map(describeMessage)).toContain('execution_cached:[1,2]');
      expect(ws.events.filter((m) => m.type === 'executing' && m.data.node).map((m) => m.data.node)).toEqual([
        '3',
        '4',
      ]);
    });

    it('never caches FSDelay, so a repeated delay really waits again', async () => {
      await runPrompt(engine, ws, delay(0.1));
      ws.clear();
      await runPrompt(engine, ws, delay(0.1));
      expect(ws.events.map(describeMessage)).toContain('execution_cached:[1]');
      expect(ws.events.filter((m) => m.type === 'progress')).toHaveLength(1);
    });

    it('drops the cache on POST /free {free_memory: true}', async () => {
      await postJson(`${engine.url}/free`, { free_memory: true });
      ws.clear();
      await runPrompt(engine, ws, solid(0x00ff00, 'cache/a'));
      expect(ws.events.map(describeMessage)).toContain('execution_cached:[]');
    });
  });

  describe('interrupt', () => {
    it('stops a running FSDelay promptly and records execution_interrupted', async () => {
      ws.clear();
      const { body } = await post({ prompt: delay(60) });
      await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === body.prompt_id);
      const res = await fetch(`${engine.url}/interrupt`, { method: 'POST' });
      expect([res.status, res.headers.get('content-length')]).toEqual([200, '0']);
      await ws.done(body.prompt_id, 10_000);
      expect(ws.events.map(describeMessage).slice(-3)).toEqual([
        'execution_interrupted:2',
        'status:0',
        'executing:null',
      ]);
      const interrupted = ws.events.find((m) => m.type === 'execution_interrupted')?.data;
      expect(interrupted).toMatchObject({ prompt_id: body.prompt_id, node_type: 'FSDelay', executed: ['1'] });
      const entry = await history(engine, body.prompt_id);
      expect([entry.status.status_str, entry.status.completed]).toEqual(['error', false]);
      expect(entry.status.messages.at(-1)?.[0]).toBe('execution_interrupted');
    });

    it('interrupts only the named prompt, ignores other ids, and lets the queue continue', async () => {
      ws.clear();
      const slow = (await post({ prompt: delay(60, 'slow') })).body;
      const next = (await post({ prompt: delay(0, 'next') })).body;
      await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === slow.prompt_id);
      await postJson(`${engine.url}/interrupt`, { prompt_id: next.prompt_id });
      await postJson(`${engine.url}/interrupt`, { prompt_id: 'not-running' });
      await new Promise((r) => setTimeout(r, 250));
      expect(ws.events.some((m) => m.type === 'execution_interrupted')).toBe(false);
      await postJson(`${engine.url}/interrupt`, { prompt_id: slow.prompt_id });
      await ws.done(next.prompt_id, 10_000);
      expect((await history(engine, slow.prompt_id)).status.status_str).toBe('error');
      expect((await history(engine, next.prompt_id)).status.status_str).toBe('success');
    });

    it('takes effect before the next node of a long chain of fast nodes (cooperative, between nodes)', async () => {
      ws.clear();
      const chain: Record<string, unknown> = {
        '0': { class_type: 'EmptyImage', inputs: { width: 64, height: 64, batch_size: 1, color: 0 } },
      };
      for (let i = 1; i <= 2000; i++)
        chain[i] = { class_type: 'ImageInvert', inputs: { image: [String(i - 1), 0] } };
      chain.out = { class_type: 'PreviewImage', inputs: { images: ['2000', 0] } };
      const { body } = await post({ prompt: chain });
      await ws.waitFor((m) => m.type === 'executing' && m.data.node === '1');
      await postJson(`${engine.url}/interrupt`, {});
      await ws.done(body.prompt_id, 20_000);
      const interrupted = ws.events.find((m) => m.type === 'execution_interrupted')?.data;
      expect(interrupted?.node_type).toBe('ImageInvert');
      expect((interrupted!.executed as string[]).length).toBeLessThan(2000);
      expect(ws.events.some((m) => m.type === 'executed')).toBe(false);
    });

    it('discards an interrupt sent while idle', async () => {
      await fetch(`${engine.url}/interrupt`, { method: 'POST' });
      const { prompt_id } = await runPrompt(engine, ws, delay(0.05));
      expect((await history(engine, prompt_id)).status.status_str).toBe('success');
    });
  });

  describe('queue', () => {
    it('runs pending prompts by number (front first), deletes and clears pending ones', async () => {
      ws.clear();
      const blocker = (await post({ prompt: delay(60, 'blocker') })).body;
      await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === blocker.prompt_id);
      const later = (await post({ prompt: delay(0, 'later') })).body;
      const doomed = (await post({ prompt: delay(0, 'doomed') })).body;
      const urgent = (await post({ prompt: delay(0, 'urgent'), front: true })).body;
      const explicit = (await post({ prompt: delay(0, 'explicit'), number: 0.5 })).body;
      expect(urgent.number).toBeLessThan(0);
      expect(explicit.number).toBe(0.5);

      const queue = (
        await getJson<{ queue_running: unknown[][]; queue_pending: unknown[][] }>(`${engine.url}/queue`)
      ).body;
      expect(queue.queue_running.map((q) => q[1])).toEqual([blocker.prompt_id]);
      expect(queue.queue_pending.map((q) => q[1])).toEqual([
        urgent.prompt_id,
        explicit.prompt_id,
        later.prompt_id,
        doomed.prompt_id,
      ]);
      expect(queue.queue_pending[0]?.[3]).toEqual({ client_id: 'exec' });
      expect((await getJson(`${engine.url}/prompt`)).body).toEqual({ exec_info: { queue_remaining: 5 } });

      const statusesBefore = ws.events.filter((m) => m.type === 'status').length;
      const del = await postJson(`${engine.url}/queue`, {
        delete: [doomed.prompt_id, 'unknown', blocker.prompt_id],
      });
      expect(del.status).toBe(200);
      await ws.waitFor(() => ws.events.filter((m) => m.type === 'status').length > statusesBefore);
      await postJson(`${engine.url}/interrupt`, {});
      await ws.done(later.prompt_id, 10_000);

      const started = ws.events.filter((m) => m.type === 'execution_start').map((m) => m.data.prompt_id);
      expect(started).toEqual([blocker.prompt_id, urgent.prompt_id, explicit.prompt_id, later.prompt_id]);
      expect(await history(engine, doomed.prompt_id)).toBeUndefined();
      expect(ws.events.some((m) => m.data.prompt_id === doomed.prompt_id)).toBe(false);
    });

    it('clears all pending prompts but leaves the running one', async () => {
      ws.clear();
      const running = (await post({ prompt: delay(60, 'r') })).body;
      await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === running.prompt_id);
      await post({ prompt: delay(0, 'p1') });
      await post({ prompt: delay(0, 'p2') });
      await postJson(`${engine.url}/queue`, { clear: true });
      const queue = (
        await getJson<{ queue_running: unknown[]; queue_pending: unknown[] }>(`${engine.url}/queue`)
      ).body;
      expect([queue.queue_running.length, queue.queue_pending.length]).toEqual([1, 0]);
      await postJson(`${engine.url}/interrupt`, {});
      await ws.done(running.prompt_id, 10_000);
    });

    it('deletes and clears history entries', async () => {
      const { prompt_id } = await runPrompt(engine, ws, delay(0));
      await postJson(`${engine.url}/history`, { delete: [prompt_id] });
      expect(await history(engine, prompt_id)).toBeUndefined();
      await postJson(`${engine.url}/history`, { clear: true });
      expect((await getJson(`${engine.url}/history`)).body).toEqual({});
    });
  });

  describe('outputs', () => {
    it('embeds the prompt and each extra_pnginfo key as PNG text chunks, like ComfyUI', async () => {
      const extra = { extra_pnginfo: { workflow: { note: 'ui graph' }, other: 'ü' } };
      const { prompt_id } = await runPrompt(engine, ws, solid(0x123456, 'meta/m'), { extra_data: extra });
      const entry = await history(engine, prompt_id);
      expect(entry.prompt[3]).toEqual({ ...extra, client_id: 'exec' });
      const png = await readFile(path.join(engine.dataDir, 'output', 'meta', 'm_00001_.png'));
      const text = readPngText(png);
      expect(Object.keys(text)).toEqual(['prompt', 'workflow', 'other']);
      expect(JSON.parse(text.prompt as string)).toEqual(entry.prompt[2]);
      expect(text.workflow).toBe('{"note": "ui graph"}');
      expect(text.other).toBe('"\\u00fc"');
    });

    it('never overwrites a file that appeared in output/ behind its back (counters continue past it)', async () => {
      await runPrompt(engine, ws, solid(0x010101, 'counted/x'));
      const folder = path.join(engine.dataDir, 'output', 'counted');
      await writeFile(path.join(folder, 'x_00002_.png'), 'not mine');
      const { prompt_id } = await runPrompt(engine, ws, solid(0x020202, 'counted/x'));
      expect((await history(engine, prompt_id)).outputs['2']).toEqual({
        images: [{ filename: 'x_00003_.png', subfolder: 'counted', type: 'output' }],
      });
      expect(await readFile(path.join(folder, 'x_00002_.png'), 'utf8')).toBe('not mine');
    });

    it('FSSaveImage writes png/jpg/webp/avif; FSSaveText and FSSaveInteger write counted .txt files', async () => {
      const prompt: Record<string, unknown> = {
        '1': { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0xff0000 } },
        '5': { class_type: 'FSLoadInteger', inputs: { default_value: 42, label: 'n' } },
        '6': { class_type: 'FSSaveInteger', inputs: { integer: ['5', 0], filename_prefix: 'fs/int' } },
        '7': { class_type: 'FSLoadText', inputs: { default_value: 'héllo' } },
        '8': {
          class_type: 'FSSaveText',
          inputs: { text: ['7', 0], filename_prefix: 'fs/txt', label: 'out' },
        },
      };
      const formats = ['png', 'jpg', 'webp', 'avif'];
      formats.forEach((format, i) => {
        prompt[`2${i}`] = {
          class_type: 'FSSaveImage',
          inputs: { images: ['1', 0], filename_prefix: `fs/${format}`, format, quality: 80, lossless: false },
        };
      });
      const { prompt_id } = await runPrompt(engine, ws, prompt);
      const outputs = (await history(engine, prompt_id)).outputs;
      const magic = async (name: string) =>
        (await readFile(path.join(engine.dataDir, 'output', 'fs', name))).subarray(0, 12);
      expect((await magic('png_00001_.png')).subarray(1, 4).toString()).toBe('PNG');
      expect([...(await magic('jpg_00001_.jpg')).subarray(0, 2)]).toEqual([0xff, 0xd8]);
      expect((await magic('webp_00001_.webp')).subarray(8, 12).toString()).toBe('WEBP');
      expect((await magic('avif_00001_.avif')).subarray(4, 12).toString()).toBe('ftypavif');
      expect(outputs['6']).toEqual({
        text: ['42'],
        files: [{ filename: 'int_00001_.txt', subfolder: 'fs', type: 'output' }],
      });
      expect(outputs['8']).toEqual({
        text: ['héllo'],
        files: [{ filename: 'txt_00001_.txt', subfolder: 'fs', type: 'output' }],
      });
      expect(await readFile(path.join(engine.dataDir, 'output', 'fs', 'txt_00001_.txt'), 'utf8')).toBe(
        'héllo',
      );
    });

    it('FSLoadImage reads uploads by subfolder path and fails validation for a missing file', async () => {
      const ok = {
        '1': { class_type: 'FSLoadImage', inputs: { image: 'example.png' } },
        '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
      };
      await runPrompt(engine, ws, ok);
      const missing = structuredClone(ok);
      missing['1'].inputs.image = 'nope/missing.png';
      const res = await post({ prompt: missing });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        node_errors: {
          1: {
            errors: [
              { type: 'custom_validation_failed', details: 'image - Invalid image file: nope/missing.png' },
            ],
          },
        },
      });
    });
  });

  describe('routing', () => {
    it('keeps prompt events to their own client when several clients post at once', async () => {
      const clients = await Promise.all(
        ['c1', 'c2', 'c3', 'c4'].map((id) => WsClient.connect(engine.url, id)),
      );
      const replies = await Promise.all(
        clients.flatMap((c, i) =>
          [0, 1, 2].map((k) =>
            postJson<PromptReply>(`${engine.url}/prompt`, {
              prompt: solid(i * 16 + k, `conc/${c.sid}`),
              client_id: c.sid,
            }),
          ),
        ),
      );
      expect(replies.every((r) => r.status === 200)).toBe(true);
      for (const [i, c] of clients.entries()) {
        const mine = replies.slice(i * 3, i * 3 + 3).map((r) => r.body.prompt_id);
        for (const id of mine) await c.done(id);
        const seen = new Set(c.events.filter((m) => m.data.prompt_id).map((m) => m.data.prompt_id));
        expect([...seen].sort()).toEqual([...mine].sort());
      }
      // One at a time: every prompt's start comes after the previous prompt's end.
      const spans = await Promise.all(
        replies.map(async (r) => {
          const msgs = (await history(engine, r.body.prompt_id)).status.messages as [
            string,
            { timestamp: number },
          ][];
          return [msgs[0]?.[1].timestamp ?? 0, msgs.at(-1)?.[1].timestamp ?? 0] as const;
        }),
      );
      spans.sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < spans.length; i++)
        expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
      for (const c of clients) c.close();
    });

    it('tells a reconnecting owner which node is running; broadcasts interrupts of anonymous prompts', async () => {
      const anonymous = await WsClient.connect(engine.url);
      const first = await WsClient.connect(engine.url, 'owner');
      const { body } = await postJson<PromptReply>(`${engine.url}/prompt`, {
        prompt: delay(60),
        client_id: 'owner',
      });
      await first.waitFor((m) => m.type === 'progress' && m.data.prompt_id === body.prompt_id);
      // Reconnecting with the same clientId: the greeting is followed by the running node.
      const owner = await WsClient.connect(engine.url, 'owner');
      await owner.waitFor((m) => m.type === 'executing' && m.data.node === '2' && !('prompt_id' in m.data));
      first.close();
      await postJson(`${engine.url}/interrupt`, {});
      await owner.done(body.prompt_id, 10_000);
      expect(anonymous.events.some((m) => m.type === 'execution_interrupted')).toBe(false);

      const anon = await postJson<PromptReply>(`${engine.url}/prompt`, { prompt: delay(60, 'anon') });
      // progress_state of a prompt without client_id reaches every socket, so it shows the prompt is running.
      await anonymous.waitFor((m) => m.type === 'progress_state' && m.data.prompt_id === anon.body.prompt_id);
      await postJson(`${engine.url}/interrupt`, {});
      await anonymous.waitFor(
        (m) => m.type === 'execution_interrupted' && m.data.prompt_id === anon.body.prompt_id,
      );
      await owner.waitFor(
        (m) => m.type === 'execution_interrupted' && m.data.prompt_id === anon.body.prompt_id,
      );
      owner.close();
      anonymous.close();
    });

    it('answers feature_flags and broadcasts GetImageSize text frames to every socket (also on /api/ws)', async () => {
      const other = await WsClient.connect(`${engine.url}/api`);
      other.socket.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      await other.waitFor((m) => m.type === 'feature_flags');
      await runPrompt(engine, ws, {
        '1': { class_type: 'EmptyImage', inputs: { width: 24, height: 12, batch_size: 3, color: 0 } },
        '2': { class_type: 'GetImageSize', inputs: { image: ['1', 0] } },
        '3': { class_type: 'PreviewAny', inputs: { source: ['2', 0] } },
      });
      await other.waitFor(() => other.binary.length > 0);
      const frame = other.binary[0] as Buffer;
      expect(frame.readUInt32BE(0)).toBe(3);
      const idLength = frame.readUInt32BE(4);
      expect(frame.subarray(8, 8 + idLength).toString()).toBe('2');
      expect(frame.subarray(8 + idLength).toString()).toBe('width: 24, height: 12\n batch size: 3');
      other.close();
    });
  });
});
