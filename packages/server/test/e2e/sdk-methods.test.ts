import { FlowScaleError } from 'flowscale';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { sdkClient, startTestServer, type TestServer, waitFor } from '../support/harness';
import { solidPng } from '../support/png';

// Every SDK method against the real server driving the embedded engine over real sockets.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe('SDK against the server', () => {
  it('checkHealth and getQueue answer per container', async () => {
    // The server may answer before its socket to the engine is open; until then the container is unreachable.
    const health = await waitFor(
      () => server.api.checkHealth(),
      (response) => response.data[0]?.status !== 'unreachable',
    );
    expect(health.status).toBe('success');
    // Each container also carries its inventory (node count, models, devices): extra fields.
    expect(health.data).toEqual([
      expect.objectContaining({ container: 'container #1', status: expect.stringMatching(/idle|running/) }),
    ]);
    const queue = await server.api.getQueue();
    expect(queue.data[0]?.container).toBe('container #1');
    expect(queue.data[0]?.queue).toHaveProperty('queue_running');
    expect(queue.data[0]?.queue).toHaveProperty('queue_pending');
  });

  it('getWorkflows returns the shipped workflows in the documented shape', async () => {
    const { data } = await server.api.getWorkflows();
    const byName = Object.fromEntries(data.map((workflow) => [workflow.name, workflow]));
    expect(Object.keys(byName)).toEqual(
      expect.arrayContaining(['text-echo', 'invert-image', 'solid-color', 'blur-image', 'slow-delay']),
    );
    expect(JSON.parse(byName['text-echo']!.inputs)).toEqual({ default_value_1: 'string' });
    expect(JSON.parse(byName['text-echo']!.outputs)).toEqual({ filename_prefix_3: 'string' });
    expect(JSON.parse(byName['invert-image']!.inputs)).toEqual({ image_1: 'image' });
    expect(JSON.parse(byName['blur-image']!.inputs)).toEqual({ image_1: 'image', value_2: 'integer' });
    expect(JSON.parse(byName['slow-delay']!.inputs)).toEqual({
      default_value_1: 'string',
      value_4: 'number',
    });
    expect(byName['text-echo']!.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('getWorkflow by id and by name gives the same parsed schema', async () => {
    const byName = await server.api.getWorkflow('solid-color');
    const byId = await server.api.getWorkflow(byName.data.id);
    expect(byId.data).toEqual(byName.data);
    expect(byName.data.input_schema).toEqual([
      expect.objectContaining({
        name: 'default_value_1',
        type: 'integer',
        required: false,
        default: 128,
        node_id: '1',
      }),
    ]);
  });

  it('executeWorkflowAsync returns text outputs as file_content (event stream and polling)', async () => {
    for (const mode of ['sse', 'poll'] as const) {
      const result = await server.api.executeWorkflowAsync(
        'text-echo',
        { default_value_1: `hi ${mode}` },
        undefined,
        100,
        30_000,
        { mode },
      );
      expect(result.status).toBe('success');
      expect(result.data).toHaveLength(1);
      expect(result.data[0]).toMatchObject({
        file_content: `hi ${mode} from FlowScale`,
        generation_status: 'success',
      });
      expect(result.data[0]!.filename).toMatch(/^filename_prefix_3_[A-Z0-9]{10}\.txt$/);
    }
  });

  it('executeWorkflowAsync uploads an image and returns a signed download URL of the inverted PNG', async () => {
    const png = solidPng(4, 3, [10, 200, 30]);
    const result = await server.api.executeWorkflowAsync(
      'invert-image',
      { image_1: new Blob([new Uint8Array(png)], { type: 'image/png' }) },
      undefined,
      100,
      30_000,
    );
    const entry = result.data[0]!;
    expect(entry.download_url).toMatch(
      /\/api\/v1\/files\/filename_prefix_3_[A-Z0-9]{10}\.png\?expires=\d+&signature=/,
    );
    const download = await fetch(entry.download_url!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    const bytes = Buffer.from(await download.arrayBuffer());
    expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    // A tampered signature is refused.
    // Another first character for sure: a fixed 'X' left the signature as it was one time in 64.
    const tampered = await fetch(
      entry.download_url!.replace(/signature=(.)/, (_, first) => `signature=${first === 'A' ? 'B' : 'A'}`),
    );
    expect(tampered.status).toBe(403);
  });

  it('a LoadImage input left out uses the graph default (the engine example image)', async () => {
    const result = await server.api.executeWorkflowAsync(
      'blur-image',
      { value_2: 5 },
      undefined,
      100,
      30_000,
    );
    expect(result.data).toHaveLength(1);
    expect(result.data[0]!.filename).toMatch(/^filename_prefix_4_[A-Z0-9]{10}\.png$/);
    const image = await fetch(result.data[0]!.download_url!);
    expect(image.headers.get('content-type')).toBe('image/png');
  });

  it('executeWorkflow + getRun + getOutput + getRuns with a group', async () => {
    const group = `group-${Date.now()}`;
    const submitted = await server.api.executeWorkflow('solid-color', { default_value_1: 8 }, group);
    expect(submitted.data.run_id).toBeTruthy();
    expect(submitted.data.output_names).toEqual([expect.stringMatching(/^filename_prefix_3_[A-Z0-9]{10}$/)]);
    const run = await waitFor(
      () => server.api.getRun(submitted.data.run_id),
      (response) => response.data.status === 'completed',
    );
    expect(run.data).toMatchObject({
      _id: submitted.data.run_id,
      group_id: group,
      progress: 100,
      error: null,
    });
    expect(run.data.outputs?.[0]).toMatchObject({ content_type: 'image/png', node_id: '3' });
    const name = submitted.data.output_names?.[0] ?? '';
    const withoutExtension = await server.api.getOutput(name);
    const withExtension = await server.api.getOutput(`${name}.png`);
    expect(withoutExtension?.data.download_url).toBeTruthy();
    expect(withExtension?.data.download_url).toBe(withoutExtension?.data.download_url);

    const runs = await server.api.getRuns(group);
    expect(runs.data.count).toBe(1);
    expect(runs.data.runs.map((r) => r._id)).toEqual([submitted.data.run_id]);
    expect(runs.meta).toMatchObject({ page: 1, page_size: 10, total_count: 1, total_pages: 1 });
  });

  it('subscribeRunEvents streams ordered events ending with the terminal one', async () => {
    const submitted = await server.api.executeWorkflow('text-echo', { default_value_1: 'events' });
    const events: Array<{ id: string | undefined; type: string; seq: number }> = [];
    const subscription = server.api.subscribeRunEvents(submitted.data.run_id, {
      onEvent: (event) => events.push({ id: event.id, type: event.data.type, seq: event.data.seq }),
    });
    await subscription.done;
    expect(events[0]).toMatchObject({ id: '1', type: 'run.queued', seq: 1 });
    expect(events.at(-1)?.type).toBe('run.completed');
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.map((event) => event.type)).toContain('output.ready');
  });

  it('connectWebSocket receives run_status_update for a subscribed run', async () => {
    const updates: Array<{ run_id: string; status: string }> = [];
    let opened!: () => void;
    const open = new Promise<void>((resolve) => {
      opened = resolve;
    });
    const disconnect = server.api.connectWebSocket({
      onOpen: () => opened(),
      onMessage: (message) => {
        if (message.type === 'run_status_update')
          updates.push(message.data as { run_id: string; status: string });
      },
    });
    try {
      await open;
      const submitted = await server.api.executeWorkflow('text-echo', { default_value_1: 'ws' });
      expect(
        server.api.sendWebSocketMessage({
          type: 'client_event',
          data: { action: 'subscribe', runId: submitted.data.run_id },
        }),
      ).toBe(true);
      await waitFor(
        async () => updates.filter((update) => update.run_id === submitted.data.run_id),
        (mine) => mine.some((update) => update.status === 'completed'),
      );
      expect(server.api.isWebSocketConnected()).toBe(true);
    } finally {
      disconnect();
    }
    server.api.disconnectWebSocket();
    expect(server.api.isWebSocketConnected()).toBe(false);
  });

  it('a retried executeWorkflow with the same Idempotency-Key returns the same run', async () => {
    const idempotencyKey = `retry-${Date.now()}`;
    const first = await server.api.executeWorkflow('text-echo', { default_value_1: 'once' }, undefined, {
      idempotencyKey,
    });
    const retry = await server.api.executeWorkflow('text-echo', { default_value_1: 'once' }, undefined, {
      idempotencyKey,
    });
    expect(retry.data.run_id).toBe(first.data.run_id);
    const runs = await server.api.getRuns(undefined, { pageSize: 100 });
    expect(runs.data.runs.filter((run) => run._id === first.data.run_id)).toHaveLength(1);
    // Let it finish here: its late events would otherwise reach the unsubscribed sockets of the next tests.
    await waitFor(
      () => server.api.getRun(first.data.run_id),
      (response) => response.data.status === 'completed',
    );
  });

  it('WebSocket: browsers authenticate with the flowscale.key.<key> subprotocol; bad keys never upgrade', async () => {
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/api/v1/ws`;
    const browserLike = new WebSocket(wsUrl, ['flowscale', `flowscale.key.${server.key}`]);
    await new Promise((resolve, reject) => {
      browserLike.once('open', resolve);
      browserLike.once('error', reject);
    });
    expect(browserLike.protocol).toBe('flowscale');
    browserLike.send('not json');
    // A socket with no subscriptions also hears every run's updates (other tests' runs may still end).
    const reply = await new Promise<string>((resolve) =>
      browserLike.on('message', (data) => {
        if (JSON.parse(String(data)).type !== 'run_status_update') resolve(String(data));
      }),
    );
    expect(JSON.parse(reply)).toMatchObject({ type: 'error' });
    browserLike.close();

    for (const protocols of [['flowscale', 'flowscale.key.wrong'], ['flowscale']]) {
      const refused = new WebSocket(wsUrl, protocols);
      refused.on('error', () => undefined); // the refused handshake also surfaces as an error event
      const status = await new Promise<number>((resolve) => {
        refused.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        refused.once('open', () => resolve(101));
      });
      expect(status).toBe(401);
      refused.terminate();
    }
  });

  it('WebSocket: X-API-KEY header works; refusals are contract envelopes; unknown paths and plain GETs are 404', async () => {
    const wsUrl = `${server.url.replace(/^http/, 'ws')}/api/v1/ws`;
    const withHeader = new WebSocket(wsUrl, { headers: { 'x-api-key': server.key } });
    await new Promise((resolve, reject) => {
      withHeader.once('open', resolve);
      withHeader.once('error', reject);
    });
    withHeader.send(JSON.stringify({ type: 'client_event', data: { action: 'subscribe', runId: 'nope' } }));
    const ack = await new Promise<string>((resolve) =>
      withHeader.once('message', (data) => resolve(String(data))),
    );
    expect(JSON.parse(ack)).toEqual({ type: 'subscribed', data: { runId: 'nope' } });
    withHeader.close();

    const refusal = async (url: string, headers: Record<string, string>) => {
      const socket = new WebSocket(url, { headers });
      socket.on('error', () => undefined);
      return new Promise<{ status: number; body: unknown }>((resolve) => {
        socket.once('unexpected-response', (_request, response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
        });
        socket.once('open', () => resolve({ status: 101, body: null }));
      });
    };
    expect(await refusal(wsUrl, { 'x-api-key': 'wrong' })).toEqual({
      status: 401,
      body: { status: 'error', errors: 'Invalid or revoked API key', code: 'UNAUTHORIZED' },
    });
    const unknown = await refusal(`${server.url.replace(/^http/, 'ws')}/api/v1/nowhere`, {
      'x-api-key': server.key,
    });
    expect(unknown).toMatchObject({ status: 404, body: { status: 'error', code: 'NOT_FOUND' } });
    const plain = await server.request('/api/v1/ws');
    expect(plain.status).toBe(404);
    expect(await plain.json()).toMatchObject({ status: 'error', code: 'NOT_FOUND' });
  });

  it('cancelRun on a finished run is a 409', async () => {
    const result = await server.api.executeWorkflow('text-echo', { default_value_1: 'x' });
    await waitFor(
      () => server.api.getRun(result.data.run_id),
      (response) => response.data.status === 'completed',
    );
    const error = await server.api.cancelRun(result.data.run_id).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect((error as FlowScaleError).status).toBe(409);
    expect((error as FlowScaleError).code).toBe('RUN_ALREADY_FINISHED');
  });

  it('admin: deploy, re-deploy (same id), run, delete a workflow', async () => {
    const workflow = {
      '1': { class_type: 'PrimitiveString', inputs: { value: 'abc' } },
      '2': { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
    };
    const first = await server.api.deployWorkflow({
      name: 'preview-any',
      workflow,
      manifest: { inputs: { value_1: { alias: 'text', description: 'what to echo' } } },
    });
    const again = await server.api.deployWorkflow({ name: 'preview-any', description: 'v2', workflow });
    expect(again.data.id).toBe(first.data.id);
    expect(first.data.input_schema[0]).toMatchObject({ name: 'value_1', alias: 'text', type: 'string' });
    const result = await server.api.executeWorkflowAsync(
      'preview-any',
      { value_1: 'previewed' },
      undefined,
      100,
    );
    expect(result.data[0]?.file_content).toBe('previewed');
    await server.api.deleteWorkflow(first.data.id);
    const gone = await server.api.getWorkflow('preview-any').catch((caught: unknown) => caught);
    expect((gone as FlowScaleError).status).toBe(404);
  });

  it('a workflow with two output nodes returns both outputs, a batch of images as several files', async () => {
    await server.api.deployWorkflow({
      name: 'two-outputs',
      workflow: {
        '1': { class_type: 'EmptyImage', inputs: { width: 4, height: 4, batch_size: 2, color: 255 } },
        '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
        '3': { class_type: 'PrimitiveString', inputs: { value: 'caption' } },
        '4': { class_type: 'PreviewAny', inputs: { source: ['3', 0] } },
      },
    });
    let runId = '';
    const result = await server.api.executeWorkflowAsync('two-outputs', {}, undefined, 100, 30_000, {
      onIntermediateResponse: (update) => {
        if (update.type === 'workflow_submitted') runId = update.runId;
      },
    });
    // The run record lists every stored file: both images of the batch and the text.
    const run = await server.api.getRun(runId);
    expect((run.data.outputs ?? []).map((output) => output.filename).sort()).toEqual([
      expect.stringMatching(/^filename_prefix_2_[A-Z0-9]{10}\.png$/),
      expect.stringMatching(/^filename_prefix_2_[A-Z0-9]{10}_2\.png$/),
      expect.stringMatching(/^source_4_[A-Z0-9]{10}\.txt$/),
    ]);
    const second = run.data.outputs?.find((output) => output.filename.endsWith('_2.png'));
    expect((await server.api.getOutput(second?.filename ?? ''))?.data.download_url).toContain('_2.png');
    // The SDK returns every stored file: each image of the batch, in batch order, and the text.
    expect(result.data.map((entry) => entry.filename).sort()).toEqual(
      (run.data.outputs ?? []).map((output) => output.filename).sort(),
    );
    const images = result.data
      .filter((entry) => entry.filename.endsWith('.png'))
      .map((entry) => entry.filename);
    expect(images[1]).toBe(images[0]?.replace(/\.png$/, '_2.png'));
    expect(result.data.every((entry) => entry.generation_status === 'success')).toBe(true);
    expect(result.data.find((entry) => entry.filename.startsWith('source_4'))?.file_content).toBe('caption');
  });

  it('admin: keys are created once, listed without secrets, and revoked', async () => {
    const created = await server.api.createApiKey({ name: 'ci user', role: 'user' });
    expect(created.data.key).toMatch(/^fs_/);
    const user = sdkClient(server.url, created.data.key);
    expect((await user.getWorkflows()).status).toBe('success');
    const forbidden = await user.listApiKeys().catch((caught: unknown) => caught);
    expect((forbidden as FlowScaleError).status).toBe(403);

    const listed = await server.api.listApiKeys();
    const mine = listed.data.find((record) => record.id === created.data.id);
    expect(mine).toMatchObject({ name: 'ci user', role: 'member', revoked_at: null });
    expect(JSON.stringify(listed.data)).not.toContain(created.data.key);

    await server.api.revokeApiKey(created.data.id);
    const revoked = await user.getWorkflows().catch((caught: unknown) => caught);
    expect((revoked as FlowScaleError).status).toBe(401);
  });
});

describe('WebSocket shutdown', () => {
  it('closing the server closes open WebSocket clients with 1001 and a reason, without hanging', async () => {
    const own = await startTestServer();
    const client = new WebSocket(`${own.url.replace(/^http/, 'ws')}/api/v1/ws`, {
      headers: { 'x-api-key': own.key },
    });
    await new Promise((resolve, reject) => {
      client.once('open', resolve);
      client.once('error', reject);
    });
    const closed = new Promise<[number, string]>((resolve) =>
      client.once('close', (code, reason) => resolve([code, String(reason)])),
    );
    await own.close();
    expect(await closed).toEqual([1001, 'server shutting down']);
  });
});
