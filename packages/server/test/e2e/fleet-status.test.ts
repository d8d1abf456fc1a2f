import fs from 'node:fs';
import { type RunningEngine, startEngine } from '@flowscale/engine';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, tempDir, waitFor } from '../support/harness';

// A server that starts before its backend: nothing is refused for want of an inventory (status unknown);
// once the backend answers, every workflow is judged again, and one it cannot run is refused at submit.
let server: TestServer | undefined;
let engine: RunningEngine | undefined;
const engineDir = tempDir('engine-late');

afterAll(async () => {
  await server?.close();
  await engine?.close();
  fs.rmSync(engineDir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const probe = await startEngine({ port: 0, dataDir: engineDir, logLevel: 'error' });
  await probe.close();
  return probe.port;
}

const statusOf = async (name: string) =>
  (await server!.api.getWorkflows()).data.find((workflow) => workflow.name === name) as
    | Record<string, unknown>
    | undefined;

describe('workflow status follows the fleet', () => {
  it('unknown before any inventory, then runnable or not_runnable; a not_runnable submit is a 409', async () => {
    const port = await freePort();
    server = await startTestServer({
      comfyuiUrls: [`http://127.0.0.1:${port}`],
      inventoryStartupWaitMs: 100,
    });
    const deploy = (name: string, workflow: unknown) =>
      server!.request('/api/v1/admin/workflows', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, workflow }),
      });
    const empty = { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 1, color: 0 } };
    expect(
      (
        await deploy('later-fine', {
          '1': empty,
          '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
        })
      ).status,
    ).toBe(201);
    const sampler = {
      '1': empty,
      '2': { class_type: 'KSampler', inputs: { seed: 1 } },
      '3': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    };
    expect((await deploy('later-sampler', sampler)).status).toBe(201);
    // Structure is checked even with no inventory.
    const cyclic = {
      '1': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
    };
    expect((await deploy('later-cycle', cyclic)).status).toBe(422);
    expect(await statusOf('later-fine')).toMatchObject({ status: 'unknown', status_reasons: [] });
    expect(await statusOf('later-sampler')).toMatchObject({ status: 'unknown' });
    const health = (await server.api.checkHealth()).data[0] as unknown as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'unreachable', inventory_read_at: null });

    engine = await startEngine({ port, dataDir: engineDir, logLevel: 'error' });
    await waitFor(
      () => statusOf('later-fine'),
      (workflow) => workflow?.status === 'runnable',
    );
    expect(await statusOf('later-sampler')).toMatchObject({
      status: 'not_runnable',
      status_reasons: [
        expect.objectContaining({
          kind: 'unknown_class',
          node_id: '2',
          class_type: 'KSampler',
          message: 'node 2 (KSampler): no backend has node KSampler',
        }),
      ],
    });
    const refused = await server.request('/api/v1/runs?workflow_id=later-sampler', { method: 'POST' });
    const body = await refused.json();
    expect({ status: refused.status, code: body.code }).toEqual({
      status: 409,
      code: 'WORKFLOW_NOT_RUNNABLE',
    });
    expect(body.details).toEqual([expect.objectContaining({ node_id: '2', class_type: 'KSampler' })]);
    const runs = (await (await server.request('/api/v1/runs?page_size=10')).json()).data;
    expect(runs.count).toBe(0);
    const result = await server.api.executeWorkflowAsync('later-fine', {}, undefined, 100);
    expect(result.data[0]?.filename).toMatch(/\.png$/);
  });
});
