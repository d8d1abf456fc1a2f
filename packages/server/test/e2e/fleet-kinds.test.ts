import fs from 'node:fs';
import path from 'node:path';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';

// What the fleet holds, checked end to end against a real engine: model files named by a workflow must be
// on some backend (the loader's `ckpt_name` is recognised as a model input from the data alone), a custom
// output node is served like a core one, and every kind of output file comes back with its media type.
let server: TestServer;
let engine: RunningEngine;
let engineDir: string;
let modelsDir: string;

const checkpoints = () => path.join(modelsDir, 'checkpoints');

beforeAll(async () => {
  engineDir = tempDir('engine');
  modelsDir = tempDir('models');
  fs.mkdirSync(checkpoints());
  fs.writeFileSync(path.join(checkpoints(), 'present.safetensors'), 'weights');
  // modelLoadMs 0: the simulated load time is not what these tests are about.
  engine = await startEngine({ port: 0, dataDir: engineDir, modelsDir, logLevel: 'error', modelLoadMs: 0 });
  server = await startTestServer({ comfyuiUrls: [engine.url], inventoryRefreshMs: 200 });
});
afterAll(async () => {
  await server?.close();
  await engine?.close();
  for (const dir of [engineDir, modelsDir]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

interface DeployAnswer {
  code?: string;
  details?: Array<{ kind: string; node_id: string; class_type: string; input?: string; message: string }>;
  data?: { output_schema: Array<{ node_id: string }> };
}

async function deploy(name: string, workflow: unknown): Promise<{ status: number; body: DeployAnswer }> {
  const response = await server.request('/api/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, workflow }),
  });
  return { status: response.status, body: (await response.json()) as DeployAnswer };
}

const rendered = (ckpt: string) => ({
  '1': { class_type: 'EngineTestCheckpointLoader', inputs: { ckpt_name: ckpt } },
  '2': { class_type: 'EngineTestRender', inputs: { model: ['1', 0], width: 4, height: 4, seconds: 0 } },
  '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'x' } },
});

const fleetOf = async () => (await (await server.request('/api/v1/admin/fleet')).json()).data[0];

/** Runs a deployed workflow through the SDK: its entries (with download URLs) and the run's record. */
async function run(name: string) {
  let runId = '';
  const result = await server.api.executeWorkflowAsync(name, {}, undefined, 100, 30_000, {
    onIntermediateResponse: (update) => {
      if (update.type === 'workflow_submitted') runId = update.runId;
    },
  });
  expect(result.status).toBe('success');
  const record = (await server.api.getRun(runId)).data;
  return { entries: result.data, outputs: record.outputs ?? [] };
}

async function download(url: string | undefined): Promise<{ type: string | null; bytes: Buffer }> {
  expect(url).toEqual(expect.any(String));
  const response = await fetch(url!);
  expect(response.status).toBe(200);
  return { type: response.headers.get('content-type'), bytes: Buffer.from(await response.arrayBuffer()) };
}

describe('model files', () => {
  it('recognises the loader input as a model input from the data, not from its class name', async () => {
    const fleet = await fleetOf();
    expect(fleet.models.checkpoints).toEqual(['present.safetensors']);
    expect(fleet.model_inputs).toContainEqual({
      class_type: 'EngineTestCheckpointLoader',
      input: 'ckpt_name',
      folder: 'checkpoints',
    });
    // A combo whose options are not model files is not one (SaveAnimatedWEBP's `method`).
    expect(fleet.model_inputs).not.toContainEqual(expect.objectContaining({ input: 'method' }));
  });

  it('a checkpoint no backend has is refused with the node, class and file named', async () => {
    const { status, body } = await deploy('needs-missing', rendered('missing.safetensors'));
    expect({ status, code: body.code }).toEqual({ status: 422, code: 'INVALID_WORKFLOW' });
    expect(body.details).toEqual([
      expect.objectContaining({
        kind: 'missing_model',
        node_id: '1',
        class_type: 'EngineTestCheckpointLoader',
        input: 'ckpt_name',
        message:
          'node 1 (EngineTestCheckpointLoader): input ckpt_name: no backend has model checkpoints/missing.safetensors',
      }),
    ]);
    expect((await server.api.getWorkflows()).data.map((w) => w.name)).not.toContain('needs-missing');
  });

  it('once the file is on the backend, the same workflow deploys runnable and runs', async () => {
    fs.writeFileSync(path.join(checkpoints(), 'missing.safetensors'), 'more weights');
    await waitFor(fleetOf, (fleet) => fleet.models.checkpoints.includes('missing.safetensors'));
    const { status } = await deploy('needs-missing', rendered('missing.safetensors'));
    expect(status).toBe(201);
    const listed = (await server.api.getWorkflows()).data.find((w) => w.name === 'needs-missing');
    expect(listed).toMatchObject({ status: 'runnable', status_reasons: [] });
    const { outputs } = await run('needs-missing');
    expect(outputs).toEqual([expect.objectContaining({ node_id: '3', content_type: 'image/png' })]);
  });

  it('a checkpoint in a subfolder is named by its path in the folder, as ComfyUI lists it', async () => {
    fs.mkdirSync(path.join(checkpoints(), 'xl'));
    fs.writeFileSync(path.join(checkpoints(), 'xl', 'deep.safetensors'), 'deep weights');
    await waitFor(fleetOf, (fleet) => fleet.models.checkpoints.includes('xl/deep.safetensors'));
    const missing = await deploy('deep', rendered('xl/absent.safetensors'));
    expect(missing.status).toBe(422);
    expect(missing.body.details?.[0]?.message).toContain(
      'no backend has model checkpoints/xl/absent.safetensors',
    );
    expect((await deploy('deep', rendered('xl/deep.safetensors'))).status).toBe(201);
    const { outputs } = await run('deep');
    expect(outputs).toEqual([expect.objectContaining({ node_id: '3', content_type: 'image/png' })]);
  });

  it('when the file goes, the deployed workflow turns not_runnable and is refused at submit', async () => {
    const statusOf = async () =>
      (await server.api.getWorkflows()).data.find((w) => w.name === 'needs-missing') as
        | Record<string, unknown>
        | undefined;
    fs.rmSync(path.join(checkpoints(), 'missing.safetensors'));
    const gone = await waitFor(statusOf, (workflow) => workflow?.status === 'not_runnable');
    expect(gone?.status_reasons).toEqual([
      expect.objectContaining({
        kind: 'missing_model',
        node_id: '1',
        class_type: 'EngineTestCheckpointLoader',
        message:
          'node 1 (EngineTestCheckpointLoader): input ckpt_name: no backend has model checkpoints/missing.safetensors',
      }),
    ]);
    const refused = await server.request('/api/v1/runs?workflow_id=needs-missing', { method: 'POST' });
    const body = await refused.json();
    expect({ status: refused.status, code: body.code }).toEqual({
      status: 409,
      code: 'WORKFLOW_NOT_RUNNABLE',
    });
    expect(body.details).toEqual([expect.objectContaining({ node_id: '1', input: 'ckpt_name' })]);

    fs.writeFileSync(path.join(checkpoints(), 'missing.safetensors'), 'back again');
    await waitFor(statusOf, (workflow) => workflow?.status === 'runnable');
  });
});

describe('a custom output node', () => {
  it('is an output from the engine says so, and its output comes back through the SDK', async () => {
    const text = 'written by a custom node: ünïcode ✓';
    const { status, body } = await deploy('custom-output', {
      '1': { class_type: 'EngineTestCustomOutput', inputs: { text, filename_prefix: 'custom/x' } },
    });
    expect(status).toBe(201);
    expect(body.data?.output_schema.map((output) => output.node_id)).toEqual(['1']);
    const { entries, outputs } = await run('custom-output');
    expect(outputs).toEqual([
      expect.objectContaining({ node_id: '1', content_type: 'text/plain; charset=utf-8' }),
    ]);
    // The SDK hands text over inline; the run's signed URL serves the same text as a file.
    expect(entries).toEqual([expect.objectContaining({ file_content: text, generation_status: 'success' })]);
    const file = await download(outputs[0]?.url ?? undefined);
    expect(file.type).toBe('text/plain; charset=utf-8');
    expect(file.bytes.toString('utf8')).toBe(text);
  });
});

const frame = (color: number) => ({
  class_type: 'EmptyImage',
  inputs: { width: 8, height: 6, batch_size: 1, color },
});

/** Two frames, red then blue, into every kind of output node the engine has. */
const everyKind = {
  '1': frame(0xff0000),
  '2': frame(0x0000ff),
  '3': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['2', 0] } },
  '10': {
    class_type: 'SaveAnimatedWEBP',
    inputs: {
      images: ['3', 0],
      filename_prefix: 'w',
      fps: 4,
      lossless: true,
      quality: 80,
      method: 'default',
    },
  },
  '11': {
    class_type: 'SaveAnimatedPNG',
    inputs: { images: ['3', 0], filename_prefix: 'p', fps: 4, compress_level: 4 },
  },
  '12': { class_type: 'EngineTestSaveVideo', inputs: { images: ['3', 0], filename_prefix: 'v', fps: 4 } },
  '13': { class_type: 'EngineTestSaveAudio', inputs: { filename_prefix: 'a', seconds: 0.1, frequency: 440 } },
  '14': { class_type: 'PrimitiveString', inputs: { value: 'saved text' } },
  '15': { class_type: 'FSSaveText', inputs: { text: ['14', 0], filename_prefix: 't' } },
  '16': { class_type: 'PreviewAny', inputs: { source: ['14', 0] } },
};

