import { describe, expect, it } from 'vitest';
import { type AsyncUpdate, FlowScaleError, RunFailedError, TimeoutError } from '../src/index';
import { captureConsole, clientFor, contractServerPerTest, recordDelays } from './support/client';
import type { ContractServer } from './support/contract-server';

const serve = contractServerPerTest();

const polls = (s: ContractServer) =>
  s.requests.filter((r) => /^\/api\/v1\/runs\/[^/]+$/.test(r.path) && r.path !== '/api/v1/runs/output')
    .length;

describe('executeWorkflowAsync over the event stream', () => {
  it('resolves with the 2.0 array format as soon as the run completes, without polling', async () => {
    const s = await serve();
    const updates: AsyncUpdate[] = [];
    const recorder = recordDelays();
    const onIntermediateResponse = (u: AsyncUpdate) => updates.push(u);
    const result = await clientFor(s)
      .executeWorkflowAsync('text-echo', { default_value_1: 'hey' }, 'g', 5000, 10_000, {
        onIntermediateResponse,
      })
      .finally(() => recorder.restore());
    // No poll interval was ever waited; one getRun reads the finished run's outputs.
    expect(recorder.delays).toEqual([]);
    expect(result.status).toBe('success');
    expect(result.data).toEqual([
      {
        filename: expect.stringMatching(/^filename_prefix_3_[A-Z0-9]{10}\.txt$/),
        file_content: 'hey from FlowScale',
        generation_status: 'success',
      },
    ]);
    expect(polls(s)).toBe(1);
    const paths = s.requests.map((r) => r.path);
    expect(paths.filter((p) => p.endsWith('/events'))).toHaveLength(1);
    const runRead = paths.findIndex((p) => /^\/api\/v1\/runs\/[\w-]{36}$/.test(p));
    expect(paths.findIndex((p) => p.endsWith('/events'))).toBeLessThan(runRead);
    const types = updates.map((u) => u.type);
    expect(types[0]).toBe('workflow_submitted');
    expect(types).toContain('run_status');
    expect(types).toContain('output_status');
    expect(types.at(-1)).toBe('completed');
    expect(updates.at(-1)).toMatchObject({ type: 'completed', data: result });
  });

  it('collects every output of a multi-output run, with download_url for files', async () => {
    const s = await serve();
    const result = await clientFor(s).executeWorkflowAsync('two-outputs', { default_value_1: 'two' });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]).toMatchObject({
      file_content: 'two from FlowScale',
      generation_status: 'success',
    });
    expect(result.data[1]).toMatchObject({
      filename: expect.stringMatching(/\.png$/),
      download_url: expect.stringContaining('/files/'),
    });
  });

  for (const mode of ['sse', 'poll'] as const) {
    it(`returns every file of a batch output, in batch order, then the next output (${mode})`, async () => {
      const s = await serve();
      const result = await clientFor(s).executeWorkflowAsync(
        'image-batch',
        { default_value_1: 'many' },
        undefined,
        10,
        20_000,
        { mode },
      );
      const name = /^(filename_prefix_3_[A-Z0-9]{10})\.png$/.exec(result.data[0]?.filename ?? '')?.[1];
      expect(result).toEqual({
        status: 'success',
        data: [
          {
            filename: `${name}.png`,
            download_url: `${s.url}/files/${name}.png`,
            generation_status: 'success',
          },
          {
            filename: `${name}_2.png`,
            download_url: `${s.url}/files/${name}_2.png`,
            generation_status: 'success',
          },
          {
            filename: `${name}_3.png`,
            download_url: `${s.url}/files/${name}_3.png`,
            generation_status: 'success',
          },
          {
            filename: expect.stringMatching(/^filename_prefix_5_[A-Z0-9]{10}\.txt$/),
            file_content: 'many from FlowScale',
            generation_status: 'success',
          },
        ],
      });
    });
  }

  it('fails fast on a failed run, naming the node and the message', async () => {
    const s = await serve();
    const error = await clientFor(s)
      .executeWorkflowAsync('fail-node', {}, undefined, 2000, 20_000)
      .catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error.message).toMatch(/^Run [\w-]+ failed at node 2 \(KSampler\): Sampler exploded$/);
    expect(error.details).toEqual({ message: 'Sampler exploded', node_id: '2', node_type: 'KSampler' });
    // A RunFailedError, not the TimeoutError it would be had it waited out the 20 s.
    expect(error.code).toBe('run_failed');
  });

  it('fails fast when the run is cancelled elsewhere', async () => {
    const s = await serve();
    const api = clientFor(s);
    const pending = api.executeWorkflowAsync('hang', {}, undefined, 50, 20_000, {
      onIntermediateResponse: (u) => {
        if (u.type === 'workflow_submitted') setTimeout(() => api.cancelRun(u.runId), 30);
      },
    });
    const error = await pending.catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toMatch(/was cancelled/);
    expect(error.code).toBe('run_cancelled');
  });

  it('resumes a dropped event stream and still returns the outputs', async () => {
    const s = await serve({ dropSseAfter: 2 });
    const result = await clientFor(s).executeWorkflowAsync('text-echo', { default_value_1: 'drop' });
    expect(result.data[0]?.file_content).toBe('drop from FlowScale');
    const streams = s.requests.filter((r) => r.path.endsWith('/events'));
    expect(streams.length).toBe(2);
    expect(streams[1]?.headers['last-event-id']).toBe('2');
  });

  for (const mode of ['sse', 'poll'] as const) {
    it(`an onIntermediateResponse that throws is logged and does not disturb the wait (${mode})`, async () => {
      const s = await serve();
      const seen: string[] = [];
      const consoleLines = captureConsole();
      const result = await clientFor(s, { enableLogging: true })
        .executeWorkflowAsync('text-echo', { default_value_1: 'cb' }, undefined, 5, 10_000, {
          mode,
          onIntermediateResponse: (u) => {
            seen.push(u.type);
            throw new Error(`handler bug on ${u.type}`);
          },
        })
        .finally(() => consoleLines.restore());
      expect(result.data[0]?.file_content).toBe('cb from FlowScale');
      // One event stream (no reconnect) in SSE mode: the handler's exception is not a dropped connection.
      expect(s.requests.filter((r) => r.path.endsWith('/events'))).toHaveLength(mode === 'sse' ? 1 : 0);
      expect(seen[0]).toBe('workflow_submitted');
      expect(seen.at(-1)).toBe('completed');
      expect(consoleLines.lines).toContainEqual(
        expect.stringContaining('onIntermediateResponse threw on completed: handler bug on completed'),
      );
    });
  }

  it('times out with "Workflow execution timed out after <ms>ms"', async () => {
    const s = await serve();
    const error = await clientFor(s)
      .executeWorkflowAsync('hang', {}, undefined, 20, 300)
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('Workflow execution timed out after 300ms');
    expect(error.message).toContain('timed out');
  });

  it('stops when the caller aborts', async () => {
    const s = await serve();
    const controller = new AbortController();
    const reason = new Error('user went away');
    setTimeout(() => controller.abort(reason), 100);
    const error = await clientFor(s)
      .executeWorkflowAsync('hang', {}, undefined, 20, 20_000, { signal: controller.signal })
      .catch((e) => e);
    expect(error).toBe(reason);
  });
});

