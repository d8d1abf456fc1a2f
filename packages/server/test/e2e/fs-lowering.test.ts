import fs from 'node:fs';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, tempDir } from '../support/harness';
import { solidPng } from '../support/png';

// The shipped FlowScale workflows on a stock ComfyUI: an engine with its FS nodes hidden (as a stock
// ComfyUI has none) runs them after the server lowers the FS nodes to core ones, and the client gets the
// same outputs as from an engine with the FS nodes, through the SDK.
interface Side {
  engine: RunningEngine;
  server: TestServer;
  dir: string;
}
let withFs: Side;
let stock: Side;

async function side(hideFlowscaleNodes: boolean): Promise<Side> {
  const dir = tempDir(hideFlowscaleNodes ? 'engine-stock' : 'engine-fs');
  const engine = await startEngine({ port: 0, dataDir: dir, logLevel: 'error', hideFlowscaleNodes });
  const server = await startTestServer({ comfyuiUrls: [engine.url] });
  return { engine, server, dir };
}

beforeAll(async () => {
  [withFs, stock] = await Promise.all([side(false), side(true)]);
});
afterAll(async () => {
  for (const s of [withFs, stock]) {
    await s?.server.close();
    await s?.engine.close();
    if (s) fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

const png = (): Blob => new Blob([new Uint8Array(solidPng(5, 3, [200, 30, 90]))], { type: 'image/png' });

/** An output as the client sees it, without the run's token: name, then the text or the decoded pixels. */
async function seen(s: Side, workflow: string, inputs: Record<string, unknown>) {
  const result = await s.server.api.executeWorkflowAsync(workflow, inputs as never, undefined, 100);
  return Promise.all(
    result.data.map(async (output) => {
      const name = output.filename.replace(/_[A-Z0-9]{10}(?=[._])/, '_<token>');
      if (output.file_content !== undefined) return { name, text: output.file_content };
      const bytes = Buffer.from(await (await fetch(output.download_url!)).arrayBuffer());
      const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
      return { name, size: [info.width, info.height, info.channels], pixels: [...data] };
    }),
  );
}

/** The class of each node of the prompts the engine ran, newest last. */
async function classesRun(engine: RunningEngine): Promise<string[][]> {
  const history = (await (await fetch(`${engine.url}/history`)).json()) as Record<
    string,
    { prompt: [number, string, Record<string, { class_type: string }>] }
  >;
  return Object.values(history).map((entry) => Object.values(entry.prompt[2]).map((n) => n.class_type));
}

const statusOf = async (s: Side, name: string) =>
  (await s.server.api.getWorkflows()).data.find((workflow) => workflow.name === name) as
    | Record<string, unknown>
    | undefined;

const deploy = (s: Side, name: string, workflow: unknown) =>
  s.server.request('/api/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, workflow }),
  });

describe('FlowScale workflows on a backend without FS nodes', () => {
  it('the stock engine has no FS node, and the shipped FS workflows are runnable there', async () => {
    const info = (await (await fetch(`${stock.engine.url}/object_info`)).json()) as Record<string, unknown>;
    expect(Object.keys(info).filter((name) => name.startsWith('FS'))).toEqual([]);
    expect(info).toHaveProperty('PreviewAny');
    for (const name of ['invert-image', 'text-echo', 'solid-color'])
      expect(await statusOf(stock, name)).toMatchObject({ status: 'runnable' });
    // FSDelay has no core equivalent: slow-delay is not deployed from the folder there, and is refused by name.
    expect(await statusOf(withFs, 'slow-delay')).toMatchObject({ status: 'runnable' });
    expect(await statusOf(stock, 'slow-delay')).toBeUndefined();
    const delay = JSON.parse(
      fs.readFileSync(new URL('../../workflows/slow-delay.json', import.meta.url), 'utf8'),
    );
    const refused = await deploy(stock, 'slow-delay', delay);
    expect(refused.status).toBe(422);
    expect((await refused.json()).details).toEqual([
      expect.objectContaining({ message: 'node 2 (FSDelay): no backend has node FSDelay' }),
    ]);
  });

  it('image in, image out: the same output name and the same pixels', async () => {
    const expected = await seen(withFs, 'invert-image', { image_1: png() });
    const lowered = await seen(stock, 'invert-image', { image_1: png() });
    expect(expected).toEqual([
      expect.objectContaining({ name: 'filename_prefix_3_<token>.png', size: [5, 3, 3] }),
    ]);
    expect((expected[0] as { pixels: number[] }).pixels.slice(0, 3)).toEqual([55, 225, 165]);
    expect(lowered).toEqual(expected);
    expect((await classesRun(stock.engine)).at(-1)).toEqual(['LoadImage', 'ImageInvert', 'SaveImage']);
    expect((await classesRun(withFs.engine)).at(-1)).toEqual(['FSLoadImage', 'ImageInvert', 'FSSaveImage']);
  });

  it('text in, text out, also when the same prompt is served from cache the second time', async () => {
    const expected = await seen(withFs, 'text-echo', { default_value_1: 'lowered' });
    expect(expected).toEqual([{ name: 'filename_prefix_3_<token>.txt', text: 'lowered from FlowScale' }]);
    expect(await seen(stock, 'text-echo', { default_value_1: 'lowered' })).toEqual(expected);
    expect(await seen(stock, 'text-echo', { default_value_1: 'lowered' })).toEqual(expected);
    expect((await classesRun(stock.engine)).at(-1)).toEqual([
      'PrimitiveString',
      'StringConcatenate',
      'PreviewAny',
    ]);
  });

  it('integer in (FSLoadInteger → PrimitiveInt): the same image', async () => {
    const expected = await seen(withFs, 'solid-color', { default_value_1: 3 });
    expect(expected[0]).toMatchObject({ size: [3, 3, 3] });
    expect(await seen(stock, 'solid-color', { default_value_1: 3 })).toEqual(expected);
  });

  it('integer out (FSSaveInteger → PreviewAny): the same text', async () => {
    const workflow = {
      '1': { class_type: 'FSLoadInteger', inputs: { default_value: 5, label: 'n' } },
      '2': { class_type: 'FSSaveInteger', inputs: { integer: ['1', 0], filename_prefix: 'FlowScale' } },
    };
    for (const s of [withFs, stock]) await s.server.api.deployWorkflow({ name: 'int-echo', workflow });
    const expected = await seen(withFs, 'int-echo', { default_value_1: -42 });
    expect(expected).toEqual([{ name: 'filename_prefix_2_<token>.txt', text: '-42' }]);
    expect(await seen(stock, 'int-echo', { default_value_1: -42 })).toEqual(expected);
  });

  it('a mixed fleet lowers per backend: each run gets the graph its backend can run', async () => {
    const mixed = await startTestServer({
      comfyuiUrls: [withFs.engine.url, stock.engine.url],
      maxRunsPerBackend: 1,
    });
    try {
      const before = [(await classesRun(withFs.engine)).length, (await classesRun(stock.engine)).length];
      const texts = ['m0', 'm1', 'm2', 'm3'];
      const results = await Promise.all(
        texts.map((text) =>
          mixed.api.executeWorkflowAsync('text-echo', { default_value_1: text }, undefined, 100),
        ),
      );
      expect(results.map((result) => result.data[0]?.file_content)).toEqual(
        texts.map((text) => `${text} from FlowScale`),
      );
      const ranOnFs = (await classesRun(withFs.engine)).slice(before[0]);
      const ranOnStock = (await classesRun(stock.engine)).slice(before[1]);
      expect(ranOnFs.length + ranOnStock.length).toBe(4);
      expect(ranOnFs.length).toBeGreaterThan(0);
      expect(ranOnStock.length).toBeGreaterThan(0);
      for (const classes of ranOnFs) expect(classes).toContain('FSSaveText');
      for (const classes of ranOnStock) expect(classes).toContain('PreviewAny');
    } finally {
      await mixed.close();
    }
  });

  it('a backend restarted without its FS nodes gets lowered graphs from its next run on', async () => {
    const dir = tempDir('engine-restart');
    let engine = await startEngine({ port: 0, dataDir: dir, logLevel: 'error' });
    const port = engine.port;
    const server = await startTestServer({ comfyuiUrls: [engine.url] });
    try {
      const echo = async () =>
        (await server.api.executeWorkflowAsync('text-echo', { default_value_1: 'r' }, undefined, 100)).data[0]
          ?.file_content;
      expect(await echo()).toBe('r from FlowScale');
      expect((await classesRun(engine)).at(-1)).toContain('FSSaveText');
      await engine.close();
      engine = await startEngine({ port, dataDir: dir, logLevel: 'error', hideFlowscaleNodes: true });
      expect(await echo()).toBe('r from FlowScale');
      expect((await classesRun(engine)).at(-1)).toContain('PreviewAny');
    } finally {
      await server.close();
      await engine.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an FS node with settings no core node has is refused at deploy, saying why', async () => {
    const workflow = {
      '1': { class_type: 'FSLoadImage', inputs: { image: '' } },
      '2': {
        class_type: 'FSSaveImage',
        inputs: { images: ['1', 0], filename_prefix: 'x', format: 'jpg', quality: 90, lossless: false },
      },
    };
    expect((await deploy(withFs, 'as-jpeg', workflow)).status).toBe(201);
    const refused = await deploy(stock, 'as-jpeg', workflow);
    expect(refused.status).toBe(422);
    expect((await refused.json()).details).toEqual([
      expect.objectContaining({
        class_type: 'FSSaveImage',
        message:
          'node 2 (FSSaveImage): no backend has node FSSaveImage (format "jpg": core SaveImage writes only png)',
      }),
    ]);
  });
});