const ascii = (bytes: Buffer, start: number, end: number) => bytes.subarray(start, end).toString('latin1');

/** The PNG chunk types in file order. */
function pngChunks(bytes: Buffer): string[] {
  const types: string[] = [];
  for (let at = 8; at + 8 <= bytes.length; at += 12 + bytes.readUInt32BE(at))
    types.push(ascii(bytes, at + 4, at + 8));
  return types;
}

describe('every kind of output', () => {
  let byNode: Map<string, { content_type?: string; inline?: string; type: string | null; bytes: Buffer }>;

  let schema: string[];

  beforeAll(async () => {
    const { status, body } = await deploy('every-kind', everyKind);
    expect(status).toBe(201);
    schema = body.data?.output_schema.map((output) => output.node_id) ?? [];
    const { entries, outputs } = await run('every-kind');
    expect(entries).toHaveLength(outputs.length);
    byNode = new Map();
    for (const output of outputs) {
      const entry = entries.find((candidate) => candidate.filename === output.filename);
      expect(byNode.has(output.node_id!), `node ${output.node_id} gave one output`).toBe(false);
      // Files through the SDK's download URL; text comes inline there, and as a file at the run's URL.
      const url = entry?.download_url ?? output.url ?? undefined;
      byNode.set(output.node_id!, {
        content_type: output.content_type,
        inline: entry?.file_content,
        ...(await download(url)),
      });
    }
  });

  const served = (node: string, type: string) => {
    const output = byNode.get(node);
    expect(output, `an output of node ${node}`).toBeDefined();
    expect(output!.content_type).toBe(type);
    expect(output!.type).toBe(type);
    return output!.bytes;
  };

  it('gives one output per output node, nothing from the others', () => {
    expect(schema.sort()).toEqual(['10', '11', '12', '13', '15', '16']);
    expect([...byNode.keys()].sort()).toEqual(['10', '11', '12', '13', '15', '16']);
  });

  it('SaveAnimatedWEBP: an animated WEBP of both frames, image/webp', async () => {
    const bytes = served('10', 'image/webp');
    expect([ascii(bytes, 0, 4), ascii(bytes, 8, 16)]).toEqual(['RIFF', 'WEBPVP8X']);
    const meta = await sharp(bytes, { animated: true }).metadata();
    // fps 4: ComfyUI gives PIL duration=int(1000 / fps) per frame.
    expect([meta.pages, meta.width, meta.pageHeight, meta.delay]).toEqual([2, 8, 6, [250, 250]]);
    const { data, info } = await sharp(bytes, { page: 1 }).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, ...data.subarray(0, 3)]).toEqual([8, 6, 0, 0, 255]);
  });

  it('SaveAnimatedPNG: an APNG of both frames, image/png', () => {
    const bytes = served('11', 'image/png');
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const chunks = pngChunks(bytes);
    expect(chunks.indexOf('acTL')).toBeGreaterThan(0);
    expect(chunks.indexOf('acTL')).toBeLessThan(chunks.indexOf('IDAT'));
    expect(chunks.filter((type) => type === 'fcTL')).toHaveLength(2);
    expect(chunks.at(-1)).toBe('IEND');
    const acTL = bytes.indexOf('acTL');
    expect(bytes.readUInt32BE(acTL + 4)).toBe(2); // num_frames
    // Each frame control: 8 x 6 at 250 ms (delay_num / delay_den seconds).
    const fcTL = bytes.indexOf('fcTL');
    expect([bytes.readUInt32BE(fcTL + 8), bytes.readUInt32BE(fcTL + 12)]).toEqual([8, 6]);
    expect(bytes.readUInt16BE(fcTL + 24) / bytes.readUInt16BE(fcTL + 26)).toBe(0.25);
  });

  it('the video node: an AVI, video/x-msvideo', () => {
    const bytes = served('12', 'video/x-msvideo');
    expect([ascii(bytes, 0, 4), ascii(bytes, 8, 12)]).toEqual(['RIFF', 'AVI ']);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    // Two Motion-JPEG frames, each a JPEG of its own.
    expect(bytes.indexOf('00dc')).toBeGreaterThan(0);
    expect(bytes.indexOf(Buffer.from([0xff, 0xd8, 0xff]))).toBeGreaterThan(0);
  });

  it('the audio node: a WAV, audio/wav', () => {
    const bytes = served('13', 'audio/wav');
    expect([ascii(bytes, 0, 4), ascii(bytes, 8, 16)]).toEqual(['RIFF', 'WAVEfmt ']);
    expect(bytes.readUInt32LE(4)).toBe(bytes.length - 8);
    // PCM, mono, 16 kHz, 16-bit; 0.1 s is 1600 samples of 2 bytes.
    expect([
      bytes.readUInt16LE(20),
      bytes.readUInt16LE(22),
      bytes.readUInt32LE(24),
      bytes.readUInt16LE(34),
    ]).toEqual([1, 1, 16_000, 16]);
    expect([ascii(bytes, 36, 40), bytes.readUInt32LE(40)]).toEqual(['data', 3200]);
  });

  it('text outputs (FSSaveText, PreviewAny): the text, text/plain, inline through the SDK', () => {
    for (const node of ['15', '16']) {
      expect(served(node, 'text/plain; charset=utf-8').toString('utf8')).toBe('saved text');
      expect(byNode.get(node)?.inline).toBe('saved text');
    }
  });

  it('binary outputs are not inlined', () => {
    for (const node of ['10', '11', '12', '13']) expect(byNode.get(node)?.inline).toBeUndefined();
  });
});
