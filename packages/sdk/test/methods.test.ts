import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowScaleError, FlowscaleAPI, ValidationError } from '../src/index';
import { clientFor } from './support/client';
import { type ContractServer, startContractServer } from './support/contract-server';

let server: ContractServer;
beforeAll(async () => {
  server = await startContractServer();
});
afterAll(() => server.close());

describe('documented methods against the contract server', () => {
  it('checkHealth, getQueue and getWorkflows return the documented envelopes', async () => {
    const api = clientFor(server);
    expect(await api.checkHealth()).toEqual({
      status: 'success',
      data: [{ container: 'container #1', status: 'idle' }],
    });
    const queue = await api.getQueue();
    expect(queue.data[0]?.queue).toEqual({ queue_running: [], queue_pending: [] });
    const workflows = await api.getWorkflows();
    const echo = workflows.data.find((w) => w.name === 'text-echo')!;
    expect(JSON.parse(echo.inputs)).toEqual({ default_value_1: 'string' });
    expect(server.requestsTo('/api/v1/comfy/health')[0]?.headers['x-api-key']).toBe(server.apiKey);
  });

  it('getWorkflow accepts an id or a name', async () => {
    const api = clientFor(server);
    expect((await api.getWorkflow('text-echo')).data.id).toBe('wf-text-echo');
    expect((await api.getWorkflow('wf-invert-image')).data.name).toBe('invert-image');
    await expect(api.getWorkflow('nope')).rejects.toMatchObject({ status: 404, code: 'not_found' });
  });

  it('executeWorkflow returns run_id and workflow_id; getRun returns the record; groupId is sent', async () => {
    const api = clientFor(server);
    const started = await api.executeWorkflow('text-echo', { default_value_1: 'hi' }, 'group-a');
    expect(started.status).toBe('success');
    expect(started.data.workflow_id).toBe('wf-text-echo');
    const run = await api.getRun(started.data.run_id);
    expect(run.data._id).toBe(started.data.run_id);
    expect(run.data.group_id).toBe('group-a');
    expect(run.data.inputs).toEqual([{ path: 'default_value_1', value: 'hi' }]);
  });

  it('getOutput returns null while the output is pending (204) and the data once ready', async () => {
    const api = clientFor(server);
    const { data } = await api.executeWorkflow('text-echo', { default_value_1: 'ping' });
    const name = (await api.getRun(data.run_id)).data.output_names![0]!;
    expect(await api.getOutput(name)).toBeNull();
    let output = await api.getOutput(name);
    for (let i = 0; !output && i < 200; i++) {
      await new Promise((r) => setTimeout(r, 10));
      output = await api.getOutput(name);
    }
    expect(output).toEqual({
      status: 'success',
      data: { file_content: 'ping from FlowScale', generation_status: 'success' },
    });
    await expect(api.getOutput('filename_prefix_9_NOSUCHRUN0')).rejects.toMatchObject({ status: 404 });
  });

  it('getRuns filters by group and sends paging and sorting', async () => {
    const api = clientFor(server);
    for (const text of ['a', 'b', 'c'])
      await api.executeWorkflow('text-echo', { default_value_1: text }, 'paged');
    const page = await api.getRuns('paged', { page: 2, pageSize: 2, sortBy: 'created_at', sortOrder: 'asc' });
    expect(page.data.count).toBe(3);
    expect(page.data.runs).toHaveLength(1);
    expect(page.meta).toMatchObject({ page: 2, page_size: 2, total_pages: 2, sort_order: 'asc' });
    const last = server
      .requestsTo('/api/v1/runs')
      .filter((r) => r.method === 'GET')
      .pop()!;
    expect(new URL(last.url, server.url).searchParams.toString()).toBe(
      'group_id=paged&page=2&page_size=2&sort_by=created_at&sort_order=asc',
    );
    const all = await api.getRuns();
    expect(all.data.count).toBeGreaterThanOrEqual(3);
  });

  it('cancelRun cancels a running run and a second cancel is a 409 FlowScaleError', async () => {
    const api = clientFor(server);
    const { data } = await api.executeWorkflow('hang', {});
    expect(await api.cancelRun(data.run_id)).toEqual({
      status: 'success',
      data: 'Run cancelled successfully',
    });
    expect((await api.getRun(data.run_id)).data.status).toBe('cancelled');
    const error = await api.cancelRun(data.run_id).catch((e) => e);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error).toMatchObject({ status: 409, code: 'conflict' });
    expect(error.message).toMatch(/^HTTP Error 409 Conflict - Run already finished/);
  });

  it('admin methods: deploy, delete, and the API key lifecycle', async () => {
    const api = clientFor(server);
    const deployed = await api.deployWorkflow({
      name: 'mine',
      workflow: { '1': { class_type: 'X', inputs: {} } },
    });
    expect(deployed.data.id).toBe('wf-mine');
    expect(server.deployed.at(-1)).toMatchObject({ name: 'mine', workflow: { '1': { class_type: 'X' } } });
    expect((await api.deleteWorkflow('wf-mine')).data).toEqual({ deleted: 'wf-mine' });
    const created = await api.createApiKey({ name: 'ci', role: 'user' });
    expect(created.data.key).toMatch(/^fs_/);
    const listed = await api.listApiKeys();
    expect(listed.data.map((k) => k.id)).toContain(created.data.id);
    expect(JSON.stringify(listed.data)).not.toContain(created.data.key);
    await api.revokeApiKey(created.data.id);
    expect((await api.listApiKeys()).data.find((k) => k.id === created.data.id)?.revoked_at).toBeTruthy();
  });

  it('maps 422 to ValidationError with {field, message} details, and 401 to FlowScaleError', async () => {
    const api = clientFor(server);
    const error = await api.deployWorkflow({ name: '', workflow: {} }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toBeInstanceOf(FlowScaleError);
    expect(error.details).toEqual([{ field: 'name', message: 'Field required' }]);
    const denied = await clientFor(server, { apiKey: 'wrong' })
      .checkHealth()
      .catch((e) => e);
    expect(denied).toBeInstanceOf(FlowScaleError);
    expect(denied).not.toBeInstanceOf(ValidationError);
    expect(denied).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('maps FastAPI-style 422 bodies to details', async () => {
    server.inject({
      path: '/api/v1/comfy/workflows',
      status: 422,
      body: { detail: [{ loc: ['body', 'text_1'], msg: 'Field required', type: 'missing' }] },
    });
    const error = await clientFor(server)
      .getWorkflows()
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.details).toEqual([{ field: 'text_1', message: 'Field required' }]);
  });
});

describe('headers and configuration', () => {
  it('custom headers can be updated, read and cleared between requests', async () => {
    const api = clientFor(server, { customHeaders: { 'X-User-ID': 'u1' } });
    await api.checkHealth();
    api.updateCustomHeaders({ Authorization: 'Bearer t2' });
    expect(api.getCustomHeaders()).toEqual({ 'X-User-ID': 'u1', Authorization: 'Bearer t2' });
    await api.checkHealth({ headers: { 'X-Call': 'once' } });
    api.clearCustomHeaders();
    expect(api.getCustomHeaders()).toEqual({});
    await api.checkHealth();
    const [first, second, third] = server
      .requestsTo('/api/v1/comfy/health')
      .slice(-3)
      .map((r) => r.headers);
    expect(first).toMatchObject({ 'x-user-id': 'u1' });
    expect(first?.authorization).toBeUndefined();
    expect(second).toMatchObject({ 'x-user-id': 'u1', authorization: 'Bearer t2', 'x-call': 'once' });
    expect(third?.['x-user-id']).toBeUndefined();
    expect(third?.['x-api-key']).toBe(server.apiKey);
  });

  it('proxyMode needs no key and sends no X-API-KEY, only the custom headers', async () => {
    const proxy = await startContractServer({ requireKey: false });
    try {
      const api = new FlowscaleAPI({
        baseUrl: proxy.url,
        proxyMode: true,
        customHeaders: { Authorization: 'Bearer jwt' },
        enableLogging: false,
      });
      await api.checkHealth();
      await api.executeWorkflow('text-echo', { default_value_1: 'x' });
      for (const request of proxy.requests) {
        expect(request.headers['x-api-key']).toBeUndefined();
        expect(request.headers.authorization).toBe('Bearer jwt');
      }
      expect(proxy.requests).toHaveLength(2);
      // Even a key given by mistake is not sent in proxy mode.
      await new FlowscaleAPI({
        baseUrl: proxy.url,
        proxyMode: true,
        apiKey: 'leak',
        enableLogging: false,
      }).checkHealth();
      expect(proxy.requests.at(-1)?.headers['x-api-key']).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });

  it('requires an apiKey outside proxy mode; sends a User-Agent from customHeaders; strips trailing slashes from baseUrl', async () => {
    expect(() => new FlowscaleAPI({ baseUrl: server.url })).toThrow(/apiKey is required/);
    const api = clientFor(server, {
      baseUrl: `${server.url}//`,
      customHeaders: { 'User-Agent': 'my-app/1.0' },
    });
    await api.getQueue();
    const request = server.requestsTo('/api/v1/comfy/queue').at(-1)!;
    expect(request.headers['user-agent']).toBe('my-app/1.0');
  });

  it('uses fetchImpl and passes an undici-style httpAgent as dispatcher', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const agent = { dispatch: () => true };
    const api = clientFor(server, {
      httpAgent: agent,
      fetchImpl: (url, init) => {
        seen.push({ url, ...(init as Record<string, unknown>) });
        const { dispatcher: _d, ...rest } = init as Record<string, unknown>;
        return fetch(url, rest as RequestInit);
      },
    });
    expect((await api.checkHealth()).status).toBe('success');
    expect(seen[0]?.url).toBe(`${server.url}/api/v1/comfy/health`);
    expect(seen[0]?.dispatcher).toBe(agent);
  });
});
