import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer } from '../support/harness';

// Deploys are judged against what the real engine says it has (/object_info): each problem is a 422 whose
// details name the node, its class and the input concerned.
let server: TestServer;
let engine: Awaited<ReturnType<typeof startTestEngine>>;

interface Detail {
  field: string;
  message: string;
  kind?: string;
  node_id?: string;
  class_type?: string;
  input?: string;
}

interface Envelope {
  code?: string;
  details?: Detail[];
}

async function deploy(name: string, workflow: unknown): Promise<{ status: number; body: Envelope }> {
  const response = await server.request('/api/v1/admin/workflows', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, workflow }),
  });
  return { status: response.status, body: (await response.json()) as Envelope };
}

async function refused(name: string, workflow: unknown): Promise<Detail[]> {
  const { status, body } = await deploy(name, workflow);
  expect({ status, code: body.code }).toEqual({ status: 422, code: 'INVALID_WORKFLOW' });
  return body.details as Detail[];
}

const save = (from: string) => ({
  class_type: 'SaveImage',
  inputs: { images: [from, 0], filename_prefix: 'x' },
});
const empty = { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0 } };

beforeAll(async () => {
  engine = await startTestEngine();
  server = await startTestServer({ comfyuiUrls: [engine.url] });
});
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

describe('the fleet inventory', () => {
  it('lists each backend: node classes, output nodes, devices, models (admin) and counts (health)', async () => {
    const fleet = (await (await server.request('/api/v1/admin/fleet')).json()).data;
    expect(fleet).toHaveLength(1);
    expect(fleet[0]).toMatchObject({ container: 'container #1', url: engine.url, error: null });
    expect(fleet[0].node_classes).toEqual(expect.arrayContaining(['SaveImage', 'FSLoadImage', 'ImageBlur']));
    expect(fleet[0].output_nodes).toEqual(
      expect.arrayContaining(['SaveImage', 'PreviewImage', 'FSSaveText']),
    );
    expect(fleet[0].output_nodes).not.toContain('ImageBlur');
    expect(fleet[0].devices[0]).toMatchObject({ name: 'cpu', type: 'cpu' });
    expect(fleet[0].system.comfyui_version).toBe('0.3.64');
    const health = (await server.api.checkHealth()).data[0] as unknown as Record<string, unknown>;
    expect(health.node_count).toBe(fleet[0].node_classes.length);
    expect(health.inventory_read_at).toEqual(expect.any(String));
    expect(health.devices).toEqual([expect.objectContaining({ type: 'cpu' })]);
  });

  it('a user key cannot read the fleet', async () => {
    const response = await server.request('/api/v1/admin/keys', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'u', role: 'user' }),
    });
    const key = (await response.json()).data.key as string;
    expect((await server.request('/api/v1/admin/fleet', { key })).status).toBe(403);
  });
});

describe('deploy-time validation', () => {
  it('an unknown class: "no backend has node KSampler"', async () => {
    const details = await refused('unknown-class', {
      '1': empty,
      '2': { class_type: 'KSampler', inputs: { seed: 1 } },
      '3': save('1'),
    });
    expect(details).toEqual([
      expect.objectContaining({
        field: 'workflow',
        kind: 'unknown_class',
        node_id: '2',
        class_type: 'KSampler',
        message: 'node 2 (KSampler): no backend has node KSampler',
      }),
    ]);
  });

  it('a link to a node that is not in the workflow', async () => {
    const details = await refused('missing-node', {
      '1': { class_type: 'ImageInvert', inputs: { image: ['9', 0] } },
      '2': save('1'),
    });
    expect(details).toEqual([
      expect.objectContaining({
        kind: 'missing_node',
        node_id: '1',
        class_type: 'ImageInvert',
        input: 'image',
      }),
    ]);
    expect(details[0]?.message).toContain('links to node 9, which is not in the workflow');
  });

  it('a link to an output slot the node does not have', async () => {
    const details = await refused('missing-slot', {
      '1': empty,
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 3] } },
      '3': save('2'),
    });
    expect(details).toEqual([
      expect.objectContaining({
        kind: 'missing_slot',
        node_id: '2',
        class_type: 'ImageInvert',
        input: 'image',
      }),
    ]);
    expect(details[0]?.message).toContain('output 3 of node 1 (EmptyImage), which has 1 output');
  });

  it('a cycle', async () => {
    const details = await refused('cycle', {
      '1': { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': save('2'),
    });
    expect(details).toEqual([
      expect.objectContaining({ kind: 'cycle', class_type: 'ImageInvert', input: 'image' }),
    ]);
    expect(details[0]?.message).toMatch(/closes a cycle (1 → 2 → 1|2 → 1 → 2)/);
  });

  it('a type mismatch between linked slots', async () => {
    const details = await refused('mismatch', {
      '1': { class_type: 'PrimitiveString', inputs: { value: 'not an image' } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': save('2'),
    });
    expect(details).toEqual([
      expect.objectContaining({
        kind: 'type_mismatch',
        node_id: '2',
        class_type: 'ImageInvert',
        input: 'image',
      }),
    ]);
    expect(details[0]?.message).toContain('expects IMAGE but output 0 of node 1 (PrimitiveString) is STRING');
  });

  it('values outside an input range or its options, and a missing required input', async () => {
    const details = await refused('out-of-range', {
      '1': empty,
      '2': { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 99, sigma: 1 } },
      '3': {
        class_type: 'FSSaveImage',
        inputs: { images: ['2', 0], filename_prefix: 'x', format: 'bmp', quality: 90, lossless: false },
      },
      '4': { class_type: 'ImageInvert', inputs: {} },
    });
    expect(details).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          kind: 'out_of_range',
          node_id: '2',
          class_type: 'ImageBlur',
          input: 'blur_radius',
          message: 'node 2 (ImageBlur): input blur_radius: 99 is above the maximum 31',
        }),
        expect.objectContaining({
          kind: 'not_in_options',
          node_id: '3',
          class_type: 'FSSaveImage',
          input: 'format',
        }),
        expect.objectContaining({
          kind: 'missing_input',
          node_id: '4',
          class_type: 'ImageInvert',
          input: 'image',
        }),
      ]),
    );
    expect(details.find((detail) => detail.input === 'format')?.message).toContain(
      '"bmp" is not one of "png"',
    );
  });

  it('a UI-format save gets told to export with "Save (API Format)"', async () => {
    const details = await refused('ui-format', {
      last_node_id: 3,
      nodes: [{ id: 1 }],
      links: [],
      version: 0.4,
    });
    expect(details).toHaveLength(1);
    expect(details[0]).toMatchObject({ kind: 'ui_format' });
    expect(details[0]?.message).toContain('Save (API Format)');
  });

  it('a workflow some backend can run deploys as runnable, and getWorkflows says where', async () => {
    const { status } = await deploy('fine', {
      '1': { class_type: 'LoadImage', inputs: { image: '' } },
      '2': { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 3, sigma: 1 } },
      '3': save('2'),
    });
    expect(status).toBe(201);
    const listed = (await server.api.getWorkflows()).data.find((workflow) => workflow.name === 'fine');
    expect(listed).toMatchObject({ status: 'runnable', status_reasons: [], runnable_on: ['container #1'] });
    // The shipped folder was judged too, after the inventory was read at start.
    const shipped = (await server.api.getWorkflows()).data.find((workflow) => workflow.name === 'text-echo');
    expect(shipped).toMatchObject({ status: 'runnable' });
  });
});
