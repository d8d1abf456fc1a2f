import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixturePath, getJson, startTestEngine, type TestEngine } from './helpers';

const captured = JSON.parse(readFileSync(fixturePath('object_info-core.json'), 'utf8')) as Record<
  string,
  unknown
>;

describe('/object_info', () => {
  let engine: TestEngine;
  let info: Record<string, Record<string, unknown>>;

  beforeAll(async () => {
    engine = await startTestEngine();
    info = (await getJson<typeof info>(`${engine.url}/object_info`)).body;
  });

  afterAll(async () => {
    await engine?.stop();
  });

  it('describes the 30 core nodes exactly as ComfyUI 0.3.64 does (inputs, order, defaults, ranges, choices)', () => {
    expect(Object.keys(captured)).toHaveLength(30);
    for (const [name, def] of Object.entries(captured)) {
      expect({ name, def: info[name] }).toEqual({ name, def });
    }
  });

  it('describes the FlowScale nodes as V1 nodes in FlowScale/IO with "[FS] " display names', () => {
    const fs = Object.values(info).filter((d) => String(d.name).startsWith('FS'));
    expect(fs.map((d) => d.name).sort()).toEqual([
      'FSDelay',
      'FSLoadImage',
      'FSLoadInteger',
      'FSLoadText',
      'FSSaveImage',
      'FSSaveInteger',
      'FSSaveText',
    ]);
    for (const d of fs) {
      expect(d.category).toBe('FlowScale/IO');
      expect(String(d.display_name)).toMatch(/^\[FS\] /);
    }
    const save = info.FSSaveImage as { input: { required: Record<string, unknown> }; output_node: boolean };
    expect(save.output_node).toBe(true);
    expect(save.input.required.format).toEqual([['png', 'jpg', 'jpeg', 'webp', 'avif'], { default: 'png' }]);
    expect(save.input.required.quality).toEqual(['INT', { default: 90, min: 1, max: 100, step: 1 }]);
    const delay = info.FSDelay as {
      input: { required: Record<string, unknown>; optional: Record<string, unknown> };
    };
    expect(delay.input.required.seconds).toEqual(['FLOAT', { default: 1.0, min: 0, max: 3600, step: 0.1 }]);
    expect(delay.input.optional.value).toEqual(['*', {}]);
  });

  it('answers one class, {} for an unknown class, and the same under /api', async () => {
    const one = await getJson(`${engine.url}/api/object_info/EmptyImage`);
    expect(one.body).toEqual({ EmptyImage: captured.EmptyImage });
    expect((await getJson(`${engine.url}/object_info/NoSuchNode`)).body).toEqual({});
  });
});
