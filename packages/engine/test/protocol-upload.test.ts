import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  describe as describeMessage,
  getJson,
  runPrompt,
  solidPng,
  startTestEngine,
  type TestEngine,
  upload,
  WsClient,
} from './helpers';
import { httpRecords, loadTranscript, socketSequence } from './transcript';

const records = loadTranscript('transcript-upload.json');
const workflow = (httpRecords(records, 'POST', '/prompt')[0]!.req as { prompt: Record<string, unknown> })
  .prompt;

describe('replay of transcript-upload (uploads, then workflows reading them)', () => {
  let engine: TestEngine;
  let a: WsClient;
  let red: Buffer;
  let blue: Buffer;

  beforeAll(async () => {
    engine = await startTestEngine();
    a = await WsClient.connect(engine.url, 'client-A');
    red = await solidPng(4, 4, [255, 0, 0]);
    blue = await solidPng(4, 4, [0, 0, 255]);
  });

  afterAll(async () => {
    a?.close();
    await engine?.stop();
  });

  it('stores uploads like ComfyUI: dedupe identical bytes, rename on conflict, overwrite, subfolder, type', async () => {
    const probe = (data: Buffer) => ({ name: 'probe.png', data });
    const results = [
      await upload(engine.url, probe(red)),
      await upload(engine.url, probe(red)),
      await upload(engine.url, probe(blue)),
      await upload(engine.url, probe(blue), { overwrite: 'true' }),
      await upload(engine.url, probe(red), { subfolder: 'sub/dir', type: 'input' }),
      await upload(engine.url, { name: 'tmp.png', data: red }, { type: 'temp' }),
      await upload(engine.url, { name: 'out.png', data: red }, { type: 'output' }),
    ];
    const captured = httpRecords(records, 'POST', '/upload/image')
      .filter((r) => r.status === 200)
      .slice(0, 7);
    expect(results.map((r) => r.body)).toEqual(captured.map((r) => r.resp));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(await readFile(path.join(engine.dataDir, 'input', 'probe.png'))).toEqual(blue);
    expect(await readFile(path.join(engine.dataDir, 'input', 'probe (1).png'))).toEqual(blue);
  });

  it('rejects traversal, a missing file and a wrong field name with 400 (and a JSON reason)', async () => {
    const traversal = await upload(engine.url, { name: 'evil.png', data: red }, { subfolder: '../../etc' });
    const noFile = await upload(engine.url, null, {});
    const wrongField = await upload(engine.url, { name: 'file.png', data: red, field: 'file' });
    expect([traversal.status, noFile.status, wrongField.status]).toEqual([400, 400, 400]);
    // A path in the part's file name is reduced to its base name by the multipart parser.
    const pathName = await upload(engine.url, { name: '../evil.png', data: red }, { subfolder: 'sandbox' });
    expect(pathName.body).toEqual({ name: 'evil.png', subfolder: 'sandbox', type: 'input' });
    expect(await readFile(path.join(engine.dataDir, 'input', 'sandbox', 'evil.png'))).toEqual(red);
    expect(traversal.body?.error).toMatchObject({
      type: 'invalid_upload',
      message: expect.stringContaining('subfolder'),
    });
  });

  it('lists top-level input images in LoadImage choices and serves subfolder and annotated names', async () => {
    const info = await getJson<Record<string, { input: { required: { image: unknown[] } } }>>(
      `${engine.url}/object_info/LoadImage`,
    );
    expect(info.body.LoadImage?.input.required.image).toEqual([
      ['example.png', 'probe (1).png', 'probe.png'],
      { image_upload: true },
    ]);
    expect((await fetch(`${engine.url}/view?filename=probe.png&subfolder=sub/dir&type=input`)).status).toBe(
      200,
    );
    expect(
      (await fetch(`${engine.url}/view?filename=${encodeURIComponent('probe.png [input]')}`)).status,
    ).toBe(200);
  });

  it('builds a mask upload from the original image and the uploaded alpha', async () => {
    const mask = await solidPng(4, 4, [0, 0, 0, 64]);
    const ref = JSON.stringify({ filename: 'probe.png', subfolder: '', type: 'input' });
    const res = await upload(
      engine.url,
      { name: 'clipspace-mask-1.png', data: mask },
      { original_ref: ref, type: 'input', subfolder: 'clipspace' },
      '/upload/mask',
    );
    expect(res).toEqual({
      status: 200,
      body: { name: 'clipspace-mask-1.png', subfolder: 'clipspace', type: 'input' },
    });
    const stored = await sharp(path.join(engine.dataDir, 'input', 'clipspace', 'clipspace-mask-1.png'))
      .raw()
      .toBuffer();
    expect([...stored.subarray(0, 4)]).toEqual([0, 0, 255, 64]);
    const missing = await upload(
      engine.url,
      { name: 'mask2.png', data: mask },
      { original_ref: JSON.stringify({ filename: 'nonexistent.png', type: 'input' }) },
      '/upload/mask',
    );
    expect(missing.status).toBe(400);
  });

  it('runs the captured workflow with the same message sequence, and re-runs only the overwritten branch', async () => {
    await upload(engine.url, { name: 'probe.png', data: red }, { overwrite: 'true' });
    a.clear();
    await runPrompt(engine, a, workflow);
    await upload(engine.url, { name: 'probe.png', data: blue }, { overwrite: '1' });
    await runPrompt(engine, a, workflow);
    expect(a.events.map(describeMessage)).toEqual(socketSequence(records, 'A'));
    expect(a.withProgressState.map(describeMessage)).toEqual(socketSequence(records, 'A', true));
    const saved = a.events.filter((m) => m.type === 'executed' && m.data.node === '5');
    expect(
      saved.map((m) => (m.data.output as { images: { filename: string }[] }).images[0]?.filename),
    ).toEqual(['loaded_00001_.png', 'loaded_00002_.png']);
  });
});
