import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, startTestServer, type TestServer } from '../support/harness';

// Output nodes come from the engine's /object_info (`output_node: true`); a run keeps every file a node
// left, in batch order, with its media type; previews (`temp` files) count only when nothing else came out.
let server: TestServer;
let engine: Awaited<ReturnType<typeof startTestEngine>>;

beforeAll(async () => {
  engine = await startTestEngine();
  server = await startTestServer({ comfyuiUrls: [engine.url] });
});
afterAll(async () => {
  await server?.close();
  await engine?.close();
});

const solid = (color: number) => ({
  class_type: 'EmptyImage',
  inputs: { width: 4, height: 4, batch_size: 1, color },
});

async function run(name: string, workflow: Record<string, unknown>) {
  const deployed = await server.api.deployWorkflow({ name, workflow });
  let runId = '';
  await server.api.executeWorkflowAsync(name, {}, undefined, 100, 30_000, {
    onIntermediateResponse: (update) => {
      if (update.type === 'workflow_submitted') runId = update.runId;
    },
  });
  const record = (await server.api.getRun(runId)).data;
  return { deployed: deployed.data, outputs: record.outputs ?? [] };
}

async function firstPixel(filename: string): Promise<number[]> {
  const url = (await server.api.getOutput(filename))?.data.download_url;
  const bytes = Buffer.from(await (await fetch(url!)).arrayBuffer());
  const { data } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return [...data.subarray(0, 3)];
}

describe('outputs', () => {
  it('a batch is stored in batch order, each file with its media type', async () => {
    const { outputs } = await run('batch-order', {
      '1': solid(0xff0000),
      '2': solid(0x0000ff),
      '3': { class_type: 'ImageBatch', inputs: { image1: ['1', 0], image2: ['2', 0] } },
      '4': { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'x' } },
    });
    expect(outputs.map((output) => output.content_type)).toEqual(['image/png', 'image/png']);
    const [first, second] = outputs.map((output) => output.filename).sort();
    expect(second).toBe(first!.replace(/\.png$/, '_2.png'));
    expect(await firstPixel(first!)).toEqual([255, 0, 0]);
    expect(await firstPixel(second!)).toEqual([0, 0, 255]);
  });

  it('a preview beside a saved image is not a run output', async () => {
    const { deployed, outputs } = await run('save-and-preview', {
      '1': solid(0x00ff00),
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
      '3': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    });
    // Both are output nodes of the engine; only the saved file is the workflow's output.
    expect(deployed.output_schema.map((output) => output.node_id)).toEqual(['2']);
    expect(outputs).toEqual([expect.objectContaining({ node_id: '2', content_type: 'image/png' })]);
  });

  it('a workflow that only previews returns its preview', async () => {
    const { outputs } = await run('only-preview', {
      '1': solid(0x00ff00),
      '2': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    });
    expect(outputs).toEqual([
      expect.objectContaining({
        node_id: '2',
        content_type: 'image/png',
        filename: expect.stringMatching(/^images_2_[A-Z0-9]{10}\.png$/),
      }),
    ]);
    expect(await firstPixel(outputs[0]!.filename)).toEqual([0, 255, 0]);
  });
});