describe('executeWorkflowAsync polling fallback', () => {
  for (const events of ['404', 'json'] as const) {
    it(`falls back to getRun + getOutput polling when the events endpoint answers ${events}`, async () => {
      // Slow steps, so the first poll finds the outputs pending even on a loaded machine.
      const s = await serve({ events, stepMs: 150 });
      const recorder = recordDelays(20);
      try {
        const updates: AsyncUpdate[] = [];
        const result = await clientFor(s).executeWorkflowAsync(
          'two-outputs',
          { default_value_1: 'poll' },
          undefined,
          1500,
          20_000,
          {
            onIntermediateResponse: (u) => updates.push(u),
          },
        );
        expect(result.data.map((d) => d.generation_status)).toEqual(['success', 'success']);
        expect(result.data[0]).toMatchObject({
          filename: expect.stringMatching(/\.txt$/),
          file_content: 'poll from FlowScale',
        });
        expect(polls(s)).toBeGreaterThan(0);
        // The documented poll interval is what gets scheduled between polls.
        expect(recorder.delays.length).toBeGreaterThan(0);
        expect(new Set(recorder.delays)).toEqual(new Set([1500]));
        const pending = updates.find((u) => u.type === 'output_status' && !u.ready);
        expect(pending).toBeDefined();
        expect(updates.at(-1)?.type).toBe('completed');
      } finally {
        recorder.restore();
      }
    });
  }

  it('mode "poll" never opens the event stream; poll_retry fires on transient errors', async () => {
    const s = await serve();
    const recorder = recordDelays(5);
    try {
      s.inject({ path: /^\/api\/v1\/runs\/[^/]+$/, status: 503, times: 1 });
      const updates: AsyncUpdate[] = [];
      const api = clientFor(s, { retries: 0 });
      const result = await api.executeWorkflowAsync(
        'text-echo',
        { default_value_1: 'p' },
        undefined,
        30,
        20_000,
        {
          mode: 'poll',
          onIntermediateResponse: (u) => updates.push(u),
        },
      );
      expect(result.data[0]?.file_content).toBe('p from FlowScale');
      expect(s.requests.some((r) => r.path.endsWith('/events'))).toBe(false);
      const retry = updates.find((u) => u.type === 'poll_retry');
      expect(retry).toMatchObject({ type: 'poll_retry', attempt: 1, delayMs: 30 });
      expect((retry as { error: FlowScaleError }).error.status).toBe(503);
    } finally {
      recorder.restore();
    }
  });

  it('mode "sse" does not fall back: a server without an event stream is an error', async () => {
    const s = await serve({ events: '404' });
    const error = await clientFor(s)
      .executeWorkflowAsync('text-echo', {}, undefined, 20, 20_000, { mode: 'sse' })
      .catch((e) => e);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error.status).toBe(404);
    expect(polls(s)).toBe(0);
  });

  it('passes per-call headers and groupId through every request it makes', async () => {
    const s = await serve({ events: '404' });
    await clientFor(s).executeWorkflowAsync('text-echo', { default_value_1: 'h' }, 'grp', 20, 20_000, {
      headers: { 'X-Trace': 'async' },
    });
    const traced = s.requests.filter((r) => r.headers['x-trace'] === 'async').map((r) => r.path);
    expect(traced[0]).toBe('/api/v1/runs');
    expect(traced.some((p) => p.endsWith('/events'))).toBe(true);
    expect(traced.some((p) => p === '/api/v1/runs/output')).toBe(true);
    expect(traced).toHaveLength(s.requests.length);
    expect(new URL(s.requests[0]!.url, s.url).searchParams.get('group_id')).toBe('grp');
  });

  it('fails fast in polling mode too', async () => {
    const s = await serve({ events: '404' });
    const error = await clientFor(s)
      .executeWorkflowAsync('fail-node', {}, undefined, 20, 20_000)
      .catch((e) => e);
    expect(error).toBeInstanceOf(RunFailedError);
    expect(error.message).toContain('failed at node 2 (KSampler): Sampler exploded');
  });

  it('times out in polling mode with the documented message', async () => {
    const s = await serve({ events: '404' });
    const error = await clientFor(s)
      .executeWorkflowAsync('hang', {}, undefined, 20, 250)
      .catch((e) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.message).toBe('Workflow execution timed out after 250ms');
  });
});
